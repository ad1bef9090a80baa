// A tensor as the runtime sees it: a borrowed data pointer plus its current
// shape. Storage is never owned here: it lives in the planned arena, in the
// mapped program file (constants), or in the caller's buffer (inputs).
#pragma once

#include <cstddef>
#include <cstdint>

#include "wick/runtime/error.h"
#include "wick/runtime/scalar_type.h"

namespace wick {

constexpr int kMaxDims = 8;

struct Tensor {
  void* data = nullptr;
  ScalarType dtype = ScalarType::Float32;
  int32_t dim = 0;
  int64_t sizes[kMaxDims] = {};
  // Memory order of dimensions, outermost first (identity when contiguous).
  uint8_t dim_order[kMaxDims] = {};
  // Bytes reserved for this tensor: its planned (upper-bound) size.
  size_t capacity = 0;
  // Whether the shape may change at run time (within `capacity`).
  bool dynamic = false;

  int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < dim; ++i) n *= sizes[i];
    return n;
  }
  size_t nbytes() const { return static_cast<size_t>(numel()) * element_size(dtype); }
  int64_t size(int d) const { return sizes[d < 0 ? d + dim : d]; }
  bool is_contiguous() const {
    for (int i = 0; i < dim; ++i)
      if (dim_order[i] != i) return false;
    return true;
  }
  template <typename T>
  T* data_as() const { return static_cast<T*>(data); }
};

// Sets `t`'s shape. Fails with ShapeMismatch, naming both shapes, when the new
// shape needs more bytes than were planned; a static tensor may only be
// "resized" to the shape it already has.
Error resize_tensor(Tensor& t, const int64_t* sizes, int dim);

// Writes "[1, 3, 224, 224]" into `buf` (always terminated); returns buf.
const char* format_shape(const int64_t* sizes, int dim, char* buf, size_t buf_size);

}  // namespace wick
