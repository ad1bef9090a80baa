// Elementwise unary ops: relu, hardtanh, neg (dtype-preserving), sigmoid,
// rsqrt, exp, tanh, sqrt, pow.Tensor_Scalar. Floating ops on integer inputs
// produce float32 like PyTorch; the out tensor's dtype is checked against the
// result dtype with PyTorch's can-cast rule.
#include <cmath>
#include <cstdint>

#include "portable/util.h"

namespace wick {
namespace portable {
namespace {

// Applies f over n elements. Typed loop when in/out dtypes are both T, else
// converts through C.
template <typename T, typename C, typename F>
void map_elements(const Tensor& in, Tensor& out, F f) {
  const int64_t n = in.numel();
  if (in.dtype == DtypeOf<T>::value && out.dtype == DtypeOf<T>::value) {
    const T* x = in.data_as<const T>();
    T* o = out.data_as<T>();
    for (int64_t i = 0; i < n; ++i) o[i] = static_cast<T>(f(static_cast<C>(x[i])));
    return;
  }
  for (int64_t i = 0; i < n; ++i) store_as<C>(out.data, out.dtype, i, f(load_as<C>(in.data, in.dtype, i)));
}

// Common prologue: (self, ..., out) with out at `out_index`; resizes out.
Error unary_prologue(KernelContext& ctx, Value* const* args, int num_args, int expected, Tensor** self, Tensor** out) {
  WICK_TRY(check_num_args(ctx, num_args, expected));
  WICK_TRY(get_tensor(ctx, args, 0, self));
  WICK_TRY(get_tensor(ctx, args, expected - 1, out));
  return resize(ctx, **out, (*self)->sizes, (*self)->dim);
}

// Result dtype of a floating op: floating inputs keep theirs, others -> float32.
Error check_float_result(KernelContext& ctx, const Tensor& self, const Tensor& out, ScalarType* result) {
  *result = is_floating(self.dtype) ? self.dtype : ScalarType::Float32;
  if (!is_floating(out.dtype)) {
    return fail(Error::InvalidArgument, "%s: result type %s can't be cast to the desired output type %s",
                ctx.op_name, scalar_type_name(*result), scalar_type_name(out.dtype));
  }
  return Error::Ok;
}

Error check_same_result(KernelContext& ctx, const Tensor& self, const Tensor& out) {
  if (!can_cast(self.dtype, out.dtype)) {
    return fail(Error::InvalidArgument, "%s: result type %s can't be cast to the desired output type %s",
                ctx.op_name, scalar_type_name(self.dtype), scalar_type_name(out.dtype));
  }
  return Error::Ok;
}

template <typename F32, typename F64>
Error float_unary(KernelContext& ctx, Value* const* args, int num_args, F32 f32, F64 f64) {
  Tensor* self;
  Tensor* out;
  WICK_TRY(unary_prologue(ctx, args, num_args, 2, &self, &out));
  ScalarType result;
  WICK_TRY(check_float_result(ctx, *self, *out, &result));
  if (result == ScalarType::Float64 || out->dtype == ScalarType::Float64) {
    map_elements<double, double>(*self, *out, f64);
  } else {
    map_elements<float, float>(*self, *out, f32);
  }
  return Error::Ok;
}

Error sigmoid_out(KernelContext& ctx, Value* const* args, int n) {
  return float_unary(
      ctx, args, n, [](float x) { return 1.0f / (1.0f + std::exp(-x)); },
      [](double x) { return 1.0 / (1.0 + std::exp(-x)); });
}
Error rsqrt_out(KernelContext& ctx, Value* const* args, int n) {
  return float_unary(
      ctx, args, n, [](float x) { return 1.0f / std::sqrt(x); }, [](double x) { return 1.0 / std::sqrt(x); });
}
Error exp_out(KernelContext& ctx, Value* const* args, int n) {
  return float_unary(
      ctx, args, n, [](float x) { return std::exp(x); }, [](double x) { return std::exp(x); });
}
Error tanh_out(KernelContext& ctx, Value* const* args, int n) {
  return float_unary(
      ctx, args, n, [](float x) { return std::tanh(x); }, [](double x) { return std::tanh(x); });
}
Error sqrt_out(KernelContext& ctx, Value* const* args, int n) {
  return float_unary(
      ctx, args, n, [](float x) { return std::sqrt(x); }, [](double x) { return std::sqrt(x); });
}

Error relu_out(KernelContext& ctx, Value* const* args, int num_args) {
  Tensor* self;
  Tensor* out;
  WICK_TRY(unary_prologue(ctx, args, num_args, 2, &self, &out));
  WICK_TRY(check_same_result(ctx, *self, *out));
  switch (self->dtype) {
    case ScalarType::Float32: map_elements<float, float>(*self, *out, [](float x) { return x < 0.0f ? 0.0f : x; }); break;
    case ScalarType::Float64: map_elements<double, double>(*self, *out, [](double x) { return x < 0.0 ? 0.0 : x; }); break;
    case ScalarType::Int32: map_elements<int32_t, int64_t>(*self, *out, [](int64_t x) { return x < 0 ? int64_t(0) : x; }); break;
    case ScalarType::Int64: map_elements<int64_t, int64_t>(*self, *out, [](int64_t x) { return x < 0 ? int64_t(0) : x; }); break;
    default:
      if (is_integral(self->dtype, false)) {
        map_elements<int64_t, int64_t>(*self, *out, [](int64_t x) { return x < 0 ? int64_t(0) : x; });
      } else {
        return fail(Error::NotSupported, "%s: dtype %s is not supported", ctx.op_name, scalar_type_name(self->dtype));
      }
  }
  return Error::Ok;
}

Error neg_out(KernelContext& ctx, Value* const* args, int num_args) {
  Tensor* self;
  Tensor* out;
  WICK_TRY(unary_prologue(ctx, args, num_args, 2, &self, &out));
  WICK_TRY(check_same_result(ctx, *self, *out));
  if (self->dtype == ScalarType::Bool) {
    return fail(Error::InvalidArgument, "%s: negation on a bool tensor is not supported; use logical_not",
                ctx.op_name);
  }
  switch (self->dtype) {
    case ScalarType::Float32: map_elements<float, float>(*self, *out, [](float x) { return -x; }); break;
    case ScalarType::Float64: map_elements<double, double>(*self, *out, [](double x) { return -x; }); break;
    case ScalarType::Int32:
      map_elements<int32_t, int64_t>(*self, *out, [](int64_t x) { return static_cast<int64_t>(0ull - static_cast<uint64_t>(x)); });
      break;
    default:
      if (is_floating(self->dtype)) {
        map_elements<float, float>(*self, *out, [](float x) { return -x; });
      } else {
        map_elements<int64_t, int64_t>(*self, *out,
                                       [](int64_t x) { return static_cast<int64_t>(0ull - static_cast<uint64_t>(x)); });
      }
  }
  return Error::Ok;
}

// hardtanh(self, min_val, max_val, out)
Error hardtanh_out(KernelContext& ctx, Value* const* args, int num_args) {
  Tensor* self;
  Tensor* out;
  WICK_TRY(unary_prologue(ctx, args, num_args, 4, &self, &out));
  const Value* lo_v;
  const Value* hi_v;
  WICK_TRY(get_scalar(ctx, args, 1, &lo_v));
  WICK_TRY(get_scalar(ctx, args, 2, &hi_v));
  WICK_TRY(check_same_result(ctx, *self, *out));
  if (self->dtype == ScalarType::Bool) {
    return fail(Error::NotSupported, "%s: bool tensors are not supported", ctx.op_name);
  }
  if (is_floating(self->dtype)) {
    if (self->dtype == ScalarType::Float64) {
      const double lo = lo_v->scalar_as_double(), hi = hi_v->scalar_as_double();
      map_elements<double, double>(*self, *out, [lo, hi](double x) { return x < lo ? lo : (x > hi ? hi : x); });
    } else {
      const float lo = static_cast<float>(lo_v->scalar_as_double()), hi = static_cast<float>(hi_v->scalar_as_double());
      map_elements<float, float>(*self, *out, [lo, hi](float x) { return x < lo ? lo : (x > hi ? hi : x); });
    }
  } else {
    if (lo_v->tag == ValueTag::Double || hi_v->tag == ValueTag::Double) {
      return fail(Error::InvalidArgument, "%s: float bounds for an integer tensor are not supported", ctx.op_name);
    }
    const int64_t lo = lo_v->scalar_as_int(), hi = hi_v->scalar_as_int();
    map_elements<int64_t, int64_t>(*self, *out, [lo, hi](int64_t x) { return x < lo ? lo : (x > hi ? hi : x); });
  }
  return Error::Ok;
}

template <typename T>
T pow_float(T x, double e) {
  if (e == 2.0) return x * x;
  if (e == 3.0) return x * x * x;
  if (e == 0.5) return std::sqrt(x);
  if (e == -0.5) return T(1) / std::sqrt(x);
  if (e == -1.0) return T(1) / x;
  if (e == -2.0) return T(1) / (x * x);
  return std::pow(x, static_cast<T>(e));
}

int64_t pow_int(int64_t base, int64_t e) {
  // e >= 0; wrapping multiplication like PyTorch's integer pow
  uint64_t result = 1, b = static_cast<uint64_t>(base);
  while (e > 0) {
    if (e & 1) result *= b;
    b *= b;
    e >>= 1;
  }
  return static_cast<int64_t>(result);
}

// pow.Tensor_Scalar_out(self, exponent, out)
Error pow_tensor_scalar_out(KernelContext& ctx, Value* const* args, int num_args) {
  Tensor* self;
  Tensor* out;
  WICK_TRY(unary_prologue(ctx, args, num_args, 3, &self, &out));
  const Value* ev;
  WICK_TRY(get_scalar(ctx, args, 1, &ev));
  if (is_floating(self->dtype) || ev->tag == ValueTag::Double) {
    ScalarType result = is_floating(self->dtype) ? self->dtype : ScalarType::Float32;
    if (!can_cast(result, out->dtype)) {
      return fail(Error::InvalidArgument, "%s: result type %s can't be cast to the desired output type %s",
                  ctx.op_name, scalar_type_name(result), scalar_type_name(out->dtype));
    }
    const double e = ev->scalar_as_double();
    if (result == ScalarType::Float64) {
      map_elements<double, double>(*self, *out, [e](double x) { return pow_float<double>(x, e); });
    } else {
      map_elements<float, float>(*self, *out, [e](float x) { return pow_float<float>(x, e); });
    }
    return Error::Ok;
  }
  // integer tensor, integer (or bool) exponent: integer result
  WICK_TRY(check_same_result(ctx, *self, *out));
  const int64_t e = ev->scalar_as_int();
  if (e < 0) {
    return fail(Error::InvalidArgument, "%s: integers to negative integer powers are not allowed", ctx.op_name);
  }
  if (self->dtype == ScalarType::Int32) {
    map_elements<int32_t, int64_t>(*self, *out, [e](int64_t x) { return pow_int(x, e); });
  } else {
    map_elements<int64_t, int64_t>(*self, *out, [e](int64_t x) { return pow_int(x, e); });
  }
  return Error::Ok;
}

constexpr uint32_t kFloatish = kF32 | dtype_bit(ScalarType::Float64);
constexpr uint32_t kIntish = kI32 | kI64 | dtype_bit(ScalarType::Int8) | dtype_bit(ScalarType::Int16) |
                             dtype_bit(ScalarType::UInt8);

}  // namespace
}  // namespace portable
}  // namespace wick

using namespace wick::portable;

WICK_REGISTER_KERNELS(unary_ops,
                      {"aten::relu.out", kFloatish | kIntish, &relu_out, nullptr},
                      {"aten::hardtanh.out", kFloatish | kIntish, &hardtanh_out, nullptr},
                      {"aten::neg.out", kFloatish | kIntish, &neg_out, nullptr},
                      {"aten::sigmoid.out", kFloatish | kIntish, &sigmoid_out, nullptr},
                      {"aten::rsqrt.out", kFloatish | kIntish, &rsqrt_out, nullptr},
                      {"aten::exp.out", kFloatish | kIntish, &exp_out, nullptr},
                      {"aten::tanh.out", kFloatish | kIntish, &tanh_out, nullptr},
                      {"aten::sqrt.out", kFloatish | kIntish, &sqrt_out, nullptr},
                      {"aten::pow.Tensor_Scalar_out", kFloatish | kIntish, &pow_tensor_scalar_out, nullptr})
