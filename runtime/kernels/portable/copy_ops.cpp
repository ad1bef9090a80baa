// Data-movement ops, for every dtype (byte-wise by element size): view_copy,
// permute_copy, expand_copy, alias_copy, clone, slice_copy, split_with_sizes_copy,
// unsqueeze_copy, squeeze_copy (dims / dim), select_copy, diagonal_copy,
// as_strided_copy, flip, repeat, select_scatter, slice_scatter, cat. Contiguous copies also convert
// when the out tensor has another dtype (PyTorch copies with a cast into out=);
// strided ones require the same dtype. cat promotes its inputs like PyTorch.
// All but cat and select_scatter also move complex tensors (same dtype only),
// e.g. the slice torch.fft.irfft takes of a spectrum.
#include <cstdint>
#include <algorithm>
#include <cstring>

#include "portable/util.h"

namespace wick {
namespace portable {
namespace {

Error check_castable(KernelContext& ctx, ScalarType from, ScalarType to) {
  if (!can_cast(from, to)) {
    return fail(Error::InvalidArgument, "%s: result type %s can't be cast to the desired output type %s",
                ctx.op_name, scalar_type_name(from), scalar_type_name(to));
  }
  return Error::Ok;
}

// Resizes out to `sizes` and copies self's elements in order (same numel).
Error contiguous_copy(KernelContext& ctx, const Tensor& self, Tensor& out, const int64_t* sizes, int dim) {
  WICK_TRY(check_castable(ctx, self.dtype, out.dtype));
  WICK_TRY(resize(ctx, out, sizes, dim));
  convert_elements(self.data, self.dtype, out.data, out.dtype, self.numel());
  return Error::Ok;
}

Error strided_into(KernelContext& ctx, const Tensor& self, Tensor& out, const int64_t* sizes, int dim,
                   const int64_t* src_strides, int64_t src_offset) {
  if (self.dtype != out.dtype) {
    return fail(Error::NotSupported, "%s: out dtype %s differs from the input's %s", ctx.op_name,
                scalar_type_name(out.dtype), scalar_type_name(self.dtype));
  }
  WICK_TRY(resize(ctx, out, sizes, dim));
  if (out.numel() == 0) return Error::Ok;
  if (out.data == self.data) {
    return fail(Error::InvalidArgument, "%s: output may not alias the input", ctx.op_name);
  }
  const size_t es = element_size(self.dtype);
  strided_copy(static_cast<const unsigned char*>(self.data) + src_offset * static_cast<int64_t>(es), out.data, es,
               sizes, dim, src_strides);
  return Error::Ok;
}

// view_copy.out(self, size, out)
Error view_copy_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 3));
  Tensor *self, *out;
  const int64_t* size;
  int n;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_int_list(ctx, args, 1, &size, &n));
  WICK_TRY(get_tensor(ctx, args, 2, &out));
  if (n > kMaxDims) return fail(Error::NotSupported, "%s: rank %d exceeds %d", ctx.op_name, n, kMaxDims);
  int64_t sizes[kMaxDims];
  int infer = -1;
  int64_t known = 1;
  for (int i = 0; i < n; ++i) {
    if (size[i] == -1) {
      if (infer >= 0) return fail(Error::InvalidArgument, "%s: only one dimension can be inferred", ctx.op_name);
      infer = i;
    } else if (size[i] < 0) {
      return fail(Error::InvalidArgument, "%s: invalid shape dimension %lld", ctx.op_name,
                  static_cast<long long>(size[i]));
    } else {
      known *= size[i];
    }
    sizes[i] = size[i];
  }
  const int64_t numel = self->numel();
  if (infer >= 0) {
    if (known == 0 || numel % known != 0) {
      return fail(Error::InvalidArgument, "%s: shape '%s' is invalid for input of size %lld", ctx.op_name,
                  shape_str(size, n), static_cast<long long>(numel));
    }
    sizes[infer] = numel / known;
  } else if (known != numel) {
    return fail(Error::InvalidArgument, "%s: shape '%s' is invalid for input of size %lld", ctx.op_name,
                shape_str(size, n), static_cast<long long>(numel));
  }
  return contiguous_copy(ctx, *self, *out, sizes, n);
}

