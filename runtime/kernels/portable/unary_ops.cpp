// Elementwise unary ops. Three result rules, as in PyTorch:
//  - floating ops (exp, sin, sqrt, sigmoid, ...): floating inputs keep their
//    dtype, integer and bool inputs give float32;
//  - dtype-preserving ops (abs, neg, sign, ceil/floor/round/trunc, relu, ...);
//  - predicates (isnan, isinf, logical_not): bool results.
// float16/bfloat16 compute in float and round once on store. Any dim order is
// accepted as long as input and output share it (the op is position-free).
#include <cmath>
#include <cstdint>
#include <limits>

#include "portable/elementwise.h"
#include "portable/fast_math.h"
#include "portable/util.h"

namespace wick {
namespace portable {
namespace {

constexpr uint32_t kFloating = kF32 | dtype_bit(ScalarType::Float64) | dtype_bit(ScalarType::Float16) |
                               dtype_bit(ScalarType::BFloat16);
constexpr uint32_t kInts = kI32 | kI64 | dtype_bit(ScalarType::Int8) | dtype_bit(ScalarType::Int16) |
                           dtype_bit(ScalarType::UInt8);
constexpr uint32_t kBool = dtype_bit(ScalarType::Bool);

// (self, [extra args...], out): reads self and out (any shared layout), resizes out.
Error unary_io(KernelContext& ctx, Value* const* args, int num_args, int expected, Tensor** self, Tensor** out) {
  WICK_TRY(check_num_args(ctx, num_args, expected));
  WICK_TRY(get_tensor_any_order(ctx, args, 0, self));
  WICK_TRY(get_tensor_any_order(ctx, args, expected - 1, out));
  WICK_TRY(resize(ctx, **out, (*self)->sizes, (*self)->dim));
  const Tensor* ts[2] = {*self, *out};
  return check_same_layout(ctx, ts, 2);
}

// Floating result: f is a generic callable applied in float or double.
template <typename F>
Error floating_unary(KernelContext& ctx, Value* const* args, int num_args, F f) {
  Tensor *self, *out;
  WICK_TRY(unary_io(ctx, args, num_args, 2, &self, &out));
  const ScalarType result = is_floating(self->dtype) ? self->dtype : ScalarType::Float32;
  WICK_TRY(check_can_cast(ctx, result, out->dtype));
  if (result == ScalarType::Float64) map_unary<double>(*self, *out, f);
  else map_unary<float>(*self, *out, f);
  return Error::Ok;
}

template <typename T> WICK_ALWAYS_INLINE T sigmoid(T x) {
  // float (also the compute type of float16/bfloat16): the vectorizable exp
  if constexpr (std::is_same<T, float>::value) return 1.0f / (1.0f + exp_f32(-x));
  else return T(1) / (T(1) + std::exp(-x));
}

#define WICK_FLOAT_UNARY(name, expr)                                          \
  Error name##_out(KernelContext& ctx, Value* const* args, int n) {           \
    return floating_unary(ctx, args, n, [](auto x) -> decltype(x) { return expr; }); \
  }
WICK_FLOAT_UNARY(acos, std::acos(x))
WICK_FLOAT_UNARY(acosh, std::acosh(x))
WICK_FLOAT_UNARY(asin, std::asin(x))
WICK_FLOAT_UNARY(asinh, std::asinh(x))
WICK_FLOAT_UNARY(atan, std::atan(x))
WICK_FLOAT_UNARY(atanh, std::atanh(x))
WICK_FLOAT_UNARY(cos, std::cos(x))
WICK_FLOAT_UNARY(cosh, std::cosh(x))
WICK_FLOAT_UNARY(sin, std::sin(x))
WICK_FLOAT_UNARY(sinh, std::sinh(x))
WICK_FLOAT_UNARY(tan, std::tan(x))
WICK_FLOAT_UNARY(tanh, std::tanh(x))
WICK_FLOAT_UNARY(erf, std::erf(x))
WICK_FLOAT_UNARY(exp, std::exp(x))
WICK_FLOAT_UNARY(expm1, std::expm1(x))
WICK_FLOAT_UNARY(log, std::log(x))
WICK_FLOAT_UNARY(log10, std::log10(x))
WICK_FLOAT_UNARY(log1p, std::log1p(x))
WICK_FLOAT_UNARY(log2, std::log2(x))
WICK_FLOAT_UNARY(reciprocal, decltype(x)(1) / x)
WICK_FLOAT_UNARY(rsqrt, decltype(x)(1) / std::sqrt(x))
WICK_FLOAT_UNARY(sqrt, std::sqrt(x))
#undef WICK_FLOAT_UNARY

// sigmoid: float32 in and out (same layout, walked linearly) takes a direct
// loop over the vectorizable exp; everything else the generic path.
Error sigmoid_out(KernelContext& ctx, Value* const* args, int n) {
  Tensor *self, *out;
  WICK_TRY(unary_io(ctx, args, n, 2, &self, &out));
  if (self->dtype == ScalarType::Float32 && out->dtype == ScalarType::Float32) {
    const float* __restrict x = self->data_as<const float>();
    float* __restrict y = out->data_as<float>();
    const int64_t count = self->numel();
    if (x == y) {
      for (int64_t i = 0; i < count; ++i) y[i] = sigmoid(y[i]);
    } else {
      for (int64_t i = 0; i < count; ++i) y[i] = sigmoid(x[i]);
    }
    return Error::Ok;
  }
  return floating_unary(ctx, args, n, [](auto x) -> decltype(x) { return sigmoid(x); });
}

// Floating-only activations (PyTorch has no integer kernels for them).
Error check_floating_input(KernelContext& ctx, const Tensor& self) {
  if (!is_floating(self.dtype)) {
    return fail(Error::InvalidArgument, "%s: not implemented for dtype %s (floating inputs only)", ctx.op_name,
                scalar_type_name(self.dtype));
  }
  return Error::Ok;
}

// gelu(self, approximate: str, out)
Error gelu_out(KernelContext& ctx, Value* const* args, int num_args) {
  Tensor *self, *out;
  WICK_TRY(unary_io(ctx, args, num_args, 3, &self, &out));
  WICK_TRY(check_floating_input(ctx, *self));
  WICK_TRY(check_can_cast(ctx, self->dtype, out->dtype));
  const char* mode;
  uint32_t len;
  WICK_TRY(get_opt_string(ctx, args, 1, &mode, &len));
  const bool tanh_mode = mode != nullptr && len == 4 && std::strncmp(mode, "tanh", 4) == 0;
  if (mode != nullptr && !tanh_mode && !(len == 4 && std::strncmp(mode, "none", 4) == 0)) {
    return fail(Error::InvalidArgument, "%s: approximate must be 'none' or 'tanh'", ctx.op_name);
  }
  auto f = [tanh_mode](auto x) -> decltype(x) {
    using T = decltype(x);
    if (tanh_mode) {
      const T k = T(0.7978845608028654), c = T(0.044715);
      return T(0.5) * x * (T(1) + std::tanh(k * (x + c * x * x * x)));
    }
    return x * T(0.5) * (T(1) + std::erf(x * T(0.70710678118654752440)));
  };
  if (self->dtype == ScalarType::Float64) map_unary<double>(*self, *out, f);
  else map_unary<float>(*self, *out, f);
  return Error::Ok;
}

// elu(self, alpha, scale, input_scale, out)
Error elu_out(KernelContext& ctx, Value* const* args, int num_args) {
  Tensor *self, *out;
  WICK_TRY(unary_io(ctx, args, num_args, 5, &self, &out));
  WICK_TRY(check_floating_input(ctx, *self));
  WICK_TRY(check_can_cast(ctx, self->dtype, out->dtype));
  double alpha, scale, input_scale;
  WICK_TRY(get_double(ctx, args, 1, &alpha));
  WICK_TRY(get_double(ctx, args, 2, &scale));
  WICK_TRY(get_double(ctx, args, 3, &input_scale));
  auto f = [=](auto x) -> decltype(x) {
    using T = decltype(x);
    const T negcoef = T(alpha * scale), poscoef = T(scale), negiptcoef = T(input_scale);
    return x <= T(0) ? (std::exp(x * negiptcoef) - T(1)) * negcoef : x * poscoef;
  };
  if (self->dtype == ScalarType::Float64) map_unary<double>(*self, *out, f);
  else map_unary<float>(*self, *out, f);
  return Error::Ok;
}

// leaky_relu(self, negative_slope, out)
Error leaky_relu_out(KernelContext& ctx, Value* const* args, int num_args) {
  Tensor *self, *out;
  WICK_TRY(unary_io(ctx, args, num_args, 3, &self, &out));
  WICK_TRY(check_floating_input(ctx, *self));
  WICK_TRY(check_can_cast(ctx, self->dtype, out->dtype));
  double slope;
  WICK_TRY(get_double(ctx, args, 1, &slope));
  auto f = [slope](auto x) -> decltype(x) {
    using T = decltype(x);
    return x > T(0) ? x : x * T(slope);
  };
  if (self->dtype == ScalarType::Float64) map_unary<double>(*self, *out, f);
  else map_unary<float>(*self, *out, f);
  return Error::Ok;
}

// Dtype-preserving ops: computed in OpMath of the input dtype.
template <typename F>
Error same_dtype_unary(KernelContext& ctx, Value* const* args, int num_args, bool allow_bool, F f) {
  Tensor *self, *out;
  WICK_TRY(unary_io(ctx, args, num_args, 2, &self, &out));
  if (!allow_bool && self->dtype == ScalarType::Bool) {
    return fail(Error::InvalidArgument, "%s: not supported for bool tensors", ctx.op_name);
  }
  WICK_TRY(check_can_cast(ctx, self->dtype, out->dtype));
  dispatch_compute(self->dtype, [&](auto tag) {
    using C = typename decltype(tag)::type;
    map_unary<C>(*self, *out, f);
  });
  return Error::Ok;
}

// Integer arithmetic in int64 wraps through unsigned to stay defined.
inline int64_t wrap_neg(int64_t x) { return static_cast<int64_t>(0ull - static_cast<uint64_t>(x)); }

Error abs_out(KernelContext& ctx, Value* const* args, int n) {
  return same_dtype_unary(ctx, args, n, false, [](auto x) -> decltype(x) {
    if constexpr (std::is_integral<decltype(x)>::value) return x < 0 ? wrap_neg(x) : x;
    else return std::fabs(x);
  });
}
// abs of complex64/complex128 (registered separately, dispatched on the
// complex input): the modulus, real, in the matching precision. hypot, as
// PyTorch's std::abs: no overflow for large parts, inf when a part is
// infinite even beside a NaN.
Error complex_abs_out(KernelContext& ctx, Value* const* args, int n) {
  Tensor *self, *out;
  WICK_TRY(check_num_args(ctx, n, 2));
  WICK_TRY(get_tensor_any_order(ctx, args, 0, &self));
  WICK_TRY(get_tensor_any_order(ctx, args, 1, &out));
  if (!is_complex(self->dtype)) {
    return fail(Error::InvalidArgument, "%s: complex input expected, got %s", ctx.op_name,
                scalar_type_name(self->dtype));
  }
  const bool wide = self->dtype == ScalarType::ComplexDouble;
  WICK_TRY(check_dtype(ctx, *out, wide ? ScalarType::Float64 : ScalarType::Float32, "out"));
  WICK_TRY(resize(ctx, *out, self->sizes, self->dim));
  const Tensor* ts[2] = {self, out};
  WICK_TRY(check_same_layout(ctx, ts, 2));
  const int64_t count = self->numel();
  if (wide) {
    const double* x = self->data_as<const double>();
    double* y = out->data_as<double>();
    for (int64_t i = 0; i < count; ++i) y[i] = std::hypot(x[2 * i], x[2 * i + 1]);
  } else {
    const float* x = self->data_as<const float>();
    float* y = out->data_as<float>();
    for (int64_t i = 0; i < count; ++i) y[i] = std::hypot(x[2 * i], x[2 * i + 1]);
  }
  return Error::Ok;
}
Error neg_out(KernelContext& ctx, Value* const* args, int n) {
  return same_dtype_unary(ctx, args, n, false, [](auto x) -> decltype(x) {
    if constexpr (std::is_integral<decltype(x)>::value) return wrap_neg(x);
    else return -x;
  });
}
Error sign_out(KernelContext& ctx, Value* const* args, int n) {
  return same_dtype_unary(ctx, args, n, true, [](auto x) -> decltype(x) {
    using T = decltype(x);
    if constexpr (std::is_integral<T>::value) return T(x > 0) - T(x < 0);
    else return T(T(0) < x) - T(x < T(0));  // +-0 and NaN -> 0, as PyTorch
  });
}
Error ceil_out(KernelContext& ctx, Value* const* args, int n) {
  return same_dtype_unary(ctx, args, n, false, [](auto x) -> decltype(x) {
    if constexpr (std::is_integral<decltype(x)>::value) return x;
    else return std::ceil(x);
  });
}
Error floor_out(KernelContext& ctx, Value* const* args, int n) {
  return same_dtype_unary(ctx, args, n, false, [](auto x) -> decltype(x) {
    if constexpr (std::is_integral<decltype(x)>::value) return x;
    else return std::floor(x);
  });
}
Error trunc_out(KernelContext& ctx, Value* const* args, int n) {
  return same_dtype_unary(ctx, args, n, false, [](auto x) -> decltype(x) {
    if constexpr (std::is_integral<decltype(x)>::value) return x;
    else return std::trunc(x);
  });
}
Error round_out(KernelContext& ctx, Value* const* args, int n) {
  // Half to even, like PyTorch (std::nearbyint in the default rounding mode).
  return same_dtype_unary(ctx, args, n, false, [](auto x) -> decltype(x) {
    if constexpr (std::is_integral<decltype(x)>::value) return x;
    else return std::nearbyint(x);
  });
}
Error relu_out(KernelContext& ctx, Value* const* args, int n) {
  return same_dtype_unary(ctx, args, n, false, [](auto x) -> decltype(x) {
    using T = decltype(x);
    return x < T(0) ? T(0) : x;  // NaN propagates (NaN < 0 is false); -0 stays -0
  });
}

Error bitwise_not_out(KernelContext& ctx, Value* const* args, int num_args) {
  Tensor *self, *out;
  WICK_TRY(unary_io(ctx, args, num_args, 2, &self, &out));
  if (is_floating(self->dtype)) {
    return fail(Error::InvalidArgument, "%s: only integer and bool tensors are supported, got %s", ctx.op_name,
                scalar_type_name(self->dtype));
  }
  WICK_TRY(check_can_cast(ctx, self->dtype, out->dtype));
  if (self->dtype == ScalarType::Bool) {
    map_unary<int64_t>(*self, *out, [](int64_t x) { return int64_t(x == 0); });
  } else {
    map_unary<int64_t>(*self, *out, [](int64_t x) { return ~x; });
  }
  return Error::Ok;
}

// Predicates: written into out's dtype (bool normally).
template <typename F>
Error predicate_unary(KernelContext& ctx, Value* const* args, int num_args, F f) {
  Tensor *self, *out;
  WICK_TRY(unary_io(ctx, args, num_args, 2, &self, &out));
  if (self->dtype == ScalarType::Float64) map_unary<double>(*self, *out, [f](double x) { return double(f(x)); });
  else if (is_floating(self->dtype)) map_unary<float>(*self, *out, [f](float x) { return float(f(x)); });
  else map_unary<int64_t>(*self, *out, [f](int64_t x) { return int64_t(f(x)); });
  return Error::Ok;
}
Error isnan_out(KernelContext& ctx, Value* const* args, int n) {
  return predicate_unary(ctx, args, n, [](auto x) { return x != x; });
}
Error isinf_out(KernelContext& ctx, Value* const* args, int n) {
  return predicate_unary(ctx, args, n, [](auto x) {
    if constexpr (std::is_integral<decltype(x)>::value) return false;
    else return std::isinf(x);
  });
}
Error logical_not_out(KernelContext& ctx, Value* const* args, int n) {
  return predicate_unary(ctx, args, n, [](auto x) { return x == decltype(x)(0); });
}

// hardtanh(self, min_val, max_val, out): clamp in the input dtype.
Error hardtanh_out(KernelContext& ctx, Value* const* args, int num_args) {
  Tensor *self, *out;
  WICK_TRY(unary_io(ctx, args, num_args, 4, &self, &out));
  const Value *lo, *hi;
  WICK_TRY(get_scalar(ctx, args, 1, &lo));
  WICK_TRY(get_scalar(ctx, args, 2, &hi));
  if (self->dtype == ScalarType::Bool) {
    return fail(Error::InvalidArgument, "%s: not supported for bool tensors", ctx.op_name);
  }
  if (self->dtype == ScalarType::UInt8 && lo->scalar_as_int() < 0) {
    return fail(Error::InvalidArgument, "%s: cannot clamp an unsigned tensor with a negative min_val", ctx.op_name);
  }
  WICK_TRY(check_can_cast(ctx, self->dtype, out->dtype));
  dispatch_compute(self->dtype, [&](auto tag) {
    using C = typename decltype(tag)::type;
    const C l = std::is_integral<C>::value ? C(lo->scalar_as_int()) : C(lo->scalar_as_double());
    const C h = std::is_integral<C>::value ? C(hi->scalar_as_int()) : C(hi->scalar_as_double());
    // min(max(x, l), h) as two selects (no data-dependent branch, so the loop
    // vectorizes to max/min); NaN passes through both, as in PyTorch's clamp.
    map_unary<C>(*self, *out, [l, h](C x) {
      const C y = x < l ? l : x;
      return y > h ? h : y;
    });
  });
  return Error::Ok;
}

}  // namespace
}  // namespace portable
}  // namespace wick

