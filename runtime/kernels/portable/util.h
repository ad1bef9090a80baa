// Shared helpers of the portable kernels: argument checking (every failure is
// an Error whose message names the operator), dtype dispatch, element
// conversion and broadcast index iteration. Nothing here allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "wick/runtime/error.h"
#include "wick/runtime/kernel.h"
#include "wick/runtime/scalar_type.h"
#include "wick/runtime/tensor.h"
#include "wick/runtime/value.h"

namespace wick {
namespace portable {

// Every real dtype bit, for kernels that accept any dtype (complex tensors
// reach only kernels written for them: see Kernel::complex_dtypes).
constexpr uint32_t kAllDtypes = (1u << kNumRealScalarTypes) - 1;
constexpr uint32_t kComplexDtypes =
    dtype_bit(ScalarType::ComplexFloat) | dtype_bit(ScalarType::ComplexDouble);
constexpr uint32_t kF32 = dtype_bit(ScalarType::Float32);
constexpr uint32_t kI32 = dtype_bit(ScalarType::Int32);
constexpr uint32_t kI64 = dtype_bit(ScalarType::Int64);

// ---- argument access ---------------------------------------------------------
// Each getter checks the index, the Value's kind and (for tensors) contiguity.

Error check_num_args(const KernelContext& ctx, int num_args, int expected);

// A non-null, contiguous tensor.
Error get_tensor(const KernelContext& ctx, Value* const* args, int i, Tensor** out);
// A tensor or None (out = nullptr for None).
Error get_opt_tensor(const KernelContext& ctx, Value* const* args, int i, Tensor** out);
Error get_int(const KernelContext& ctx, Value* const* args, int i, int64_t* out);
// An int or None (present = false for None).
Error get_opt_int(const KernelContext& ctx, Value* const* args, int i, int64_t* out, bool* present);
Error get_bool(const KernelContext& ctx, Value* const* args, int i, bool* out);
// A float argument (accepts an int too).
Error get_double(const KernelContext& ctx, Value* const* args, int i, double* out);
// A Scalar argument: Int, Double or Bool.
Error get_scalar(const KernelContext& ctx, Value* const* args, int i, const Value** out);
// An int list; with allow_null, None yields present = false, data = nullptr, size = 0.
Error get_int_list(const KernelContext& ctx, Value* const* args, int i, const int64_t** data, int* size,
                   bool allow_null = false, bool* present = nullptr);
// A list of tensors; every item must be non-null and contiguous.
Error get_tensor_list(const KernelContext& ctx, Value* const* args, int i, Tensor* const** data, int* size);

// Like get_tensor, but any dim order is accepted (elementwise kernels that
// only need all operands to share one memory order).
Error get_tensor_any_order(const KernelContext& ctx, Value* const* args, int i, Tensor** out);
// A list of optional tensors (None items come back as null), e.g. index.Tensor's indices.
Error get_opt_tensor_list(const KernelContext& ctx, Value* const* args, int i, Tensor* const** data, int* size);
// An optional dtype argument (ScalarType code, or None -> present = false).
Error get_opt_dtype(const KernelContext& ctx, Value* const* args, int i, ScalarType* out, bool* present);
// A Scalar or None.
Error get_opt_scalar(const KernelContext& ctx, Value* const* args, int i, const Value** out);
// A string argument or None (data = nullptr).
Error get_opt_string(const KernelContext& ctx, Value* const* args, int i, const char** data, uint32_t* size);
// Fails unless `from` may be written into an out tensor of dtype `to` (PyTorch's canCast).
Error check_can_cast(const KernelContext& ctx, ScalarType from, ScalarType to);

Error check_dtype(const KernelContext& ctx, const Tensor& t, ScalarType expected, const char* what);
Error check_same_dtype(const KernelContext& ctx, const Tensor& a, const Tensor& b, const char* what_a,
                       const char* what_b);
Error check_rank(const KernelContext& ctx, const Tensor& t, int min_rank, int max_rank, const char* what);

// Wraps a possibly negative dimension into [0, rank). A rank-0 tensor accepts
// -1 and 0 like PyTorch (result 0).
Error normalize_dim(const KernelContext& ctx, int64_t dim, int rank, int* out);

// Resizes `out` with an error message naming the operator on failure.
Error resize(const KernelContext& ctx, Tensor& out, const int64_t* sizes, int dim);

// Checks that the kernel's scratch holds `bytes`.
Error check_scratch(const KernelContext& ctx, size_t bytes);

// A value of `args[i]` if that is a tensor, else null (for scratch functions,
// which may not report errors).
Tensor* tensor_or_null(Value* const* args, int num_args, int i);

// ---- dtype helpers -----------------------------------------------------------

template <typename T> struct DtypeOf;
template <> struct DtypeOf<float> { static constexpr ScalarType value = ScalarType::Float32; };
template <> struct DtypeOf<double> { static constexpr ScalarType value = ScalarType::Float64; };
template <> struct DtypeOf<int32_t> { static constexpr ScalarType value = ScalarType::Int32; };
template <> struct DtypeOf<int64_t> { static constexpr ScalarType value = ScalarType::Int64; };
template <> struct DtypeOf<int16_t> { static constexpr ScalarType value = ScalarType::Int16; };
template <> struct DtypeOf<int8_t> { static constexpr ScalarType value = ScalarType::Int8; };
template <> struct DtypeOf<uint8_t> { static constexpr ScalarType value = ScalarType::UInt8; };
template <> struct DtypeOf<bool> { static constexpr ScalarType value = ScalarType::Bool; };

bool is_integral(ScalarType t, bool include_bool);

// Whether loads/stores below handle the dtype (all but float16/bfloat16 ... which
// are handled too, via bit conversion).
float half_to_float(uint16_t h);
uint16_t float_to_half(float f);
float bf16_to_float(uint16_t h);
uint16_t float_to_bf16(float f);

// Reads element `i` of `data` (of dtype `t`) converted to T.
template <typename T>
inline T load_as(const void* data, ScalarType t, int64_t i) {
  switch (t) {
    case ScalarType::Float32: return static_cast<T>(static_cast<const float*>(data)[i]);
    case ScalarType::Float64: return static_cast<T>(static_cast<const double*>(data)[i]);
    case ScalarType::Int32: return static_cast<T>(static_cast<const int32_t*>(data)[i]);
    case ScalarType::Int64: return static_cast<T>(static_cast<const int64_t*>(data)[i]);
    case ScalarType::Int16: return static_cast<T>(static_cast<const int16_t*>(data)[i]);
    case ScalarType::Int8: return static_cast<T>(static_cast<const int8_t*>(data)[i]);
    case ScalarType::UInt8: return static_cast<T>(static_cast<const uint8_t*>(data)[i]);
    case ScalarType::Bool: return static_cast<T>(static_cast<const bool*>(data)[i] ? 1 : 0);
    case ScalarType::Float16: return static_cast<T>(half_to_float(static_cast<const uint16_t*>(data)[i]));
    case ScalarType::BFloat16: return static_cast<T>(bf16_to_float(static_cast<const uint16_t*>(data)[i]));
    case ScalarType::ComplexFloat:
    case ScalarType::ComplexDouble: break;  // not a real value; complex kernels read pairs themselves
  }
  return T(0);
}

// Converts a floating value to an integer type without UB on out-of-range
// values (result then unspecified but defined, like a hardware conversion).
template <typename I, typename F>
inline I float_to_int(F v) {
  if (!(v == v)) return I(0);
  if (v >= static_cast<F>(9.2233720368547758e18)) return static_cast<I>(INT64_MAX);
  if (v <= static_cast<F>(-9.2233720368547758e18)) return static_cast<I>(INT64_MIN);
  return static_cast<I>(static_cast<int64_t>(v));
}

// Writes `v` (of type T) as element `i` of `data` with dtype `t`.
template <typename T>
inline void store_as(void* data, ScalarType t, int64_t i, T v) {
  constexpr bool kFloat = static_cast<T>(0.5) != static_cast<T>(0);
  switch (t) {
    case ScalarType::Float32: static_cast<float*>(data)[i] = static_cast<float>(v); return;
    case ScalarType::Float64: static_cast<double*>(data)[i] = static_cast<double>(v); return;
    case ScalarType::Int32:
      static_cast<int32_t*>(data)[i] = kFloat ? float_to_int<int32_t>(v) : static_cast<int32_t>(v); return;
    case ScalarType::Int64:
      static_cast<int64_t*>(data)[i] = kFloat ? float_to_int<int64_t>(v) : static_cast<int64_t>(v); return;
    case ScalarType::Int16:
      static_cast<int16_t*>(data)[i] = kFloat ? float_to_int<int16_t>(v) : static_cast<int16_t>(v); return;
    case ScalarType::Int8:
      static_cast<int8_t*>(data)[i] = kFloat ? float_to_int<int8_t>(v) : static_cast<int8_t>(v); return;
    case ScalarType::UInt8:
      static_cast<uint8_t*>(data)[i] = kFloat ? float_to_int<uint8_t>(v) : static_cast<uint8_t>(v); return;
    case ScalarType::Bool: static_cast<bool*>(data)[i] = v != static_cast<T>(0); return;
    case ScalarType::Float16: static_cast<uint16_t*>(data)[i] = float_to_half(static_cast<float>(v)); return;
    case ScalarType::BFloat16: static_cast<uint16_t*>(data)[i] = float_to_bf16(static_cast<float>(v)); return;
    case ScalarType::ComplexFloat:
    case ScalarType::ComplexDouble: return;  // unreachable: the method loader keeps complex from real kernels
  }
}

// Copies `n` elements converting dtypes (plain memcpy when equal).
void convert_elements(const void* src, ScalarType src_t, void* dst, ScalarType dst_t, int64_t n);

// PyTorch's type promotion of two dtypes (promoteTypes) for the dtypes Wick knows.
ScalarType promote_types(ScalarType a, ScalarType b);
// Whether a value of dtype `from` may be written to an out tensor of dtype `to`
// (PyTorch's canCast: no float -> integral, no non-bool -> bool).
bool can_cast(ScalarType from, ScalarType to);

// ---- typed dispatch ----------------------------------------------------------
// float16 / bfloat16 elements as distinct C++ types (bit storage); arithmetic
// happens in float after conversion, like PyTorch's CPU "opmath".
struct Half {
  uint16_t bits;
  Half() = default;
  explicit Half(float f) : bits(float_to_half(f)) {}
  operator float() const { return half_to_float(bits); }
};
struct BFloat16 {
  uint16_t bits;
  BFloat16() = default;
  explicit BFloat16(float f) : bits(float_to_bf16(f)) {}
  operator float() const { return bf16_to_float(bits); }
};
template <> struct DtypeOf<Half> { static constexpr ScalarType value = ScalarType::Float16; };
template <> struct DtypeOf<BFloat16> { static constexpr ScalarType value = ScalarType::BFloat16; };

template <typename T> struct TypeTag { using type = T; };

// The type a dtype computes in: float for float32/16/bf16, double, int64_t
// for every integer type and bool (results are narrowed on store, which
// wraps like PyTorch's integer arithmetic).
template <typename T> struct OpMath { using type = int64_t; };
template <> struct OpMath<float> { using type = float; };
template <> struct OpMath<Half> { using type = float; };
template <> struct OpMath<BFloat16> { using type = float; };
template <> struct OpMath<double> { using type = double; };

// Converts a compute value to element type T (floating -> integer without UB).
template <typename T, typename C>
inline T cast_to(C v) {
  if constexpr (std::is_same<T, C>::value) {
    return v;
  } else if constexpr (std::is_same<T, bool>::value) {
    return v != C(0);
  } else if constexpr (std::is_same<T, Half>::value || std::is_same<T, BFloat16>::value) {
    return T(static_cast<float>(v));
  } else if constexpr (std::is_integral<T>::value && std::is_floating_point<C>::value) {
    return float_to_int<T>(v);
  } else if constexpr (std::is_same<C, Half>::value || std::is_same<C, BFloat16>::value) {
    return cast_to<T>(static_cast<float>(v));
  } else {
    return static_cast<T>(v);
  }
}

// Calls fn(TypeTag<T>{}) with the element type of `t`.
template <typename Fn>
inline void dispatch_all(ScalarType t, Fn&& fn) {
  switch (t) {
    case ScalarType::Float32: fn(TypeTag<float>{}); return;
    case ScalarType::Float64: fn(TypeTag<double>{}); return;
    case ScalarType::Float16: fn(TypeTag<Half>{}); return;
    case ScalarType::BFloat16: fn(TypeTag<BFloat16>{}); return;
    case ScalarType::Int8: fn(TypeTag<int8_t>{}); return;
    case ScalarType::Int16: fn(TypeTag<int16_t>{}); return;
    case ScalarType::Int32: fn(TypeTag<int32_t>{}); return;
    case ScalarType::Int64: fn(TypeTag<int64_t>{}); return;
    case ScalarType::UInt8: fn(TypeTag<uint8_t>{}); return;
    case ScalarType::Bool: fn(TypeTag<bool>{}); return;
    case ScalarType::ComplexFloat:
    case ScalarType::ComplexDouble: return;  // unreachable: the method loader keeps complex from real kernels
  }
}
// Only the floating types; returns false (fn not called) for others.
template <typename Fn>
inline bool dispatch_floating(ScalarType t, Fn&& fn) {
  switch (t) {
    case ScalarType::Float32: fn(TypeTag<float>{}); return true;
    case ScalarType::Float64: fn(TypeTag<double>{}); return true;
    case ScalarType::Float16: fn(TypeTag<Half>{}); return true;
    case ScalarType::BFloat16: fn(TypeTag<BFloat16>{}); return true;
    default: return false;
  }
}
// Calls fn(TypeTag<C>{}) with the compute type of dtype `t` (OpMath).
template <typename Fn>
inline void dispatch_compute(ScalarType t, Fn&& fn) {
  if (t == ScalarType::Float64) fn(TypeTag<double>{});
  else if (is_floating(t)) fn(TypeTag<float>{});
  else fn(TypeTag<int64_t>{});
}

// Type promotion of PyTorch's result_type: dimensioned tensors > zero-dim
// tensors > wrapped Python scalars; a higher category (bool < int < float)
// in a lower priority class still wins the category.
struct ResultType {
  int dim_result = -1;
  int zero_result = -1;
  int wrapped_result = -1;
  void add_tensor(const Tensor& t);
  void add_scalar(const Value& v);
  ScalarType result() const;
};

// Memory order shared by every operand of an elementwise op, so that it can
// walk memory linearly: all contiguous, or all the same shape and dim order.
// Fails with NotSupported naming the op otherwise.
Error check_same_layout(const KernelContext& ctx, const Tensor* const* ts, int n);

// ---- shapes -------------------------------------------------------------------

// Broadcasts shapes a and b (PyTorch rules) into out (rank = max rank).
Error broadcast_shapes(const KernelContext& ctx, const int64_t* a, int a_dim, const int64_t* b, int b_dim,
                       int64_t* out, int* out_dim);

// Element strides of each logical dim of `t` given its dim order (the
// contiguous strides when the order is the identity).
void dim_order_strides(const Tensor& t, int64_t* strides);

// Contiguous element strides of a shape.
void contiguous_strides(const int64_t* sizes, int dim, int64_t* strides);

// Strides of `sizes` (rank `dim`) viewed as broadcast to rank `out_dim`
// (0 for broadcast and missing dims).
void broadcast_strides(const int64_t* sizes, int dim, const int64_t* out_sizes, int out_dim, int64_t* strides);

// Iterates a multi-dimensional index over `sizes` (rank >= 1) with up to
// three operand stride sets; calls fn(off0, off1, off2, inner_count,
// inner_stride0, inner_stride1, inner_stride2) once per row of the last dim.
template <int N, typename Fn>
inline void for_each_row(const int64_t* sizes, int dim, const int64_t (*strides)[kMaxDims], Fn fn) {
  if (dim == 0) {
    int64_t offs[N] = {};
    int64_t inner[N] = {};
    fn(offs, int64_t(1), inner);
    return;
  }
  for (int d = 0; d < dim; ++d)
    if (sizes[d] == 0) return;
  int64_t idx[kMaxDims] = {};
  int64_t offs[N] = {};
  int64_t inner[N];
  for (int k = 0; k < N; ++k) inner[k] = strides[k][dim - 1];
  const int64_t n = sizes[dim - 1];
  while (true) {
    fn(offs, n, inner);
    int d = dim - 2;
    for (; d >= 0; --d) {
      ++idx[d];
      for (int k = 0; k < N; ++k) offs[k] += strides[k][d];
      if (idx[d] < sizes[d]) break;
      for (int k = 0; k < N; ++k) offs[k] -= strides[k][d] * sizes[d];
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

// Copies `src` (elements of `elem` bytes: 1, 2, 4, 8 or 16, shape `sizes`, element strides
// `src_strides`) into contiguous `dst`.
void strided_copy(const void* src, void* dst, size_t elem, const int64_t* sizes, int dim, const int64_t* src_strides);

// Short "[2, 3]" rendering for messages (uses a rotating static buffer set of 4).
const char* shape_str(const int64_t* sizes, int dim);
inline const char* shape_str(const Tensor& t) { return shape_str(t.sizes, t.dim); }

}  // namespace portable
}  // namespace wick

// Shorthand used inside kernels: the KernelContext is `ctx`.
#define WICK_CHECK(cond, err, ...)                        \
  do {                                                    \
    if (!(cond)) return ::wick::fail((err), __VA_ARGS__); \
  } while (0)