// permute_copy.out(self, dims, out)
Error permute_copy_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 3));
  Tensor *self, *out;
  const int64_t* dims;
  int n;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_int_list(ctx, args, 1, &dims, &n));
  WICK_TRY(get_tensor(ctx, args, 2, &out));
  if (n != self->dim) {
    return fail(Error::InvalidArgument, "%s: number of dims (%d) doesn't match the input rank %d", ctx.op_name, n,
                self->dim);
  }
  int64_t in_strides[kMaxDims], sizes[kMaxDims], strides[kMaxDims];
  contiguous_strides(self->sizes, self->dim, in_strides);
  bool seen[kMaxDims] = {};
  for (int i = 0; i < n; ++i) {
    int d;
    WICK_TRY(normalize_dim(ctx, dims[i], self->dim, &d));
    if (seen[d]) return fail(Error::InvalidArgument, "%s: repeated dim %d in permutation", ctx.op_name, d);
    seen[d] = true;
    sizes[i] = self->sizes[d];
    strides[i] = in_strides[d];
  }
  return strided_into(ctx, *self, *out, sizes, n, strides, 0);
}

// expand_copy.out(self, size, implicit, out)
Error expand_copy_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 4));
  Tensor *self, *out;
  const int64_t* size;
  int n;
  bool implicit;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_int_list(ctx, args, 1, &size, &n));
  WICK_TRY(get_bool(ctx, args, 2, &implicit));
  WICK_TRY(get_tensor(ctx, args, 3, &out));
  if (n < self->dim) {
    return fail(Error::InvalidArgument,
                "%s: the number of sizes provided (%d) must be greater or equal to the number of dimensions in the "
                "tensor (%d)", ctx.op_name, n, self->dim);
  }
  if (n > kMaxDims) return fail(Error::NotSupported, "%s: rank %d exceeds %d", ctx.op_name, n, kMaxDims);
  int64_t in_strides[kMaxDims], sizes[kMaxDims], strides[kMaxDims];
  contiguous_strides(self->sizes, self->dim, in_strides);
  const int lead = n - self->dim;
  for (int i = 0; i < n; ++i) {
    if (i < lead) {
      if (size[i] < 0) {
        return fail(Error::InvalidArgument, "%s: the expanded size %lld is not allowed in a leading, non-existing "
                    "dimension %d", ctx.op_name, static_cast<long long>(size[i]), i);
      }
      sizes[i] = size[i];
      strides[i] = 0;
      continue;
    }
    const int64_t cur = self->sizes[i - lead];
    if (size[i] == -1 || size[i] == cur) {
      sizes[i] = cur;
      strides[i] = in_strides[i - lead];
    } else if (cur == 1 && size[i] >= 0) {
      sizes[i] = size[i];
      strides[i] = 0;
    } else {
      return fail(Error::InvalidArgument,
                  "%s: the expanded size of the tensor (%lld) must match the existing size (%lld) at non-singleton "
                  "dimension %d; target sizes %s, tensor sizes %s", ctx.op_name, static_cast<long long>(size[i]),
                  static_cast<long long>(cur), i, shape_str(size, n), shape_str(*self));
    }
  }
  return strided_into(ctx, *self, *out, sizes, n, strides, 0);
}

// alias_copy.out(self, out)
Error alias_copy_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 2));
  Tensor *self, *out;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_tensor(ctx, args, 1, &out));
  return contiguous_copy(ctx, *self, *out, self->sizes, self->dim);
}

// clone.out(self, memory_format?, out)
Error clone_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 3));
  Tensor *self, *out;
  int64_t fmt;
  bool has_fmt;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_opt_int(ctx, args, 1, &fmt, &has_fmt));
  WICK_TRY(get_tensor(ctx, args, 2, &out));
  // 0 = contiguous_format, 1 = preserve_format (contiguous here); others not supported
  if (has_fmt && fmt != 0 && fmt != 1) {
    return fail(Error::NotSupported, "%s: memory_format code %lld is not supported (contiguous tensors only)",
                ctx.op_name, static_cast<long long>(fmt));
  }
  return contiguous_copy(ctx, *self, *out, self->sizes, self->dim);
}

