// Elementwise binary arithmetic: add/sub (with alpha), mul, div (true
// division), tensor-tensor with broadcasting and tensor-scalar, following
// PyTorch's type promotion (dimensioned tensors > zero-dim tensors > wrapped
// scalars; a higher category wins). Same-dtype float32/int32/int64/float64
// run on typed loops with fast paths for equal shapes and scalar operands;
// mixed dtypes convert element by element.
#include <cstdint>

#include "portable/util.h"

namespace wick {
namespace portable {
namespace {

enum class Op { Add, Sub, Mul, Div };

// Integer arithmetic wraps like PyTorch (two's complement), without UB.
template <typename T>
struct Arith {
  static T add(T a, T b) { return a + b; }
  static T sub(T a, T b) { return a - b; }
  static T mul(T a, T b) { return a * b; }
};
template <>
struct Arith<int32_t> {
  static int32_t add(int32_t a, int32_t b) { return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b)); }
  static int32_t sub(int32_t a, int32_t b) { return static_cast<int32_t>(static_cast<uint32_t>(a) - static_cast<uint32_t>(b)); }
  static int32_t mul(int32_t a, int32_t b) { return static_cast<int32_t>(static_cast<uint32_t>(a) * static_cast<uint32_t>(b)); }
};
template <>
struct Arith<int64_t> {
  static int64_t add(int64_t a, int64_t b) { return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b)); }
  static int64_t sub(int64_t a, int64_t b) { return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b)); }
  static int64_t mul(int64_t a, int64_t b) { return static_cast<int64_t>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b)); }
};

template <typename T>
struct AddF {
  T alpha;
  T operator()(T a, T b) const { return Arith<T>::add(a, Arith<T>::mul(alpha, b)); }
};
template <typename T>
struct AddOneF {
  T operator()(T a, T b) const { return Arith<T>::add(a, b); }
};
template <typename T>
struct SubF {
  T alpha;
  T operator()(T a, T b) const { return Arith<T>::sub(a, Arith<T>::mul(alpha, b)); }
};
template <typename T>
struct SubOneF {
  T operator()(T a, T b) const { return Arith<T>::sub(a, b); }
};
template <typename T>
struct MulF {
  T operator()(T a, T b) const { return Arith<T>::mul(a, b); }
};
template <typename T>
struct DivF {
  T operator()(T a, T b) const { return a / b; }  // only instantiated for floating T
};

struct Operand {
  const void* data;
  ScalarType dtype;
  const int64_t* sizes;
  int dim;
  int64_t numel;
};

struct Plan {
  int64_t out_sizes[kMaxDims];
  int out_dim;
  int64_t out_numel;
};

// Typed loop: a, b, out all of type T.
template <typename T, typename F>
void run_typed(const Operand& a, const Operand& b, T* o, const Plan& p, F f) {
  const T* x = static_cast<const T*>(a.data);
  const T* y = static_cast<const T*>(b.data);
  const int64_t n = p.out_numel;
  if (a.numel == n && b.numel == n) {
    for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], y[i]);
    return;
  }
  if (b.numel == 1 && a.numel == n) {
    const T v = y[0];
    for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], v);
    return;
  }
  if (a.numel == 1 && b.numel == n) {
    const T v = x[0];
    for (int64_t i = 0; i < n; ++i) o[i] = f(v, y[i]);
    return;
  }
  int64_t strides[3][kMaxDims];
  broadcast_strides(a.sizes, a.dim, p.out_sizes, p.out_dim, strides[0]);
  broadcast_strides(b.sizes, b.dim, p.out_sizes, p.out_dim, strides[1]);
  contiguous_strides(p.out_sizes, p.out_dim, strides[2]);
  for_each_row<3>(p.out_sizes, p.out_dim, strides, [&](const int64_t* offs, int64_t cnt, const int64_t* inner) {
    const T* xa = x + offs[0];
    const T* yb = y + offs[1];
    T* oo = o + offs[2];
    if (inner[0] == 1 && inner[1] == 1) {
      for (int64_t i = 0; i < cnt; ++i) oo[i] = f(xa[i], yb[i]);
    } else if (inner[0] == 1 && inner[1] == 0) {
      const T v = yb[0];
      for (int64_t i = 0; i < cnt; ++i) oo[i] = f(xa[i], v);
    } else if (inner[0] == 0 && inner[1] == 1) {
      const T v = xa[0];
      for (int64_t i = 0; i < cnt; ++i) oo[i] = f(v, yb[i]);
    } else {
      for (int64_t i = 0; i < cnt; ++i) oo[i] = f(xa[i * inner[0]], yb[i * inner[1]]);
    }
  });
}

