#include "wick/runtime/memory.h"

namespace wick {

void* MemoryAllocator::take(size_t bytes, size_t alignment) {
  uintptr_t start = reinterpret_cast<uintptr_t>(base_) + used_;
  uintptr_t aligned = (start + alignment - 1) & ~(static_cast<uintptr_t>(alignment) - 1);
  size_t padding = static_cast<size_t>(aligned - start);
  if (base_ == nullptr || used_ + padding > size_ || bytes > size_ - used_ - padding) {
    return nullptr;
  }
  used_ += padding + bytes;
  return reinterpret_cast<void*>(aligned);
}

void* MemoryAllocator::allocate(size_t bytes, size_t alignment) {
  // Alignment is applied to the address, so a caller buffer with any
  // alignment works; `requested_` assumes worst-case padding.
  requested_ += bytes + alignment;
  void* p = take(bytes, alignment);
  if (p != nullptr || refill_ == nullptr) return p;
  // A new block: at least this request, and doubling so a large method needs
  // few blocks.
  size_t want = bytes + alignment;
  if (want < 2 * size_) want = 2 * size_;
  size_t got = 0;
  void* block = refill_(refill_context_, want, &got);
  if (block == nullptr || got < bytes + alignment) return nullptr;
  used_total_ += used_;
  base_ = static_cast<uint8_t*>(block);
  size_ = got;
  used_ = 0;
  return take(bytes, alignment);
}

}  // namespace wick
