#include "wick/runtime/tensor.h"

#include <cstdio>

namespace wick {

const char* format_shape(const int64_t* sizes, int dim, char* buf, size_t buf_size) {
  if (buf_size == 0) return buf;
  size_t used = 0;
  auto append = [&](const char* text) {
    while (*text && used + 1 < buf_size) buf[used++] = *text++;
  };
  append("[");
  char item[24];
  for (int i = 0; i < dim; ++i) {
    std::snprintf(item, sizeof(item), i == 0 ? "%lld" : ", %lld", static_cast<long long>(sizes[i]));
    append(item);
  }
  append("]");
  buf[used] = '\0';
  return buf;
}

Error resize_tensor(Tensor& t, const int64_t* sizes, int dim) {
  bool same = dim == t.dim;
  int64_t numel = 1;
  for (int i = 0; i < dim; ++i) {
    if (sizes[i] < 0) {
      return fail(Error::InvalidArgument, "negative size %lld in dimension %d", static_cast<long long>(sizes[i]), i);
    }
    numel *= sizes[i];
    if (same && sizes[i] != t.sizes[i]) same = false;
  }
  if (same) return Error::Ok;
  if (dim > kMaxDims) {
    return fail(Error::NotSupported, "tensor rank %d exceeds the runtime's maximum of %d", dim, kMaxDims);
  }
  char want[128], have[128];
  if (!t.dynamic) {
    return fail(Error::ShapeMismatch, "cannot resize a static tensor of shape %s to %s",
                format_shape(t.sizes, t.dim, have, sizeof(have)), format_shape(sizes, dim, want, sizeof(want)));
  }
  if (static_cast<size_t>(numel) * element_size(t.dtype) > t.capacity) {
    return fail(Error::ShapeMismatch, "shape %s needs %zu bytes, more than the %zu planned for this tensor (upper bound %s)",
                format_shape(sizes, dim, want, sizeof(want)), static_cast<size_t>(numel) * element_size(t.dtype),
                t.capacity, format_shape(t.sizes, t.dim, have, sizeof(have)));
  }
  if (dim != t.dim) {
    for (int i = 0; i < dim; ++i) t.dim_order[i] = static_cast<uint8_t>(i);
  }
  t.dim = dim;
  for (int i = 0; i < dim; ++i) t.sizes[i] = sizes[i];
  return Error::Ok;
}

}  // namespace wick