// slice_copy.Tensor_out(self, dim, start?, end?, step, out)
Error slice_copy_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 6));
  Tensor *self, *out;
  int64_t dim_arg, start, end, step;
  bool has_start, has_end;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_int(ctx, args, 1, &dim_arg));
  WICK_TRY(get_opt_int(ctx, args, 2, &start, &has_start));
  WICK_TRY(get_opt_int(ctx, args, 3, &end, &has_end));
  WICK_TRY(get_int(ctx, args, 4, &step));
  WICK_TRY(get_tensor(ctx, args, 5, &out));
  if (self->dim == 0) return fail(Error::InvalidArgument, "%s: slice() cannot be applied to a 0-dim tensor", ctx.op_name);
  if (step <= 0) return fail(Error::InvalidArgument, "%s: slice step must be positive, got %lld", ctx.op_name,
                             static_cast<long long>(step));
  int dim;
  WICK_TRY(normalize_dim(ctx, dim_arg, self->dim, &dim));
  const int64_t size = self->sizes[dim];
  if (!has_start) start = 0;
  if (!has_end) end = INT64_MAX;
  if (start < 0) start += size;
  if (end < 0) end += size;
  if (start < 0) start = 0;
  else if (start >= size) start = size;
  if (end < start) end = start;
  else if (end >= size) end = size;
  const int64_t len = (end - start + step - 1) / step;
  int64_t in_strides[kMaxDims], sizes[kMaxDims], strides[kMaxDims];
  contiguous_strides(self->sizes, self->dim, in_strides);
  for (int i = 0; i < self->dim; ++i) {
    sizes[i] = self->sizes[i];
    strides[i] = in_strides[i];
  }
  sizes[dim] = len;
  strides[dim] = in_strides[dim] * step;
  return strided_into(ctx, *self, *out, sizes, self->dim, strides, start * in_strides[dim]);
}

// split_with_sizes_copy.out(self, split_sizes, dim, out[])
Error split_with_sizes_copy_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 4));
  Tensor* self;
  const int64_t* splits;
  int n;
  int64_t dim_arg;
  Tensor* const* outs;
  int num_outs;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_int_list(ctx, args, 1, &splits, &n));
  WICK_TRY(get_int(ctx, args, 2, &dim_arg));
  WICK_TRY(get_tensor_list(ctx, args, 3, &outs, &num_outs));
  if (self->dim == 0) return fail(Error::InvalidArgument, "%s: cannot split a 0-dim tensor", ctx.op_name);
  int dim;
  WICK_TRY(normalize_dim(ctx, dim_arg, self->dim, &dim));
  if (num_outs != n) {
    return fail(Error::InvalidArgument, "%s: %d split sizes but %d output tensors", ctx.op_name, n, num_outs);
  }
  int64_t total = 0;
  for (int i = 0; i < n; ++i) {
    if (splits[i] < 0) {
      return fail(Error::InvalidArgument, "%s: split size %lld must be non-negative", ctx.op_name,
                  static_cast<long long>(splits[i]));
    }
    total += splits[i];
  }
  if (total != self->sizes[dim]) {
    return fail(Error::InvalidArgument, "%s: split sizes add up to %lld but dimension %d has size %lld", ctx.op_name,
                static_cast<long long>(total), dim, static_cast<long long>(self->sizes[dim]));
  }
  int64_t in_strides[kMaxDims], sizes[kMaxDims];
  contiguous_strides(self->sizes, self->dim, in_strides);
  for (int i = 0; i < self->dim; ++i) sizes[i] = self->sizes[i];
  int64_t offset = 0;
  for (int k = 0; k < n; ++k) {
    sizes[dim] = splits[k];
    WICK_TRY(strided_into(ctx, *self, *outs[k], sizes, self->dim, in_strides, offset * in_strides[dim]));
    offset += splits[k];
  }
  return Error::Ok;
}

// unsqueeze_copy.out(self, dim, out)
Error unsqueeze_copy_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 3));
  Tensor *self, *out;
  int64_t dim_arg;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_int(ctx, args, 1, &dim_arg));
  WICK_TRY(get_tensor(ctx, args, 2, &out));
  if (self->dim + 1 > kMaxDims) return fail(Error::NotSupported, "%s: rank too large", ctx.op_name);
  const int64_t r = self->dim + 1;
  if (dim_arg < -r || dim_arg >= r) {
    return fail(Error::InvalidArgument, "%s: dimension %lld out of range (expected to be in [%lld, %lld])",
                ctx.op_name, static_cast<long long>(dim_arg), static_cast<long long>(-r), static_cast<long long>(r - 1));
  }
  const int dim = static_cast<int>(dim_arg < 0 ? dim_arg + r : dim_arg);
  int64_t sizes[kMaxDims];
  for (int i = 0, j = 0; i < r; ++i) sizes[i] = i == dim ? 1 : self->sizes[j++];
  return contiguous_copy(ctx, *self, *out, sizes, static_cast<int>(r));
}

