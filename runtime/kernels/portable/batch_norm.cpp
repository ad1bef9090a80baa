// aten::_native_batch_norm_legit_no_training.out (floating dtypes; float32 on a
// typed fast path): normalizes with the
// running statistics. Like PyTorch, the save_mean / save_invstd outputs of the
// no-training variant are empty tensors of shape [0].
#include <cmath>
#include <cstdint>

#include "portable/util.h"

namespace wick {
namespace portable {
namespace {

// (input, weight?, bias?, running_mean, running_var, momentum, eps, out0, out1, out2)
Error batch_norm_no_training_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 10));
  Tensor *input, *weight, *bias, *mean, *var, *out0, *out1, *out2;
  double momentum, eps;
  WICK_TRY(get_tensor(ctx, args, 0, &input));
  WICK_TRY(get_opt_tensor(ctx, args, 1, &weight));
  WICK_TRY(get_opt_tensor(ctx, args, 2, &bias));
  WICK_TRY(get_tensor(ctx, args, 3, &mean));
  WICK_TRY(get_tensor(ctx, args, 4, &var));
  WICK_TRY(get_double(ctx, args, 5, &momentum));
  WICK_TRY(get_double(ctx, args, 6, &eps));
  WICK_TRY(get_tensor(ctx, args, 7, &out0));
  WICK_TRY(get_tensor(ctx, args, 8, &out1));
  WICK_TRY(get_tensor(ctx, args, 9, &out2));
  if (!is_floating(input->dtype)) {
    return fail(Error::InvalidArgument, "%s: input must be floating point, got %s", ctx.op_name,
                scalar_type_name(input->dtype));
  }
  const bool f32 = input->dtype == ScalarType::Float32 && out0->dtype == ScalarType::Float32;
  if (input->dim < 2) {
    return fail(Error::InvalidArgument, "%s: input must have at least 2 dims (N, C, ...), got %s", ctx.op_name,
                shape_str(*input));
  }
  const int64_t N = input->sizes[0], C = input->sizes[1];
  int64_t inner = 1;
  for (int d = 2; d < input->dim; ++d) inner *= input->sizes[d];
  const Tensor* per_channel[4] = {weight, bias, mean, var};
  const char* names[4] = {"weight", "bias", "running_mean", "running_var"};
  for (int k = 0; k < 4; ++k) {
    const Tensor* t = per_channel[k];
    if (t == nullptr) continue;
    if (f32) WICK_TRY(check_dtype(ctx, *t, ScalarType::Float32, names[k]));
    if (t->dim != 1 || t->sizes[0] != C) {
      return fail(Error::InvalidArgument, "%s: %s must have shape [%lld], got %s", ctx.op_name, names[k],
                  static_cast<long long>(C), shape_str(*t));
    }
  }
  WICK_TRY(resize(ctx, *out0, input->sizes, input->dim));
  const int64_t empty[1] = {0};
  WICK_TRY(resize(ctx, *out1, empty, 1));
  WICK_TRY(resize(ctx, *out2, empty, 1));

  if (!f32) {
    // Other floating dtypes: the same formula in double, rounded once on store.
    for (int64_t c = 0; c < C; ++c) {
      const double invstd = 1.0 / std::sqrt(load_as<double>(var->data, var->dtype, c) + eps);
      const double scale = (weight != nullptr ? load_as<double>(weight->data, weight->dtype, c) : 1.0) * invstd;
      const double m = load_as<double>(mean->data, mean->dtype, c);
      const double b = bias != nullptr ? load_as<double>(bias->data, bias->dtype, c) : 0.0;
      for (int64_t n = 0; n < N; ++n)
        for (int64_t i = 0; i < inner; ++i) {
          const int64_t k = (n * C + c) * inner + i;
          store_as<double>(out0->data, out0->dtype, k, (load_as<double>(input->data, input->dtype, k) - m) * scale + b);
        }
    }
    return Error::Ok;
  }
  const float* x = input->data_as<const float>();
  float* o = out0->data_as<float>();
  const float* w = weight != nullptr ? weight->data_as<const float>() : nullptr;
  const float* b = bias != nullptr ? bias->data_as<const float>() : nullptr;
  const float* m = mean->data_as<const float>();
  const float* v = var->data_as<const float>();
  for (int64_t c = 0; c < C; ++c) {
    // PyTorch: invstd = 1 / sqrt(var + eps); y = (x - mean) * invstd * w + b
    const float invstd = static_cast<float>(1.0 / std::sqrt(static_cast<double>(v[c]) + eps));
    const float scale = (w != nullptr ? w[c] : 1.0f) * invstd;
    const float shift = (b != nullptr ? b[c] : 0.0f) - m[c] * scale;
    for (int64_t n = 0; n < N; ++n) {
      const float* xi = x + (n * C + c) * inner;
      float* oi = o + (n * C + c) * inner;
      for (int64_t i = 0; i < inner; ++i) oi[i] = xi[i] * scale + shift;
    }
  }
  return Error::Ok;
}

}  // namespace
}  // namespace portable
}  // namespace wick

using namespace wick::portable;

WICK_REGISTER_KERNELS(batch_norm, {"aten::_native_batch_norm_legit_no_training.out",
                                   kF32 | wick::dtype_bit(wick::ScalarType::Float64) |
                                       wick::dtype_bit(wick::ScalarType::Float16) | wick::dtype_bit(wick::ScalarType::BFloat16),
                                   &batch_norm_no_training_out, nullptr})
