// aten::_softmax.out and aten::_log_softmax.out (floating dtypes, any dim), numerically
// stable: the max along the dim is subtracted before exponentiating.
#include <cmath>
#include <cstdint>

#include "portable/fast_math.h"
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
  if (!is_floating(in->dtype) || !is_floating(out->dtype)) {
    return fail(Error::InvalidArgument, "%s: floating point tensors only, got %s -> %s", ctx.op_name,
                scalar_type_name(in->dtype), scalar_type_name(out->dtype));
  }
  if (half_to_float && in->dtype != ScalarType::Float16) {
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
  if (in->dtype != ScalarType::Float32 || out->dtype != ScalarType::Float32) {
    // Other floating dtypes: computed in double (float16/bfloat16 in float in
    // PyTorch; the result rounds the same but for rare last-bit ties).
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < inner; ++i) {
        const int64_t base = o * n * inner + i;
        auto x = [&](int64_t k) { return load_as<double>(in->data, in->dtype, base + k * inner); };
        double mx = -INFINITY;
        bool nan = false;
        for (int64_t k = 0; k < n; ++k) {
          const double v = x(k);
          nan = nan || v != v;
          mx = v > mx ? v : mx;
        }
        if (std::isinf(mx) && mx < 0) mx = 0.0;
        double sum = 0.0;
        for (int64_t k = 0; k < n; ++k) sum += std::exp(x(k) - mx);
        const double lse = std::log(sum);
        for (int64_t k = 0; k < n; ++k) {
          double r = log ? x(k) - mx - lse : std::exp(x(k) - mx) / sum;
          if (nan) r = NAN;
          store_as<double>(out->data, out->dtype, base + k * inner, r);
        }
      }
    }
    return Error::Ok;
  }
  const float* x = in->data_as<const float>();
  float* y = out->data_as<float>();
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      const float* xs = x + o * n * inner + i;
      float* ys = y + o * n * inner + i;
      if (inner == 1 && !log) {
        // softmax over a contiguous last dim: max, then exp into ys (vectorized
        // exp_f32), then the sum in order, then the scaling.
        float mx = -INFINITY;
        for (int64_t k = 0; k < n; ++k) mx = xs[k] > mx ? xs[k] : mx;
        // a NaN input makes its exp NaN, hence the sum and every output
        if (std::isinf(mx) && mx < 0) mx = 0.0f;  // all -inf: avoid inf - inf
        for (int64_t k = 0; k < n; ++k) ys[k] = exp_f32(xs[k] - mx);
        float sum = 0.0f;
        for (int64_t k = 0; k < n; ++k) sum += ys[k];
        const float inv = 1.0f / sum;
        for (int64_t k = 0; k < n; ++k) ys[k] *= inv;
        continue;
      }
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

namespace {
constexpr uint32_t kSoftmaxDtypes = kF32 | wick::dtype_bit(wick::ScalarType::Float64) |
                                    wick::dtype_bit(wick::ScalarType::Float16) | wick::dtype_bit(wick::ScalarType::BFloat16);
}  // namespace

WICK_REGISTER_KERNELS(softmax,
                      {"aten::_softmax.out", kSoftmaxDtypes, &softmax_out, nullptr},
                      {"aten::_log_softmax.out", kSoftmaxDtypes, &log_softmax_out, nullptr})