// Mixed dtypes: load each element as C, compute, store converted.
template <typename C, typename F>
void run_generic(const Operand& a, const Operand& b, Tensor& out, const Plan& p, F f) {
  int64_t strides[3][kMaxDims];
  broadcast_strides(a.sizes, a.dim, p.out_sizes, p.out_dim, strides[0]);
  broadcast_strides(b.sizes, b.dim, p.out_sizes, p.out_dim, strides[1]);
  contiguous_strides(p.out_sizes, p.out_dim, strides[2]);
  void* o = out.data;
  const ScalarType ot = out.dtype;
  for_each_row<3>(p.out_sizes, p.out_dim, strides, [&](const int64_t* offs, int64_t cnt, const int64_t* inner) {
    for (int64_t i = 0; i < cnt; ++i) {
      C x = load_as<C>(a.data, a.dtype, offs[0] + i * inner[0]);
      C y = load_as<C>(b.data, b.dtype, offs[1] + i * inner[1]);
      store_as<C>(o, ot, offs[2] + i, f(x, y));
    }
  });
}

template <typename T>
bool all_dtype(const Operand& a, const Operand& b, const Tensor& out) {
  const ScalarType t = DtypeOf<T>::value;
  return a.dtype == t && b.dtype == t && out.dtype == t;
}

template <typename T>
void run_typed_op(Op op, const Operand& a, const Operand& b, Tensor& out, const Plan& p, const Value* alpha) {
  T* o = static_cast<T*>(out.data);
  const bool unit = alpha == nullptr || alpha->scalar_as_double() == 1.0;
  T al = alpha == nullptr ? T(1)
                          : (alpha->tag == ValueTag::Double ? static_cast<T>(alpha->d)
                                                            : static_cast<T>(alpha->scalar_as_int()));
  switch (op) {
    case Op::Add:
      if (unit) run_typed(a, b, o, p, AddOneF<T>{});
      else run_typed(a, b, o, p, AddF<T>{al});
      return;
    case Op::Sub:
      if (unit) run_typed(a, b, o, p, SubOneF<T>{});
      else run_typed(a, b, o, p, SubF<T>{al});
      return;
    case Op::Mul: run_typed(a, b, o, p, MulF<T>{}); return;
    case Op::Div: break;
  }
}

template <typename C>
void run_generic_op(Op op, const Operand& a, const Operand& b, Tensor& out, const Plan& p, const Value* alpha) {
  C al = alpha == nullptr ? C(1)
                          : (alpha->tag == ValueTag::Double ? static_cast<C>(alpha->d)
                                                            : static_cast<C>(alpha->scalar_as_int()));
  switch (op) {
    case Op::Add: run_generic<C>(a, b, out, p, AddF<C>{al}); return;
    case Op::Sub: run_generic<C>(a, b, out, p, SubF<C>{al}); return;
    case Op::Mul: run_generic<C>(a, b, out, p, MulF<C>{}); return;
    case Op::Div: break;
  }
}

// ---- type promotion (c10 ResultTypeState) -----------------------------------

constexpr int kUndef = -1;

int combine_categories(int higher, int lower) {
  if (higher != kUndef && is_floating(static_cast<ScalarType>(higher))) return higher;
  if (higher == static_cast<int>(ScalarType::Bool) ||
      (lower != kUndef && is_floating(static_cast<ScalarType>(lower)))) {
    if (higher == kUndef) return lower;
    if (lower == kUndef) return higher;
    return static_cast<int>(promote_types(static_cast<ScalarType>(higher), static_cast<ScalarType>(lower)));
  }
  if (higher != kUndef) return higher;
  return lower;
}

struct ResultState {
  int dim_result = kUndef;
  int zero_result = kUndef;
  int wrapped_result = kUndef;
  static int upd(int cur, ScalarType t) {
    return cur == kUndef ? static_cast<int>(t) : static_cast<int>(promote_types(static_cast<ScalarType>(cur), t));
  }
  void add_tensor(const Tensor& t) {
    if (t.dim > 0) dim_result = upd(dim_result, t.dtype);
    else zero_result = upd(zero_result, t.dtype);
  }
  void add_scalar(const Value& v) {
    ScalarType t = v.tag == ValueTag::Double ? ScalarType::Float32
                   : v.tag == ValueTag::Bool ? ScalarType::Bool
                                             : ScalarType::Int64;
    wrapped_result = upd(wrapped_result, t);
  }
  ScalarType result() const {
    return static_cast<ScalarType>(combine_categories(dim_result, combine_categories(zero_result, wrapped_result)));
  }
};