using namespace wick::portable;

WICK_REGISTER_KERNELS(unary_ops,
                      {"aten::acos.out", kAllDtypes, &acos_out, nullptr},
                      {"aten::acosh.out", kAllDtypes, &acosh_out, nullptr},
                      {"aten::asin.out", kAllDtypes, &asin_out, nullptr},
                      {"aten::asinh.out", kAllDtypes, &asinh_out, nullptr},
                      {"aten::atan.out", kAllDtypes, &atan_out, nullptr},
                      {"aten::atanh.out", kAllDtypes, &atanh_out, nullptr},
                      {"aten::cos.out", kAllDtypes, &cos_out, nullptr},
                      {"aten::cosh.out", kAllDtypes, &cosh_out, nullptr},
                      {"aten::sin.out", kAllDtypes, &sin_out, nullptr},
                      {"aten::sinh.out", kAllDtypes, &sinh_out, nullptr},
                      {"aten::tan.out", kAllDtypes, &tan_out, nullptr},
                      {"aten::tanh.out", kAllDtypes, &tanh_out, nullptr},
                      {"aten::erf.out", kAllDtypes, &erf_out, nullptr},
                      {"aten::exp.out", kAllDtypes, &exp_out, nullptr},
                      {"aten::expm1.out", kAllDtypes, &expm1_out, nullptr},
                      {"aten::log.out", kAllDtypes, &log_out, nullptr},
                      {"aten::log10.out", kAllDtypes, &log10_out, nullptr},
                      {"aten::log1p.out", kAllDtypes, &log1p_out, nullptr},
                      {"aten::log2.out", kAllDtypes, &log2_out, nullptr},
                      {"aten::reciprocal.out", kAllDtypes, &reciprocal_out, nullptr},
                      {"aten::rsqrt.out", kAllDtypes, &rsqrt_out, nullptr},
                      {"aten::sqrt.out", kAllDtypes, &sqrt_out, nullptr},
                      {"aten::sigmoid.out", kAllDtypes, &sigmoid_out, nullptr},
                      {"aten::gelu.out", kFloating, &gelu_out, nullptr},
                      {"aten::elu.out", kFloating, &elu_out, nullptr},
                      {"aten::leaky_relu.out", kFloating, &leaky_relu_out, nullptr},
                      {"aten::abs.out", kFloating | kInts, &abs_out, nullptr},
                      {"aten::abs.out", kComplexDtypes, &complex_abs_out, nullptr},
                      {"aten::neg.out", kFloating | kInts, &neg_out, nullptr},
                      {"aten::sign.out", kAllDtypes, &sign_out, nullptr},
                      {"aten::ceil.out", kFloating | kInts, &ceil_out, nullptr},
                      {"aten::floor.out", kFloating | kInts, &floor_out, nullptr},
                      {"aten::trunc.out", kFloating | kInts, &trunc_out, nullptr},
                      {"aten::round.out", kFloating | kInts, &round_out, nullptr},
                      {"aten::relu.out", kFloating | kInts, &relu_out, nullptr},
                      {"aten::bitwise_not.out", kInts | kBool, &bitwise_not_out, nullptr},
                      {"aten::isnan.out", kAllDtypes, &isnan_out, nullptr},
                      {"aten::isinf.out", kAllDtypes, &isinf_out, nullptr},
                      {"aten::logical_not.out", kAllDtypes, &logical_not_out, nullptr},
                      {"aten::hardtanh.out", kFloating | kInts, &hardtanh_out, nullptr})
