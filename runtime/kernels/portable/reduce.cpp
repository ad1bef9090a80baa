// Reductions over a list of dims: aten::mean.out and aten::sum.IntList_out
// (float32 input; accumulated in double). A missing or empty dim list reduces
// every dim, like PyTorch.
#include <cstdint>

#include "portable/util.h"

namespace wick {
namespace portable {
namespace {

// (self, dim?, keepdim, dtype?, out)
Error reduce_out(KernelContext& ctx, Value* const* args, int num_args, bool mean) {
  WICK_TRY(check_num_args(ctx, num_args, 5));
  Tensor *self, *out;
  const int64_t* dims;
  int ndims;
  bool present, keepdim, has_dtype;
  int64_t dtype_code;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_int_list(ctx, args, 1, &dims, &ndims, true, &present));
  WICK_TRY(get_bool(ctx, args, 2, &keepdim));
  WICK_TRY(get_opt_int(ctx, args, 3, &dtype_code, &has_dtype));
  WICK_TRY(get_tensor(ctx, args, 4, &out));
  if (self->dtype != ScalarType::Float32 && self->dtype != ScalarType::Float64) {
    return fail(Error::NotSupported, "%s: input dtype %s is not supported (float32 or float64 only)", ctx.op_name,
                scalar_type_name(self->dtype));
  }
  if (has_dtype) {
    if (dtype_code < 0 || dtype_code >= kNumScalarTypes) {
      return fail(Error::InvalidArgument, "%s: invalid dtype code %lld", ctx.op_name, static_cast<long long>(dtype_code));
    }
    if (static_cast<ScalarType>(dtype_code) != out->dtype) {
      return fail(Error::InvalidArgument, "%s: dtype argument %s does not match the out tensor's dtype %s",
                  ctx.op_name, scalar_type_name(static_cast<ScalarType>(dtype_code)), scalar_type_name(out->dtype));
    }
  }
  if (out->dtype != ScalarType::Float32 && out->dtype != ScalarType::Float64) {
    return fail(Error::NotSupported, "%s: output dtype %s is not supported (float32 or float64 only)", ctx.op_name,
                scalar_type_name(out->dtype));
  }
  const int rank = self->dim;
  bool reduce[kMaxDims] = {};
  if (ndims == 0) {
    for (int d = 0; d < rank; ++d) reduce[d] = true;
  } else {
    for (int k = 0; k < ndims; ++k) {
      int d;
      WICK_TRY(normalize_dim(ctx, dims[k], rank, &d));
      if (rank == 0) continue;
      if (reduce[d]) {
        return fail(Error::InvalidArgument, "%s: dim %d appears multiple times in the list of dims", ctx.op_name, d);
      }
      reduce[d] = true;
    }
  }
  int64_t in_strides[kMaxDims];
  contiguous_strides(self->sizes, rank, in_strides);
  int64_t out_sizes[kMaxDims];
  int out_dim = 0;
  int64_t ksizes[kMaxDims], kstrides[kMaxDims];
  int kdim = 0;
  int64_t rstrides[1][kMaxDims];
  int64_t rsizes[kMaxDims];
  int rdim = 0;
  int64_t count = 1;
  for (int d = 0; d < rank; ++d) {
    if (reduce[d]) {
      if (keepdim) out_sizes[out_dim++] = 1;
      rsizes[rdim] = self->sizes[d];
      rstrides[0][rdim++] = in_strides[d];
      count *= self->sizes[d];
    } else {
      out_sizes[out_dim++] = self->sizes[d];
      ksizes[kdim] = self->sizes[d];
      kstrides[kdim++] = in_strides[d];
    }
  }
  WICK_TRY(resize(ctx, *out, out_sizes, out_dim));
  const int64_t out_numel = out->numel();
  int64_t idx[kMaxDims] = {};
  int64_t base = 0;
  const bool f32 = self->dtype == ScalarType::Float32;
  for (int64_t o = 0; o < out_numel; ++o) {
    double acc = 0.0;
    if (count > 0) {
      for_each_row<1>(rsizes, rdim, rstrides, [&](const int64_t* offs, int64_t n, const int64_t* inner) {
        const int64_t st = inner[0];
        if (f32) {
          const float* x = self->data_as<const float>() + base + offs[0];
          double s = 0.0;
          if (st == 1) {
            for (int64_t i = 0; i < n; ++i) s += x[i];
          } else {
            for (int64_t i = 0; i < n; ++i) s += x[i * st];
          }
          acc += s;
        } else {
          const double* x = self->data_as<const double>() + base + offs[0];
          for (int64_t i = 0; i < n; ++i) acc += x[i * st];
        }
      });
    }
    const double r = mean ? acc / static_cast<double>(count) : acc;
    store_as<double>(out->data, out->dtype, o, r);
    for (int d = kdim - 1; d >= 0; --d) {
      ++idx[d];
      base += kstrides[d];
      if (idx[d] < ksizes[d]) break;
      base -= kstrides[d] * ksizes[d];
      idx[d] = 0;
    }
  }
  return Error::Ok;
}

Error mean_out(KernelContext& ctx, Value* const* args, int n) { return reduce_out(ctx, args, n, true); }
Error sum_out(KernelContext& ctx, Value* const* args, int n) { return reduce_out(ctx, args, n, false); }

}  // namespace
}  // namespace portable
}  // namespace wick

using namespace wick::portable;

WICK_REGISTER_KERNELS(reduce,
                      {"aten::mean.out", kF32 | dtype_bit(wick::ScalarType::Float64), &mean_out, nullptr},
                      {"aten::sum.IntList_out", kF32 | dtype_bit(wick::ScalarType::Float64), &sum_out, nullptr})