// ---- the kernel body ----------------------------------------------------------

Error binary_common(KernelContext& ctx, Op op, const Tensor& self, const Operand* other_tensor,
                    const Value* other_scalar, const Value* alpha, Tensor& out, ScalarType result) {
  // Compute dtype: div on integers is true division in the default float dtype.
  ScalarType compute = result;
  if (op == Op::Div && !is_floating(compute)) compute = ScalarType::Float32;
  if (op == Op::Sub && self.dtype == ScalarType::Bool &&
      ((other_tensor != nullptr && other_tensor->dtype == ScalarType::Bool) ||
       (other_scalar != nullptr && other_scalar->tag == ValueTag::Bool))) {
    return fail(Error::InvalidArgument, "%s: subtraction with two bool operands is not supported; use logical_xor",
                ctx.op_name);
  }
  if (!can_cast(compute, out.dtype)) {
    return fail(Error::InvalidArgument, "%s: result type %s can't be cast to the desired output type %s",
                ctx.op_name, scalar_type_name(compute), scalar_type_name(out.dtype));
  }
  if (alpha != nullptr) {
    if (is_integral(compute, true) && alpha->tag == ValueTag::Double) {
      return fail(Error::InvalidArgument,
                  "%s: for integral input tensors, argument alpha must not be a floating point number", ctx.op_name);
    }
    if (compute == ScalarType::Bool && alpha->tag != ValueTag::Bool && alpha->scalar_as_int() != 1) {
      return fail(Error::InvalidArgument, "%s: boolean alpha only supported for boolean results", ctx.op_name);
    }
  }

  Operand a{self.data, self.dtype, self.sizes, self.dim, self.numel()};
  Operand b;
  // A scalar operand is materialized as a zero-dim value of the compute dtype.
  alignas(8) unsigned char scalar_storage[8] = {};
  if (other_tensor != nullptr) {
    b = *other_tensor;
  } else {
    ScalarType st = is_floating(compute) ? compute : ScalarType::Int64;
    if (other_scalar->tag == ValueTag::Double) {
      store_as<double>(scalar_storage, st, 0, other_scalar->d);
    } else {
      store_as<int64_t>(scalar_storage, st, 0, other_scalar->scalar_as_int());
    }
    if (st == ScalarType::Int64 && compute == ScalarType::Int32) {
      // fold to int32 so the typed int32 path applies (wraps like PyTorch)
      int64_t v = other_scalar->scalar_as_int();
      int32_t v32 = static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(v)));
      *reinterpret_cast<int32_t*>(scalar_storage) = v32;
      st = ScalarType::Int32;
    }
    static const int64_t kNoSizes[1] = {1};
    b = Operand{scalar_storage, st, kNoSizes, 0, 1};
  }

  Plan p;
  WICK_TRY(broadcast_shapes(ctx, a.sizes, a.dim, b.sizes, b.dim, p.out_sizes, &p.out_dim));
  WICK_TRY(resize(ctx, out, p.out_sizes, p.out_dim));
  p.out_numel = out.numel();
  if (p.out_numel == 0) return Error::Ok;

  if (op == Op::Div) {
    if (compute == ScalarType::Float32 && all_dtype<float>(a, b, out)) {
      run_typed(a, b, static_cast<float*>(out.data), p, DivF<float>{});
    } else if (compute == ScalarType::Float64 && all_dtype<double>(a, b, out)) {
      run_typed(a, b, static_cast<double*>(out.data), p, DivF<double>{});
    } else if (compute == ScalarType::Float64) {
      run_generic<double>(a, b, out, p, DivF<double>{});
    } else {
      run_generic<float>(a, b, out, p, DivF<float>{});
    }
    return Error::Ok;
  }
  if (compute == ScalarType::Float32 && all_dtype<float>(a, b, out)) {
    run_typed_op<float>(op, a, b, out, p, alpha);
  } else if (compute == ScalarType::Int32 && all_dtype<int32_t>(a, b, out)) {
    run_typed_op<int32_t>(op, a, b, out, p, alpha);
  } else if (compute == ScalarType::Int64 && all_dtype<int64_t>(a, b, out)) {
    run_typed_op<int64_t>(op, a, b, out, p, alpha);
  } else if (compute == ScalarType::Float64 && all_dtype<double>(a, b, out)) {
    run_typed_op<double>(op, a, b, out, p, alpha);
  } else if (compute == ScalarType::Float64) {
    run_generic_op<double>(op, a, b, out, p, alpha);
  } else if (is_floating(compute)) {
    run_generic_op<float>(op, a, b, out, p, alpha);
  } else {
    run_generic_op<int64_t>(op, a, b, out, p, alpha);
  }
  return Error::Ok;
}

