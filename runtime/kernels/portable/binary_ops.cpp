// Elementwise binary arithmetic: add/sub (with alpha), mul, div (true, trunc
// and floor), fmod, remainder, pow, atan2, maximum, minimum. Tensor and Scalar
// overloads share one path: a Scalar becomes a 0-dim operand. Type promotion
// follows PyTorch's result_type (dimensioned tensors > zero-dim tensors >
// wrapped scalars); the computation runs in OpMath of the compute dtype
// (float for float32/16/bf16, double, int64 for integers, narrowed on store).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "portable/elementwise.h"
#include "portable/util.h"

namespace wick {
namespace portable {
namespace {

// Runs f over the operands in the compute type of `compute`.
template <typename F>
void run_in(ScalarType compute, const BinaryOperands& o, F f) {
  dispatch_compute(compute, [&](auto tag) {
    using C = typename decltype(tag)::type;
    map_binary<C>(*o.a, *o.b, *o.out, [&f](C x, C y) -> C { return f(x, y); });
  });
}

// add / sub: (self, other, alpha, out)
Error add_sub(KernelContext& ctx, Value* const* args, int num_args, bool sub) {
  WICK_TRY(check_num_args(ctx, num_args, 4));
  BinaryOperands o;
  WICK_TRY(read_binary(ctx, args, num_args, 0, 1, 3, o));
  const Value* alpha;
  WICK_TRY(get_scalar(ctx, args, 2, &alpha));
  const ScalarType r = o.result;
  if (sub && r == ScalarType::Bool) {
    return fail(Error::InvalidArgument, "%s: subtraction with two bool tensors is not supported; use logical_xor",
                ctx.op_name);
  }
  if (is_integral(r, true) && alpha->tag == ValueTag::Double) {
    return fail(Error::InvalidArgument, "%s: for integral input tensors, argument alpha must not be a floating point "
                "number", ctx.op_name);
  }
  if (alpha->tag == ValueTag::Bool && r != ScalarType::Bool) {
    return fail(Error::InvalidArgument, "%s: boolean alpha only supported for boolean results", ctx.op_name);
  }
  WICK_TRY(check_can_cast(ctx, r, o.out->dtype));
  WICK_TRY(finish_binary(ctx, o, r));
  const bool unit = alpha->scalar_as_double() == 1.0;
  dispatch_compute(r, [&](auto tag) {
    using C = typename decltype(tag)::type;
    const Tensor &a = *o.a, &b = *o.b;
    if constexpr (std::is_integral<C>::value) {
      const int64_t al = alpha->scalar_as_int();
      if (sub) map_binary<C>(a, b, *o.out, [al](C x, C y) { return wrap_sub(x, wrap_mul(al, y)); });
      else if (r == ScalarType::Bool) map_binary<C>(a, b, *o.out, [al](C x, C y) { return C((x != 0) || (al != 0 && y != 0)); });
      else map_binary<C>(a, b, *o.out, [al](C x, C y) { return wrap_add(x, wrap_mul(al, y)); });
    } else {
      const C al = C(alpha->scalar_as_double());
      if (unit && sub) map_binary<C>(a, b, *o.out, [](C x, C y) { return x - y; });
      else if (unit) map_binary<C>(a, b, *o.out, [](C x, C y) { return x + y; });
      else if (sub) map_binary<C>(a, b, *o.out, [al](C x, C y) { return x - al * y; });
      else map_binary<C>(a, b, *o.out, [al](C x, C y) { return x + al * y; });
    }
  });
  return Error::Ok;
}
Error add_out(KernelContext& ctx, Value* const* args, int n) { return add_sub(ctx, args, n, false); }
Error sub_out(KernelContext& ctx, Value* const* args, int n) { return add_sub(ctx, args, n, true); }

// mul: (self, other, out)
Error mul_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 3));
  BinaryOperands o;
  WICK_TRY(read_binary(ctx, args, num_args, 0, 1, 2, o));
  WICK_TRY(check_can_cast(ctx, o.result, o.out->dtype));
  WICK_TRY(finish_binary(ctx, o, o.result));
  dispatch_compute(o.result, [&](auto tag) {
    using C = typename decltype(tag)::type;
    if constexpr (std::is_integral<C>::value) map_binary<C>(*o.a, *o.b, *o.out, [](C x, C y) { return wrap_mul(x, y); });
    else map_binary<C>(*o.a, *o.b, *o.out, [](C x, C y) { return x * y; });
  });
  return Error::Ok;
}