// squeeze_copy.dims_out(self, dim[], out)
Error squeeze_copy_dims_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 3));
  Tensor *self, *out;
  const int64_t* dims;
  int n;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_int_list(ctx, args, 1, &dims, &n));
  WICK_TRY(get_tensor(ctx, args, 2, &out));
  bool drop[kMaxDims] = {};
  for (int k = 0; k < n; ++k) {
    int d;
    WICK_TRY(normalize_dim(ctx, dims[k], self->dim, &d));
    if (self->dim > 0 && self->sizes[d] == 1) drop[d] = true;
  }
  int64_t sizes[kMaxDims];
  int r = 0;
  for (int i = 0; i < self->dim; ++i)
    if (!drop[i]) sizes[r++] = self->sizes[i];
  return contiguous_copy(ctx, *self, *out, sizes, r);
}

// cat.out(tensors[], dim, out)
Error cat_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 3));
  Tensor* const* ts;
  int n;
  int64_t dim_arg;
  Tensor* out;
  WICK_TRY(get_tensor_list(ctx, args, 0, &ts, &n));
  WICK_TRY(get_int(ctx, args, 1, &dim_arg));
  WICK_TRY(get_tensor(ctx, args, 2, &out));
  if (n == 0) return fail(Error::InvalidArgument, "%s: expected a non-empty list of tensors", ctx.op_name);
  // Legacy rule: 1-D tensors of size 0 are skipped.
  auto skipped = [](const Tensor* t) { return t->dim == 1 && t->sizes[0] == 0; };
  const Tensor* ref = nullptr;
  ScalarType result = ts[0]->dtype;
  for (int k = 0; k < n; ++k) {
    if (k > 0) result = promote_types(result, ts[k]->dtype);
    if (ref == nullptr && !skipped(ts[k])) ref = ts[k];
  }
  WICK_TRY(check_castable(ctx, result, out->dtype));
  if (ref == nullptr) {
    const int64_t empty[1] = {0};
    return resize(ctx, *out, empty, 1);
  }
  if (ref->dim == 0) {
    return fail(Error::InvalidArgument, "%s: zero-dimensional tensor cannot be concatenated", ctx.op_name);
  }
  int dim;
  WICK_TRY(normalize_dim(ctx, dim_arg, ref->dim, &dim));
  int64_t sizes[kMaxDims];
  for (int i = 0; i < ref->dim; ++i) sizes[i] = ref->sizes[i];
  sizes[dim] = 0;
  for (int k = 0; k < n; ++k) {
    const Tensor* t = ts[k];
    if (skipped(t)) continue;
    if (t->dim != ref->dim) {
      return fail(Error::InvalidArgument, "%s: tensors must have the same number of dimensions: got %d and %d",
                  ctx.op_name, ref->dim, t->dim);
    }
    for (int i = 0; i < t->dim; ++i) {
      if (i != dim && t->sizes[i] != ref->sizes[i]) {
        return fail(Error::InvalidArgument,
                    "%s: sizes of tensors must match except in dimension %d; got %s and %s (tensor %d)", ctx.op_name,
                    dim, shape_str(*ref), shape_str(*t), k);
      }
    }
    if (t->data == out->data && t->numel() > 0) {
      return fail(Error::InvalidArgument, "%s: output may not alias input %d", ctx.op_name, k);
    }
    sizes[dim] += t->sizes[dim];
  }
  WICK_TRY(resize(ctx, *out, sizes, ref->dim));
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < dim; ++i) outer *= sizes[i];
  for (int i = dim + 1; i < ref->dim; ++i) inner *= sizes[i];
  const size_t oes = element_size(out->dtype);
  unsigned char* o = static_cast<unsigned char*>(out->data);
  const int64_t out_row = sizes[dim] * inner;
  int64_t col = 0;
  for (int k = 0; k < n; ++k) {
    const Tensor* t = ts[k];
    if (skipped(t)) continue;
    const int64_t chunk = t->sizes[dim] * inner;
    const size_t ies = element_size(t->dtype);
    if (chunk > 0) {
      for (int64_t r = 0; r < outer; ++r) {
        convert_elements(static_cast<const unsigned char*>(t->data) + r * chunk * static_cast<int64_t>(ies),
                         t->dtype, o + (r * out_row + col) * static_cast<int64_t>(oes), out->dtype, chunk);
      }
    }
    col += chunk;
  }
  return Error::Ok;
}