// (self, other, [alpha], out)
Error binary_tensor(KernelContext& ctx, Value* const* args, int num_args, Op op, bool has_alpha) {
  WICK_TRY(check_num_args(ctx, num_args, has_alpha ? 4 : 3));
  Tensor* self;
  Tensor* other;
  Tensor* out;
  const Value* alpha = nullptr;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_tensor(ctx, args, 1, &other));
  if (has_alpha) WICK_TRY(get_scalar(ctx, args, 2, &alpha));
  WICK_TRY(get_tensor(ctx, args, has_alpha ? 3 : 2, &out));
  ResultState rs;
  rs.add_tensor(*self);
  rs.add_tensor(*other);
  Operand b{other->data, other->dtype, other->sizes, other->dim, other->numel()};
  return binary_common(ctx, op, *self, &b, nullptr, alpha, *out, rs.result());
}

// (self, other Scalar, [alpha], out)
Error binary_scalar(KernelContext& ctx, Value* const* args, int num_args, Op op, bool has_alpha) {
  WICK_TRY(check_num_args(ctx, num_args, has_alpha ? 4 : 3));
  Tensor* self;
  Tensor* out;
  const Value* other;
  const Value* alpha = nullptr;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_scalar(ctx, args, 1, &other));
  if (has_alpha) WICK_TRY(get_scalar(ctx, args, 2, &alpha));
  WICK_TRY(get_tensor(ctx, args, has_alpha ? 3 : 2, &out));
  ResultState rs;
  rs.add_tensor(*self);
  rs.add_scalar(*other);
  return binary_common(ctx, op, *self, nullptr, other, alpha, *out, rs.result());
}

Error add_out(KernelContext& ctx, Value* const* args, int n) { return binary_tensor(ctx, args, n, Op::Add, true); }
Error sub_out(KernelContext& ctx, Value* const* args, int n) { return binary_tensor(ctx, args, n, Op::Sub, true); }
Error mul_out(KernelContext& ctx, Value* const* args, int n) { return binary_tensor(ctx, args, n, Op::Mul, false); }
Error div_out(KernelContext& ctx, Value* const* args, int n) { return binary_tensor(ctx, args, n, Op::Div, false); }
Error add_scalar_out(KernelContext& ctx, Value* const* args, int n) { return binary_scalar(ctx, args, n, Op::Add, true); }
Error sub_scalar_out(KernelContext& ctx, Value* const* args, int n) { return binary_scalar(ctx, args, n, Op::Sub, true); }
Error mul_scalar_out(KernelContext& ctx, Value* const* args, int n) { return binary_scalar(ctx, args, n, Op::Mul, false); }
Error div_scalar_out(KernelContext& ctx, Value* const* args, int n) { return binary_scalar(ctx, args, n, Op::Div, false); }

constexpr uint32_t kNumeric = kF32 | kI32 | kI64 | dtype_bit(ScalarType::Float64) | dtype_bit(ScalarType::Int8) |
                              dtype_bit(ScalarType::Int16) | dtype_bit(ScalarType::UInt8);
constexpr uint32_t kNumericBool = kNumeric | dtype_bit(ScalarType::Bool);

}  // namespace
}  // namespace portable
}  // namespace wick

using namespace wick::portable;

WICK_REGISTER_KERNELS(binary_ops,
                      {"aten::add.out", kNumericBool, &add_out, nullptr},
                      {"aten::sub.out", kNumericBool, &sub_out, nullptr},
                      {"aten::mul.out", kNumericBool, &mul_out, nullptr},
                      {"aten::div.out", kNumericBool, &div_out, nullptr},
                      {"aten::add.Scalar_out", kNumericBool, &add_scalar_out, nullptr},
                      {"aten::sub.Scalar_out", kNumericBool, &sub_scalar_out, nullptr},
                      {"aten::mul.Scalar_out", kNumericBool, &mul_scalar_out, nullptr},
                      {"aten::div.Scalar_out", kNumericBool, &div_scalar_out, nullptr})
