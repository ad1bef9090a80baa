// Elementwise iteration shared by the unary, binary, comparison and ternary
// kernel families. Each loop computes in a type C chosen by the caller
// (usually OpMath of the result dtype) and has a typed fast path when the
// operands share one element type; mixed dtypes go through load_as/store_as.
//
// Layout: operands either are all contiguous (broadcasting allowed) or share
// one shape and dim order (e.g. all channels-last), in which case memory is
// walked linearly. check_same_layout() enforces this before the loops run.
#pragma once

#include <cstdint>

#include "portable/util.h"

namespace wick {
namespace portable {

// out[i] = f(C(in[i])); `in` and `out` have the same numel and layout.
//
// Typed loops are instantiated only for element types whose OpMath is C (the
// only combinations kernels produce with equal in/out dtypes); anything else
// takes the converting loop. This keeps code size proportional to the dtypes
// an op really computes in.
template <typename C, typename F>
void map_unary(const Tensor& in, Tensor& out, F f) {
  const int64_t n = in.numel();
  if (n == 0) return;
  bool done = false;
  if (in.dtype == out.dtype || out.dtype == ScalarType::Bool) {
    const bool to_bool = in.dtype != out.dtype;
    dispatch_all(in.dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      if constexpr (std::is_same<C, typename OpMath<T>::type>::value) {
        const T* x = static_cast<const T*>(in.data);
        if (to_bool) {
          bool* o = static_cast<bool*>(out.data);
          for (int64_t i = 0; i < n; ++i) o[i] = cast_to<bool>(f(cast_to<C>(x[i])));
        } else {
          T* o = static_cast<T*>(out.data);
          for (int64_t i = 0; i < n; ++i) o[i] = cast_to<T>(f(cast_to<C>(x[i])));
        }
        done = true;
      }
    });
  }
  if (done) return;
  for (int64_t i = 0; i < n; ++i) store_as<C>(out.data, out.dtype, i, static_cast<C>(f(load_as<C>(in.data, in.dtype, i))));
}

namespace detail {

template <typename TA, typename TB, typename TO, typename C, typename F>
void binary_typed(const Tensor& a, const Tensor& b, Tensor& out, F f) {
  const TA* x = static_cast<const TA*>(a.data);
  const TB* y = static_cast<const TB*>(b.data);
  TO* o = static_cast<TO*>(out.data);
  const int64_t n = out.numel();
  const int64_t na = a.numel(), nb = b.numel();
  if (na == n && nb == n) {
    for (int64_t i = 0; i < n; ++i) o[i] = cast_to<TO>(f(cast_to<C>(x[i]), cast_to<C>(y[i])));
    return;
  }
  if (nb == 1 && na == n) {
    const C v = cast_to<C>(y[0]);
    for (int64_t i = 0; i < n; ++i) o[i] = cast_to<TO>(f(cast_to<C>(x[i]), v));
    return;
  }
  if (na == 1 && nb == n) {
    const C v = cast_to<C>(x[0]);
    for (int64_t i = 0; i < n; ++i) o[i] = cast_to<TO>(f(v, cast_to<C>(y[i])));
    return;
  }
  int64_t strides[3][kMaxDims];
  broadcast_strides(a.sizes, a.dim, out.sizes, out.dim, strides[0]);
  broadcast_strides(b.sizes, b.dim, out.sizes, out.dim, strides[1]);
  contiguous_strides(out.sizes, out.dim, strides[2]);
  for_each_row<3>(out.sizes, out.dim, strides, [&](const int64_t* offs, int64_t cnt, const int64_t* inner) {
    const TA* xa = x + offs[0];
    const TB* yb = y + offs[1];
    TO* oo = o + offs[2];
    const int64_t sa = inner[0], sb = inner[1];
    if (sa == 1 && sb == 1) {
      for (int64_t i = 0; i < cnt; ++i) oo[i] = cast_to<TO>(f(cast_to<C>(xa[i]), cast_to<C>(yb[i])));
    } else if (sa == 1 && sb == 0) {
      const C v = cast_to<C>(yb[0]);
      for (int64_t i = 0; i < cnt; ++i) oo[i] = cast_to<TO>(f(cast_to<C>(xa[i]), v));
    } else if (sa == 0 && sb == 1) {
      const C v = cast_to<C>(xa[0]);
      for (int64_t i = 0; i < cnt; ++i) oo[i] = cast_to<TO>(f(v, cast_to<C>(yb[i])));
    } else {
      for (int64_t i = 0; i < cnt; ++i) oo[i] = cast_to<TO>(f(cast_to<C>(xa[i * sa]), cast_to<C>(yb[i * sb])));
    }
  });
}

}  // namespace detail

// out = f(C(a), C(b)) with broadcasting; `out` is already sized to the
// broadcast shape. Typed loops when a and b share a dtype and out has it too
// (or is bool, for predicates); otherwise element-wise conversion.
template <typename C, typename F>
void map_binary(const Tensor& a, const Tensor& b, Tensor& out, F f) {
  if (out.numel() == 0) return;
  if (a.dtype == b.dtype && (out.dtype == a.dtype || out.dtype == ScalarType::Bool)) {
    const bool to_bool = out.dtype == ScalarType::Bool && a.dtype != ScalarType::Bool;
    bool done = false;
    dispatch_all(a.dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      if constexpr (std::is_same<C, typename OpMath<T>::type>::value) {
        if (to_bool) detail::binary_typed<T, T, bool, C>(a, b, out, f);
        else detail::binary_typed<T, T, T, C>(a, b, out, f);
        done = true;
      }
    });
    if (done) return;
  }
  // A float32 operand with a same-category C scalar (e.g. half tensor + float
  // scalar kept in float precision): also common enough for a typed loop.
  int64_t strides[3][kMaxDims];
  broadcast_strides(a.sizes, a.dim, out.sizes, out.dim, strides[0]);
  broadcast_strides(b.sizes, b.dim, out.sizes, out.dim, strides[1]);
  contiguous_strides(out.sizes, out.dim, strides[2]);
  if (out.dim > 0 && a.numel() == out.numel() && b.numel() == out.numel()) {
    // same shape: linear walk (also valid for a shared non-contiguous layout)
    const int64_t n = out.numel();
    for (int64_t i = 0; i < n; ++i)
      store_as<C>(out.data, out.dtype, i, static_cast<C>(f(load_as<C>(a.data, a.dtype, i), load_as<C>(b.data, b.dtype, i))));
    return;
  }
  for_each_row<3>(out.sizes, out.dim, strides, [&](const int64_t* offs, int64_t cnt, const int64_t* inner) {
    for (int64_t i = 0; i < cnt; ++i) {
      C x = load_as<C>(a.data, a.dtype, offs[0] + i * inner[0]);
      C y = load_as<C>(b.data, b.dtype, offs[1] + i * inner[1]);
      store_as<C>(out.data, out.dtype, offs[2] + i, static_cast<C>(f(x, y)));
    }
  });
}

