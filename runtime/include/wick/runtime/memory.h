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

  // Optional: where more memory comes from once the buffer is exhausted (a
  // host's heap, at load time). `refill` returns a block of at least
  // `min_bytes` and sets `*got` to its size, or returns null. Without one the
  // buffer is all there is, as on a target without a heap.
  using Refill = void* (*)(void* context, size_t min_bytes, size_t* got);
  void set_refill(Refill refill, void* context) {
    refill_ = refill;
    refill_context_ = context;
  }

  // Bytes handed out (across refills) and the size of the current block.
  size_t used() const { return used_total_ + used_; }
  size_t requested() const { return requested_; }
  size_t capacity() const { return size_; }

 private:
  void* take(size_t bytes, size_t alignment);

  uint8_t* base_;
  size_t size_;
  size_t used_ = 0;
  size_t used_total_ = 0;  // of blocks before the current one
  size_t requested_ = 0;
  Refill refill_ = nullptr;
  void* refill_context_ = nullptr;
};

}  // namespace wick