// select_copy.int_out(self, dim, index, out)
Error select_copy_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 4));
  Tensor *self, *out;
  int64_t dim_arg, index;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_int(ctx, args, 1, &dim_arg));
  WICK_TRY(get_int(ctx, args, 2, &index));
  WICK_TRY(get_tensor(ctx, args, 3, &out));
  if (self->dim == 0) return fail(Error::InvalidArgument, "%s: select() cannot be applied to a 0-dim tensor", ctx.op_name);
  int dim;
  WICK_TRY(normalize_dim(ctx, dim_arg, self->dim, &dim));
  const int64_t size = self->sizes[dim];
  if (index < -size || index >= size) {
    return fail(Error::InvalidArgument, "%s: index %lld out of range for tensor of size %lld at dimension %d",
                ctx.op_name, static_cast<long long>(index), static_cast<long long>(size), dim);
  }
  if (index < 0) index += size;
  int64_t in_strides[kMaxDims], sizes[kMaxDims], strides[kMaxDims];
  contiguous_strides(self->sizes, self->dim, in_strides);
  int r = 0;
  for (int d = 0; d < self->dim; ++d) {
    if (d == dim) continue;
    sizes[r] = self->sizes[d];
    strides[r++] = in_strides[d];
  }
  return strided_into(ctx, *self, *out, sizes, r, strides, index * in_strides[dim]);
}

// diagonal_copy.out(self, offset, dim1, dim2, out)
Error diagonal_copy_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 5));
  Tensor *self, *out;
  int64_t offset, a1, a2;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_int(ctx, args, 1, &offset));
  WICK_TRY(get_int(ctx, args, 2, &a1));
  WICK_TRY(get_int(ctx, args, 3, &a2));
  WICK_TRY(get_tensor(ctx, args, 4, &out));
  int d1, d2;
  WICK_TRY(normalize_dim(ctx, a1, self->dim, &d1));
  WICK_TRY(normalize_dim(ctx, a2, self->dim, &d2));
  if (d1 == d2) return fail(Error::InvalidArgument, "%s: diagonal dimensions cannot be identical %d, %d", ctx.op_name, d1, d2);
  int64_t in_strides[kMaxDims], sizes[kMaxDims], strides[kMaxDims];
  contiguous_strides(self->sizes, self->dim, in_strides);
  int64_t len, start = 0;
  if (offset >= 0) {
    len = std::max<int64_t>(std::min(self->sizes[d1], self->sizes[d2] - offset), 0);
    start = offset * in_strides[d2];
  } else {
    len = std::max<int64_t>(std::min(self->sizes[d1] + offset, self->sizes[d2]), 0);
    start = -offset * in_strides[d1];
  }
  if (len == 0) start = 0;
  int r = 0;
  for (int d = 0; d < self->dim; ++d) {
    if (d == d1 || d == d2) continue;
    sizes[r] = self->sizes[d];
    strides[r++] = in_strides[d];
  }
  sizes[r] = len;
  strides[r++] = in_strides[d1] + in_strides[d2];
  return strided_into(ctx, *self, *out, sizes, r, strides, start);
}