// Python-style floor division of floats, exactly as ATen's div_floor_floating.
// `rnd` rounds every intermediate to the tensor's dtype: float16/bfloat16 run
// this scalar code in their own precision in PyTorch (identity otherwise).
template <typename T, typename R>
T div_floor_floating(T a, T b, R rnd) {
  if (b == T(0)) return a / b;
  T mod = rnd(std::fmod(a, b));
  T div = rnd(rnd(a - mod) / b);
  if (mod != T(0) && ((b < T(0)) != (mod < T(0)))) div = rnd(div - T(1));
  T floordiv;
  if (div != T(0)) {
    floordiv = std::floor(div);
    if (rnd(div - floordiv) > T(0.5)) floordiv = rnd(floordiv + T(1));
  } else {
    floordiv = std::copysign(T(0), rnd(a / b));
  }
  return floordiv;
}

enum class DivMode { True, Trunc, Floor };

Error div_impl(KernelContext& ctx, BinaryOperands& o, DivMode mode) {
  ScalarType r = o.result;
  if (mode == DivMode::True && !is_floating(r)) r = ScalarType::Float32;  // true division: default float dtype
  if (mode != DivMode::True && r == ScalarType::Bool) {
    return fail(Error::InvalidArgument, "%s: rounding division is not supported for bool tensors", ctx.op_name);
  }
  WICK_TRY(check_can_cast(ctx, r, o.out->dtype));
  WICK_TRY(finish_binary(ctx, o, r));
  if (is_integral(r, true) && has_zero(*o.b)) {
    return fail(Error::InvalidArgument, "%s: integer division by zero (ZeroDivisionError)", ctx.op_name);
  }
  dispatch_compute(r, [&](auto tag) {
    using C = typename decltype(tag)::type;
    if constexpr (std::is_integral<C>::value) {
      if (mode == DivMode::Floor) {
        map_binary<C>(*o.a, *o.b, *o.out, [](C x, C y) -> C {
          if (y == -1) return wrap_sub(0, x);
          C q = x / y;
          if ((x % y != 0) && ((x < 0) != (y < 0))) --q;
          return q;
        });
      } else {
        map_binary<C>(*o.a, *o.b, *o.out, [](C x, C y) -> C { return y == -1 ? wrap_sub(0, x) : x / y; });
      }
    } else {
      auto run_mode = [&](auto rnd) {
        if (mode == DivMode::True) map_binary<C>(*o.a, *o.b, *o.out, [](C x, C y) { return x / y; });
        else if (mode == DivMode::Trunc) map_binary<C>(*o.a, *o.b, *o.out, [rnd](C x, C y) { return std::trunc(rnd(x / y)); });
        else map_binary<C>(*o.a, *o.b, *o.out, [rnd](C x, C y) { return div_floor_floating(x, y, rnd); });
      };
      if (r == ScalarType::Float16) run_mode([](C v) { return static_cast<C>(static_cast<float>(Half(static_cast<float>(v)))); });
      else if (r == ScalarType::BFloat16) run_mode([](C v) { return static_cast<C>(static_cast<float>(BFloat16(static_cast<float>(v)))); });
      else run_mode([](C v) { return v; });
    }
  });
  return Error::Ok;
}

// div: (self, other, out)
Error div_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 3));
  BinaryOperands o;
  WICK_TRY(read_binary(ctx, args, num_args, 0, 1, 2, o));
  return div_impl(ctx, o, DivMode::True);
}

// div with rounding_mode: (self, other, rounding_mode: str?, out)
Error div_mode_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 4));
  BinaryOperands o;
  WICK_TRY(read_binary(ctx, args, num_args, 0, 1, 3, o));
  const char* m;
  uint32_t len;
  WICK_TRY(get_opt_string(ctx, args, 2, &m, &len));
  DivMode mode = DivMode::True;
  if (m != nullptr) {
    if (len == 5 && std::strncmp(m, "trunc", 5) == 0) mode = DivMode::Trunc;
    else if (len == 5 && std::strncmp(m, "floor", 5) == 0) mode = DivMode::Floor;
    else return fail(Error::InvalidArgument, "%s: rounding_mode must be None, 'trunc' or 'floor'", ctx.op_name);
  }
  return div_impl(ctx, o, mode);
}

