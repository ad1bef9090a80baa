#include "wick/runtime/memory.h"

namespace wick {

void* MemoryAllocator::allocate(size_t bytes, size_t alignment) {
  // Alignment is applied to the address, so a caller buffer with any
  // alignment works; `requested_` assumes worst-case padding.
  requested_ += bytes + alignment;
  uintptr_t start = reinterpret_cast<uintptr_t>(base_) + used_;
  uintptr_t aligned = (start + alignment - 1) & ~(static_cast<uintptr_t>(alignment) - 1);
  size_t padding = static_cast<size_t>(aligned - start);
  if (base_ == nullptr || used_ + padding > size_ || bytes > size_ - used_ - padding) {
    return nullptr;
  }
  used_ += padding + bytes;
  return reinterpret_cast<void*>(aligned);
}

}  // namespace wick