// as_strided_copy.out(self, size, stride, storage_offset?, out): reads self's
// contiguous storage through the given strides (every access bounds-checked).
Error as_strided_copy_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 5));
  Tensor *self, *out;
  const int64_t *size, *stride;
  int n, ns;
  int64_t offset;
  bool has_offset;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_int_list(ctx, args, 1, &size, &n));
  WICK_TRY(get_int_list(ctx, args, 2, &stride, &ns));
  WICK_TRY(get_opt_int(ctx, args, 3, &offset, &has_offset));
  WICK_TRY(get_tensor(ctx, args, 4, &out));
  if (n != ns) return fail(Error::InvalidArgument, "%s: mismatch in length of strides and shape", ctx.op_name);
  if (n > kMaxDims) return fail(Error::NotSupported, "%s: rank %d exceeds %d", ctx.op_name, n, kMaxDims);
  if (!has_offset) offset = 0;
  int64_t max_off = offset, numel = 1;
  for (int d = 0; d < n; ++d) {
    if (size[d] < 0 || stride[d] < 0) return fail(Error::InvalidArgument, "%s: negative size or stride", ctx.op_name);
    numel *= size[d];
    if (size[d] > 0) max_off += (size[d] - 1) * stride[d];
  }
  if (numel > 0 && (offset < 0 || max_off >= self->numel())) {
    return fail(Error::InvalidArgument, "%s: setStorage: sizes %s, strides %s and storage offset %lld are out of "
                "bounds for storage of %lld elements", ctx.op_name, shape_str(size, n), shape_str(stride, n),
                static_cast<long long>(offset), static_cast<long long>(self->numel()));
  }
  int64_t sizes[kMaxDims], strides[kMaxDims];
  for (int d = 0; d < n; ++d) {
    sizes[d] = size[d];
    strides[d] = stride[d];
  }
  return strided_into(ctx, *self, *out, sizes, n, strides, offset);
}

// squeeze_copy.dim_out(self, dim, out)
Error squeeze_copy_dim_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 3));
  Tensor *self, *out;
  int64_t dim_arg;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_int(ctx, args, 1, &dim_arg));
  WICK_TRY(get_tensor(ctx, args, 2, &out));
  int dim;
  WICK_TRY(normalize_dim(ctx, dim_arg, self->dim, &dim));
  int64_t sizes[kMaxDims];
  int r = 0;
  for (int i = 0; i < self->dim; ++i)
    if (!(i == dim && self->sizes[i] == 1)) sizes[r++] = self->sizes[i];
  return contiguous_copy(ctx, *self, *out, sizes, r);
}

// flip.out(self, dims, out)
Error flip_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 3));
  Tensor *self, *out;
  const int64_t* dims;
  int n;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_int_list(ctx, args, 1, &dims, &n));
  WICK_TRY(get_tensor(ctx, args, 2, &out));
  int64_t strides[kMaxDims];
  contiguous_strides(self->sizes, self->dim, strides);
  bool flip[kMaxDims] = {};
  for (int k = 0; k < n; ++k) {
    int d;
    WICK_TRY(normalize_dim(ctx, dims[k], self->dim, &d));
    if (flip[d]) return fail(Error::InvalidArgument, "%s: dim %d appears multiple times in the list of dims", ctx.op_name, d);
    flip[d] = true;
  }
  int64_t offset = 0;
  for (int d = 0; d < self->dim; ++d) {
    if (flip[d] && self->sizes[d] > 0) {
      offset += (self->sizes[d] - 1) * strides[d];
      strides[d] = -strides[d];
    }
  }
  return strided_into(ctx, *self, *out, self->sizes, self->dim, strides, offset);
}

// repeat.out(self, repeats, out): tiles self; repeats may add leading dims.
Error repeat_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 3));
  Tensor *self, *out;
  const int64_t* reps;
  int n;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_int_list(ctx, args, 1, &reps, &n));
  WICK_TRY(get_tensor(ctx, args, 2, &out));
  if (n < self->dim) {
    return fail(Error::InvalidArgument, "%s: number of dimensions of repeat dims (%d) can not be smaller than number "
                "of dimensions of tensor (%d)", ctx.op_name, n, self->dim);
  }
  if (2 * n > kMaxDims * 2 || n > kMaxDims) return fail(Error::NotSupported, "%s: rank %d exceeds %d", ctx.op_name, n, kMaxDims);
  // View the output as [r0, s0, r1, s1, ...] over padded self sizes; the
  // source strides are 0 on the repeat dims.
  const int lead = n - self->dim;
  int64_t in_strides[kMaxDims];
  contiguous_strides(self->sizes, self->dim, in_strides);
  int64_t out_sizes[kMaxDims];
  for (int d = 0; d < n; ++d) {
    if (reps[d] < 0) return fail(Error::InvalidArgument, "%s: repeats can not be negative", ctx.op_name);
    const int64_t s = d < lead ? 1 : self->sizes[d - lead];
    out_sizes[d] = s * reps[d];
  }
  WICK_TRY(check_castable(ctx, self->dtype, out->dtype));
  if (self->dtype != out->dtype) return fail(Error::NotSupported, "%s: out dtype differs from the input's", ctx.op_name);
  WICK_TRY(resize(ctx, *out, out_sizes, n));
  const int64_t total = out->numel();
  if (total == 0) return Error::Ok;
  const size_t es = element_size(self->dtype);
  const unsigned char* s = static_cast<const unsigned char*>(self->data);
  unsigned char* o = static_cast<unsigned char*>(out->data);
  int64_t idx[kMaxDims] = {};
  for (int64_t i = 0; i < total; ++i) {
    int64_t off = 0;
    for (int d = lead; d < n; ++d) off += (idx[d] % self->sizes[d - lead]) * in_strides[d - lead];
    std::memcpy(o + i * es, s + off * es, es);
    for (int d = n - 1; d >= 0; --d) {
      if (++idx[d] < out_sizes[d]) break;
      idx[d] = 0;
    }
  }
  return Error::Ok;
}

