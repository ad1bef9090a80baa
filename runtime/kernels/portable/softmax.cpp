// aten::_softmax.out and aten::_log_softmax.out (float32, any dim), numerically
// stable: the max along the dim is subtracted before exponentiating.
#include <cmath>
#include <cstdint>

#include "portable/util.h"

namespace wick {
namespace portable {
namespace {

// (self, dim, half_to_float, out)
Error softmax_common(KernelContext& ctx, Value* const* args, int num_args, bool log) {
  WICK_TRY(check_num_args(ctx, num_args, 4));
  Tensor *in, *out;
  int64_t dim_arg;
  bool half_to_float;
  WICK_TRY(get_tensor(ctx, args, 0, &in));
  WICK_TRY(get_int(ctx, args, 1, &dim_arg));
  WICK_TRY(get_bool(ctx, args, 2, &half_to_float));
  WICK_TRY(get_tensor(ctx, args, 3, &out));
  WICK_TRY(check_dtype(ctx, *in, ScalarType::Float32, "self"));
  WICK_TRY(check_dtype(ctx, *out, ScalarType::Float32, "out"));
  if (half_to_float) {
    return fail(Error::InvalidArgument, "%s: half_to_float is only valid for float16 inputs", ctx.op_name);
  }
  int dim;
  WICK_TRY(normalize_dim(ctx, dim_arg, in->dim, &dim));
  WICK_TRY(resize(ctx, *out, in->sizes, in->dim));
  int64_t outer = 1, inner = 1;
  const int64_t n = in->dim == 0 ? 1 : in->sizes[dim];
  for (int d = 0; d < dim; ++d) outer *= in->sizes[d];
  for (int d = dim + 1; d < in->dim; ++d) inner *= in->sizes[d];
  if (n == 0) return Error::Ok;
  const float* x = in->data_as<const float>();
  float* y = out->data_as<float>();
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      const float* xs = x + o * n * inner + i;
      float* ys = y + o * n * inner + i;
      float mx = -INFINITY;
      for (int64_t k = 0; k < n; ++k) mx = xs[k * inner] > mx ? xs[k * inner] : mx;
      // NaN anywhere propagates through the sum below
      if (std::isinf(mx) && mx < 0) mx = 0.0f;  // all -inf: avoid inf - inf
      float sum = 0.0f;
      if (log) {
        for (int64_t k = 0; k < n; ++k) sum += std::exp(xs[k * inner] - mx);
        const float lse = std::log(sum);
        for (int64_t k = 0; k < n; ++k) ys[k * inner] = xs[k * inner] - mx - lse;
      } else {
        for (int64_t k = 0; k < n; ++k) {
          const float e = std::exp(xs[k * inner] - mx);
          ys[k * inner] = e;
          sum += e;
        }
        const float inv = 1.0f / sum;
        for (int64_t k = 0; k < n; ++k) ys[k * inner] *= inv;
      }
    }
  }
  return Error::Ok;
}

Error softmax_out(KernelContext& ctx, Value* const* args, int n) { return softmax_common(ctx, args, n, false); }
Error log_softmax_out(KernelContext& ctx, Value* const* args, int n) { return softmax_common(ctx, args, n, true); }

}  // namespace
}  // namespace portable
}  // namespace wick

using namespace wick::portable;

WICK_REGISTER_KERNELS(softmax,
                      {"aten::_softmax.out", kF32, &softmax_out, nullptr},
                      {"aten::_log_softmax.out", kF32, &log_softmax_out, nullptr})