// fmod / remainder: (self, other, out); integer operands must not divide by zero.
Error fmod_remainder(KernelContext& ctx, Value* const* args, int num_args, bool remainder) {
  WICK_TRY(check_num_args(ctx, num_args, 3));
  BinaryOperands o;
  WICK_TRY(read_binary(ctx, args, num_args, 0, 1, 2, o));
  const ScalarType r = o.result;
  if (r == ScalarType::Bool) return fail(Error::InvalidArgument, "%s: not supported for bool tensors", ctx.op_name);
  WICK_TRY(check_can_cast(ctx, r, o.out->dtype));
  WICK_TRY(finish_binary(ctx, o, r));
  if (is_integral(r, false) && has_zero(*o.b)) {
    return fail(Error::InvalidArgument, "%s: integer division by zero (ZeroDivisionError)", ctx.op_name);
  }
  dispatch_compute(r, [&](auto tag) {
    using C = typename decltype(tag)::type;
    if constexpr (std::is_integral<C>::value) {
      if (remainder) {
        map_binary<C>(*o.a, *o.b, *o.out, [](C x, C y) -> C {
          if (y == -1) return 0;
          C m = x % y;
          if (m != 0 && ((m < 0) != (y < 0))) m += y;
          return m;
        });
      } else {
        map_binary<C>(*o.a, *o.b, *o.out, [](C x, C y) -> C { return y == -1 ? 0 : x % y; });
      }
    } else {
      if (remainder) {
        map_binary<C>(*o.a, *o.b, *o.out, [](C x, C y) -> C {
          C m = std::fmod(x, y);
          if (m != C(0) && ((y < C(0)) != (m < C(0)))) m += y;
          return m;
        });
      } else {
        map_binary<C>(*o.a, *o.b, *o.out, [](C x, C y) -> C { return std::fmod(x, y); });
      }
    }
  });
  return Error::Ok;
}
Error fmod_out(KernelContext& ctx, Value* const* args, int n) { return fmod_remainder(ctx, args, n, false); }
Error remainder_out(KernelContext& ctx, Value* const* args, int n) { return fmod_remainder(ctx, args, n, true); }

// Integer power with PyTorch's rules for negative exponents (tensor exponents).
int64_t pow_int(int64_t base, int64_t e) {
  if (e < 0) {
    if (base == 1) return 1;
    if (base == -1) return (e % 2 == 0) ? 1 : -1;
    return 0;
  }
  uint64_t result = 1, b = static_cast<uint64_t>(base);
  while (e > 0) {
    if (e & 1) result *= b;
    b *= b;
    e >>= 1;
  }
  return static_cast<int64_t>(result);
}

// Float power with the exponent special cases PyTorch's pow(tensor, scalar) takes.
template <typename T>
T pow_scalar_exp(T x, T e) {
  if (e == T(2)) return x * x;
  if (e == T(3)) return x * x * x;
  if (e == T(0.5)) return std::sqrt(x);
  if (e == T(-0.5)) return T(1) / std::sqrt(x);
  if (e == T(-1)) return T(1) / x;
  if (e == T(-2)) return T(1) / (x * x);
  return std::pow(x, e);
}

// pow.Tensor_Tensor(self, exponent), pow.Scalar(self: Scalar, exponent),
// pow.Tensor_Scalar(self, exponent: Scalar); all (a, b, out).
Error pow_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 3));
  BinaryOperands o;
  WICK_TRY(read_binary(ctx, args, num_args, 0, 1, 2, o));
  const ScalarType r = o.result;
  if (r == ScalarType::Bool) return fail(Error::InvalidArgument, "%s: not supported for bool tensors", ctx.op_name);
  if (o.b_scalar != nullptr && is_integral(r, false) && o.b_scalar->scalar_as_int() < 0) {
    return fail(Error::InvalidArgument, "%s: integers to negative integer powers are not allowed", ctx.op_name);
  }
  WICK_TRY(check_can_cast(ctx, r, o.out->dtype));
  const bool scalar_exp = o.b_scalar != nullptr;
  WICK_TRY(finish_binary(ctx, o, r));
  dispatch_compute(r, [&](auto tag) {
    using C = typename decltype(tag)::type;
    if constexpr (std::is_integral<C>::value) {
      map_binary<C>(*o.a, *o.b, *o.out, [](C x, C y) -> C { return pow_int(x, y); });
    } else if (scalar_exp && o.b->numel() == 1 && load_as<C>(o.b->data, o.b->dtype, 0) == C(2)) {
      // the common square (RMSNorm, variance): a plain product loop
      map_binary<C>(*o.a, *o.b, *o.out, [](C x, C) -> C { return x * x; });
    } else if (scalar_exp) {
      map_binary<C>(*o.a, *o.b, *o.out, [](C x, C y) -> C { return pow_scalar_exp(x, y); });
    } else {
      map_binary<C>(*o.a, *o.b, *o.out, [](C x, C y) -> C { return std::pow(x, y); });
    }
  });
  return Error::Ok;
}