// A Scalar argument as a 0-dim tensor with its own storage, so scalar and
// tensor operands share the binary loops. Integral compute dtypes hold the
// value converted (wrapping) to that dtype, like PyTorch's wrapped numbers;
// float16/bfloat16 keep it in float32 (their opmath), others in their dtype.
struct ScalarTensor {
  Tensor t;
  alignas(8) unsigned char storage[8] = {};
  void set(const Value& v, ScalarType compute) {
    ScalarType st = compute;
    if (compute == ScalarType::Float16 || compute == ScalarType::BFloat16) st = ScalarType::Float32;
    if (v.tag == ValueTag::Double) store_as<double>(storage, st, 0, v.d);
    else store_as<int64_t>(storage, st, 0, v.scalar_as_int());
    t.data = storage;
    t.dtype = st;
    t.dim = 0;
    t.capacity = sizeof(storage);
  }
};

// Operands of a binary op whose inputs may each be a Tensor or a Scalar.
struct BinaryOperands {
  Tensor* a = nullptr;
  Tensor* b = nullptr;
  Tensor* out = nullptr;
  const Value* a_scalar = nullptr;  // set when that operand is a Scalar
  const Value* b_scalar = nullptr;
  ScalarType result = ScalarType::Float32;  // PyTorch's result_type of the inputs
  ScalarTensor sa, sb;
};

// Reads args[ia], args[ib] (Tensor or Scalar, by the Value's kind) and the out
// tensor args[iout]; computes the result dtype.
inline Error read_binary(const KernelContext& ctx, Value* const* args, int num_args, int ia, int ib, int iout,
                         BinaryOperands& o) {
  if (num_args <= iout || num_args <= ia || num_args <= ib) return check_num_args(ctx, num_args, iout + 1);
  ResultType rt;
  if (args[ia] != nullptr && args[ia]->is_scalar()) {
    o.a_scalar = args[ia];
    rt.add_scalar(*o.a_scalar);
  } else {
    WICK_TRY(get_tensor_any_order(ctx, args, ia, &o.a));
    rt.add_tensor(*o.a);
  }
  if (args[ib] != nullptr && args[ib]->is_scalar()) {
    o.b_scalar = args[ib];
    rt.add_scalar(*o.b_scalar);
  } else {
    WICK_TRY(get_tensor_any_order(ctx, args, ib, &o.b));
    rt.add_tensor(*o.b);
  }
  WICK_TRY(get_tensor_any_order(ctx, args, iout, &o.out));
  o.result = rt.result();
  return Error::Ok;
}

// Resizes `out` to the broadcast shape of `a` and `b` after checking layouts.
inline Error prepare_binary_out(const KernelContext& ctx, const Tensor& a, const Tensor& b, Tensor& out) {
  int64_t sizes[kMaxDims];
  int dim;
  WICK_TRY(broadcast_shapes(ctx, a.sizes, a.dim, b.sizes, b.dim, sizes, &dim));
  WICK_TRY(resize(ctx, out, sizes, dim));
  const Tensor* ts[3] = {&a, &b, &out};
  return check_same_layout(ctx, ts, 3);
}

// Materializes Scalar operands in `compute` (see ScalarTensor) and sizes out.
inline Error finish_binary(const KernelContext& ctx, BinaryOperands& o, ScalarType compute) {
  if (o.a_scalar != nullptr) {
    o.sa.set(*o.a_scalar, compute);
    o.a = &o.sa.t;
  }
  if (o.b_scalar != nullptr) {
    o.sb.set(*o.b_scalar, compute);
    o.b = &o.sb.t;
  }
  return prepare_binary_out(ctx, *o.a, *o.b, *o.out);
}

// Whether any element of t (integral) is zero: integer division by zero is an
// error in PyTorch (ZeroDivisionError), checked before computing.
inline bool has_zero(const Tensor& t) {
  const int64_t n = t.numel();
  for (int64_t i = 0; i < n; ++i)
    if (load_as<int64_t>(t.data, t.dtype, i) == 0) return true;
  return false;
}

// Wrapping int64 arithmetic (defined behaviour; narrowed on store).
inline int64_t wrap_add(int64_t a, int64_t b) { return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b)); }
inline int64_t wrap_sub(int64_t a, int64_t b) { return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b)); }
inline int64_t wrap_mul(int64_t a, int64_t b) { return static_cast<int64_t>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b)); }

}  // namespace portable
}  // namespace wick
