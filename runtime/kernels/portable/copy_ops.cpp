// Data-movement ops, for every dtype (byte-wise by element size): view_copy,
// permute_copy, expand_copy, alias_copy, clone, slice_copy, split_with_sizes_copy,
// unsqueeze_copy, squeeze_copy.dims, cat. Contiguous copies also convert
// when the out tensor has another dtype (PyTorch copies with a cast into out=);
// strided ones require the same dtype. cat promotes its inputs like PyTorch.
#include <cstdint>
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

}  // namespace
}  // namespace portable
}  // namespace wick

using namespace wick::portable;

WICK_REGISTER_KERNELS(copy_ops,
                      {"aten::view_copy.out", kAllDtypes, &view_copy_out, nullptr},
                      {"aten::permute_copy.out", kAllDtypes, &permute_copy_out, nullptr},
                      {"aten::expand_copy.out", kAllDtypes, &expand_copy_out, nullptr},
                      {"aten::alias_copy.out", kAllDtypes, &alias_copy_out, nullptr},
                      {"aten::clone.out", kAllDtypes, &clone_out, nullptr},
                      {"aten::slice_copy.Tensor_out", kAllDtypes, &slice_copy_out, nullptr},
                      {"aten::split_with_sizes_copy.out", kAllDtypes, &split_with_sizes_copy_out, nullptr},
                      {"aten::unsqueeze_copy.out", kAllDtypes, &unsqueeze_copy_out, nullptr},
                      {"aten::squeeze_copy.dims_out", kAllDtypes, &squeeze_copy_dims_out, nullptr},
                      {"aten::cat.out", kAllDtypes, &cat_out, nullptr})