// atan2(self, other, out): floating result (integers -> float32).
Error atan2_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 3));
  BinaryOperands o;
  WICK_TRY(read_binary(ctx, args, num_args, 0, 1, 2, o));
  const ScalarType r = is_floating(o.result) ? o.result : ScalarType::Float32;
  WICK_TRY(check_can_cast(ctx, r, o.out->dtype));
  WICK_TRY(finish_binary(ctx, o, r));
  if (r == ScalarType::Float64) map_binary<double>(*o.a, *o.b, *o.out, [](double x, double y) { return std::atan2(x, y); });
  else map_binary<float>(*o.a, *o.b, *o.out, [](float x, float y) { return std::atan2(x, y); });
  return Error::Ok;
}

// maximum / minimum(self, other, out): NaN propagates.
Error max_min(KernelContext& ctx, Value* const* args, int num_args, bool is_max) {
  WICK_TRY(check_num_args(ctx, num_args, 3));
  BinaryOperands o;
  WICK_TRY(read_binary(ctx, args, num_args, 0, 1, 2, o));
  WICK_TRY(check_can_cast(ctx, o.result, o.out->dtype));
  WICK_TRY(finish_binary(ctx, o, o.result));
  dispatch_compute(o.result, [&](auto tag) {
    using C = typename decltype(tag)::type;
    if (is_max) {
      map_binary<C>(*o.a, *o.b, *o.out, [](C x, C y) -> C {
        if (x != x) return x;
        if (y != y) return y;
        return x > y ? x : y;
      });
    } else {
      map_binary<C>(*o.a, *o.b, *o.out, [](C x, C y) -> C {
        if (x != x) return x;
        if (y != y) return y;
        return x < y ? x : y;
      });
    }
  });
  return Error::Ok;
}
Error maximum_out(KernelContext& ctx, Value* const* args, int n) { return max_min(ctx, args, n, true); }
Error minimum_out(KernelContext& ctx, Value* const* args, int n) { return max_min(ctx, args, n, false); }

constexpr uint32_t kFloating = kF32 | dtype_bit(ScalarType::Float64) | dtype_bit(ScalarType::Float16) |
                               dtype_bit(ScalarType::BFloat16);

}  // namespace
}  // namespace portable
}  // namespace wick

using namespace wick::portable;

WICK_REGISTER_KERNELS(binary_ops,
                      {"aten::add.out", kAllDtypes, &add_out, nullptr},
                      {"aten::add.Scalar_out", kAllDtypes, &add_out, nullptr},
                      {"aten::sub.out", kAllDtypes, &sub_out, nullptr},
                      {"aten::sub.Scalar_out", kAllDtypes, &sub_out, nullptr},
                      {"aten::mul.out", kAllDtypes, &mul_out, nullptr},
                      {"aten::mul.Scalar_out", kAllDtypes, &mul_out, nullptr},
                      {"aten::div.out", kAllDtypes, &div_out, nullptr},
                      {"aten::div.Scalar_out", kAllDtypes, &div_out, nullptr},
                      {"aten::div.out_mode", kAllDtypes, &div_mode_out, nullptr},
                      {"aten::div.Scalar_mode_out", kAllDtypes, &div_mode_out, nullptr},
                      {"aten::fmod.Tensor_out", kAllDtypes, &fmod_out, nullptr},
                      {"aten::fmod.Scalar_out", kAllDtypes, &fmod_out, nullptr},
                      {"aten::remainder.Tensor_out", kAllDtypes, &remainder_out, nullptr},
                      {"aten::remainder.Scalar_out", kAllDtypes, &remainder_out, nullptr},
                      {"aten::pow.Tensor_Tensor_out", kAllDtypes, &pow_out, nullptr},
                      {"aten::pow.Tensor_Scalar_out", kAllDtypes, &pow_out, nullptr},
                      {"aten::pow.Scalar_out", kAllDtypes, &pow_out, nullptr},
                      {"aten::atan2.out", kAllDtypes, &atan2_out, nullptr},
                      {"aten::maximum.out", kAllDtypes, &maximum_out, nullptr},
                      {"aten::minimum.out", kAllDtypes, &minimum_out, nullptr})