// Shared by select_scatter / slice_scatter: out = self with the strided view
// (sizes/strides from `offset`) overwritten by src.
Error scatter_view(KernelContext& ctx, const Tensor& self, const Tensor& src, Tensor& out, const int64_t* sizes,
                   int dim, const int64_t* strides, int64_t offset) {
  if (self.dtype != out.dtype || src.dtype != self.dtype) {
    return fail(Error::InvalidArgument, "%s: self, src and out must share a dtype (got %s, %s, %s)", ctx.op_name,
                scalar_type_name(self.dtype), scalar_type_name(src.dtype), scalar_type_name(out.dtype));
  }
  int64_t n = 1;
  for (int d = 0; d < dim; ++d) n *= sizes[d];
  if (src.numel() != n || src.dim != dim) {
    return fail(Error::InvalidArgument, "%s: expected src to have a size equal to the slice of self: %s, got %s",
                ctx.op_name, shape_str(sizes, dim), shape_str(src));
  }
  for (int d = 0; d < dim; ++d) {
    if (src.sizes[d] != sizes[d]) {
      return fail(Error::InvalidArgument, "%s: expected src to have a size equal to the slice of self: %s, got %s",
                  ctx.op_name, shape_str(sizes, dim), shape_str(src));
    }
  }
  WICK_TRY(resize(ctx, out, self.sizes, self.dim));
  if (out.data != self.data && self.nbytes() > 0) std::memcpy(out.data, self.data, self.nbytes());
  if (n == 0) return Error::Ok;
  const size_t es = element_size(self.dtype);
  int64_t st[1][kMaxDims];
  for (int d = 0; d < dim; ++d) st[0][d] = strides[d];
  const unsigned char* s = static_cast<const unsigned char*>(src.data);
  unsigned char* o = static_cast<unsigned char*>(out.data) + offset * static_cast<int64_t>(es);
  int64_t i = 0;
  for_each_row<1>(sizes, dim, st, [&](const int64_t* offs, int64_t cnt, const int64_t* inner) {
    for (int64_t k = 0; k < cnt; ++k, ++i) std::memcpy(o + (offs[0] + k * inner[0]) * static_cast<int64_t>(es), s + i * static_cast<int64_t>(es), es);
  });
  return Error::Ok;
}

// select_scatter.out(self, src, dim, index, out)
Error select_scatter_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 5));
  Tensor *self, *src, *out;
  int64_t dim_arg, index;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_tensor(ctx, args, 1, &src));
  WICK_TRY(get_int(ctx, args, 2, &dim_arg));
  WICK_TRY(get_int(ctx, args, 3, &index));
  WICK_TRY(get_tensor(ctx, args, 4, &out));
  if (self->dim == 0) return fail(Error::InvalidArgument, "%s: cannot select from a 0-dim tensor", ctx.op_name);
  int dim;
  WICK_TRY(normalize_dim(ctx, dim_arg, self->dim, &dim));
  const int64_t size = self->sizes[dim];
  if (index < -size || index >= size) {
    return fail(Error::InvalidArgument, "%s: index %lld out of range for dimension %d of size %lld", ctx.op_name,
                static_cast<long long>(index), dim, static_cast<long long>(size));
  }
  if (index < 0) index += size;
  int64_t in_strides[kMaxDims], sizes[kMaxDims], strides[kMaxDims];
  contiguous_strides(self->sizes, self->dim, in_strides);
  int r = 0;
  for (int d = 0; d < self->dim; ++d) {
    if (d == dim) continue;
    sizes[r] = self->sizes[d];
    strides[r++] = in_strides[d];
  }
  return scatter_view(ctx, *self, *src, *out, sizes, r, strides, index * in_strides[dim]);
}

