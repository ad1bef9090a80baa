// Memory the runtime uses comes from two caller-visible places:
//  - a MemoryAllocator (bump allocator over a caller buffer) for the method's
//    bookkeeping: values, tensors, argument tables, kernel scratch;
//  - the activation arena, sized by the program's memory plan.
// Both are handed in by the caller; the core never calls malloc.
#pragma once

#include <cstddef>
#include <cstdint>

namespace wick {

class MemoryAllocator {
 public:
  MemoryAllocator(void* base, size_t size) : base_(static_cast<uint8_t*>(base)), size_(size) {}

  // Returns aligned memory, or null when the buffer is exhausted. `requested()`
  // keeps counting past exhaustion so a caller can retry with enough.
  void* allocate(size_t bytes, size_t alignment = 16);

  template <typename T>
  T* allocate_array(size_t count) {
    return static_cast<T*>(allocate(sizeof(T) * count, alignof(T) > 16 ? alignof(T) : 16));
  }

  size_t used() const { return used_; }
  size_t requested() const { return requested_; }
  size_t capacity() const { return size_; }

 private:
  uint8_t* base_;
  size_t size_;
  size_t used_ = 0;
  size_t requested_ = 0;
};

}  // namespace wick