// slice_scatter.out(self, src, dim, start?, end?, step, out)
Error slice_scatter_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 7));
  Tensor *self, *src, *out;
  int64_t dim_arg, start, end, step;
  bool has_start, has_end;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_tensor(ctx, args, 1, &src));
  WICK_TRY(get_int(ctx, args, 2, &dim_arg));
  WICK_TRY(get_opt_int(ctx, args, 3, &start, &has_start));
  WICK_TRY(get_opt_int(ctx, args, 4, &end, &has_end));
  WICK_TRY(get_int(ctx, args, 5, &step));
  WICK_TRY(get_tensor(ctx, args, 6, &out));
  if (self->dim == 0) return fail(Error::InvalidArgument, "%s: cannot slice a 0-dim tensor", ctx.op_name);
  if (step <= 0) return fail(Error::InvalidArgument, "%s: slice step must be positive", ctx.op_name);
  int dim;
  WICK_TRY(normalize_dim(ctx, dim_arg, self->dim, &dim));
  const int64_t size = self->sizes[dim];
  if (!has_start) start = 0;
  if (!has_end) end = INT64_MAX;
  if (start < 0) start += size;
  if (end < 0) end += size;
  start = start < 0 ? 0 : (start > size ? size : start);
  end = end < start ? start : (end > size ? size : end);
  const int64_t len = (end - start + step - 1) / step;
  int64_t in_strides[kMaxDims], sizes[kMaxDims], strides[kMaxDims];
  contiguous_strides(self->sizes, self->dim, in_strides);
  for (int d = 0; d < self->dim; ++d) {
    sizes[d] = self->sizes[d];
    strides[d] = in_strides[d];
  }
  sizes[dim] = len;
  strides[dim] = in_strides[dim] * step;
  return scatter_view(ctx, *self, *src, *out, sizes, self->dim, strides, start * in_strides[dim]);
}

}  // namespace
}  // namespace portable
}  // namespace wick

using namespace wick::portable;

// Byte movers take complex tensors too. Not cat (it promotes dtypes), nor
// select_scatter: wick.to_edge decomposes it into where.self, which is real
// only, so no program could reach (or test) a complex select_scatter.
constexpr uint32_t kMoveDtypes = kAllDtypes | kComplexDtypes;

WICK_REGISTER_KERNELS(copy_ops,
                      {"aten::view_copy.out", kMoveDtypes, &view_copy_out, nullptr},
                      {"aten::permute_copy.out", kMoveDtypes, &permute_copy_out, nullptr},
                      {"aten::expand_copy.out", kMoveDtypes, &expand_copy_out, nullptr},
                      {"aten::alias_copy.out", kMoveDtypes, &alias_copy_out, nullptr},
                      {"aten::clone.out", kMoveDtypes, &clone_out, nullptr},
                      {"aten::slice_copy.Tensor_out", kMoveDtypes, &slice_copy_out, nullptr},
                      {"aten::split_with_sizes_copy.out", kMoveDtypes, &split_with_sizes_copy_out, nullptr},
                      {"aten::unsqueeze_copy.out", kMoveDtypes, &unsqueeze_copy_out, nullptr},
                      {"aten::squeeze_copy.dims_out", kMoveDtypes, &squeeze_copy_dims_out, nullptr},
                      {"aten::cat.out", kAllDtypes, &cat_out, nullptr},
                      {"aten::select_copy.int_out", kMoveDtypes, &select_copy_out, nullptr},
                      {"aten::diagonal_copy.out", kMoveDtypes, &diagonal_copy_out, nullptr},
                      {"aten::as_strided_copy.out", kMoveDtypes, &as_strided_copy_out, nullptr},
                      {"aten::squeeze_copy.dim_out", kMoveDtypes, &squeeze_copy_dim_out, nullptr},
                      {"aten::flip.out", kMoveDtypes, &flip_out, nullptr},
                      {"aten::repeat.out", kMoveDtypes, &repeat_out, nullptr},
                      {"aten::select_scatter.out", kAllDtypes, &select_scatter_out, nullptr},
                      {"aten::slice_scatter.out", kMoveDtypes, &slice_scatter_out, nullptr})
