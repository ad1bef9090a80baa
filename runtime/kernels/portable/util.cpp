#include "portable/util.h"

#include <cstdio>

namespace wick {
namespace portable {

Error check_num_args(const KernelContext& ctx, int num_args, int expected) {
  if (num_args != expected) {
    return fail(Error::InvalidArgument, "%s: expected %d arguments (inputs then outputs), got %d", ctx.op_name,
                expected, num_args);
  }
  return Error::Ok;
}

static Error arg_missing(const KernelContext& ctx, Value* const* args, int i) {
  if (args == nullptr || args[i] == nullptr) {
    return fail(Error::InvalidArgument, "%s: argument %d is missing", ctx.op_name, i);
  }
  return Error::Ok;
}

static Error wrong_kind(const KernelContext& ctx, int i, const char* want, const Value& v) {
  return fail(Error::InvalidArgument, "%s: argument %d must be %s, got %s", ctx.op_name, i, want,
              value_tag_name(v.tag));
}

static Error check_tensor(const KernelContext& ctx, int i, const Tensor* t) {
  if (t == nullptr) return fail(Error::InvalidArgument, "%s: argument %d is a null tensor", ctx.op_name, i);
  if (t->dim < 0 || t->dim > kMaxDims) {
    return fail(Error::InvalidArgument, "%s: argument %d has invalid rank %d", ctx.op_name, i, t->dim);
  }
  if (!t->is_contiguous()) {
    return fail(Error::NotSupported, "%s: argument %d is not contiguous (non-identity dim order); only contiguous "
                "row-major tensors are supported by the portable kernels", ctx.op_name, i);
  }
  for (int d = 0; d < t->dim; ++d) {
    if (t->sizes[d] < 0) {
      return fail(Error::InvalidArgument, "%s: argument %d has negative size in dim %d", ctx.op_name, i, d);
    }
  }
  return Error::Ok;
}

Error get_tensor(const KernelContext& ctx, Value* const* args, int i, Tensor** out) {
  WICK_TRY(arg_missing(ctx, args, i));
  const Value& v = *args[i];
  if (v.tag != ValueTag::Tensor) return wrong_kind(ctx, i, "a Tensor", v);
  WICK_TRY(check_tensor(ctx, i, v.tensor));
  *out = v.tensor;
  return Error::Ok;
}

Error get_opt_tensor(const KernelContext& ctx, Value* const* args, int i, Tensor** out) {
  WICK_TRY(arg_missing(ctx, args, i));
  if (args[i]->tag == ValueTag::Null) {
    *out = nullptr;
    return Error::Ok;
  }
  return get_tensor(ctx, args, i, out);
}

Error get_int(const KernelContext& ctx, Value* const* args, int i, int64_t* out) {
  WICK_TRY(arg_missing(ctx, args, i));
  const Value& v = *args[i];
  if (v.tag == ValueTag::Int) {
    *out = v.i;
  } else if (v.tag == ValueTag::Bool) {
    *out = v.b ? 1 : 0;
  } else {
    return wrong_kind(ctx, i, "an int", v);
  }
  return Error::Ok;
}

Error get_opt_int(const KernelContext& ctx, Value* const* args, int i, int64_t* out, bool* present) {
  WICK_TRY(arg_missing(ctx, args, i));
  if (args[i]->tag == ValueTag::Null) {
    *present = false;
    *out = 0;
    return Error::Ok;
  }
  *present = true;
  return get_int(ctx, args, i, out);
}

Error get_bool(const KernelContext& ctx, Value* const* args, int i, bool* out) {
  WICK_TRY(arg_missing(ctx, args, i));
  const Value& v = *args[i];
  if (v.tag == ValueTag::Bool) {
    *out = v.b;
  } else if (v.tag == ValueTag::Int) {
    *out = v.i != 0;
  } else {
    return wrong_kind(ctx, i, "a bool", v);
  }
  return Error::Ok;
}

Error get_double(const KernelContext& ctx, Value* const* args, int i, double* out) {
  WICK_TRY(arg_missing(ctx, args, i));
  const Value& v = *args[i];
  if (!v.is_scalar()) return wrong_kind(ctx, i, "a float", v);
  *out = v.scalar_as_double();
  return Error::Ok;
}

Error get_scalar(const KernelContext& ctx, Value* const* args, int i, const Value** out) {
  WICK_TRY(arg_missing(ctx, args, i));
  const Value& v = *args[i];
  if (!v.is_scalar()) return wrong_kind(ctx, i, "a Scalar (int, float or bool)", v);
  *out = &v;
  return Error::Ok;
}

Error get_int_list(const KernelContext& ctx, Value* const* args, int i, const int64_t** data, int* size,
                   bool allow_null, bool* present) {
  WICK_TRY(arg_missing(ctx, args, i));
  const Value& v = *args[i];
  if (present != nullptr) *present = true;
  if (v.tag == ValueTag::Null && allow_null) {
    if (present != nullptr) *present = false;
    *data = nullptr;
    *size = 0;
    return Error::Ok;
  }
  if (v.tag == ValueTag::Int) {
    // A single int where int[N] is expected (PyTorch broadcasts it).
    *data = &args[i]->i;
    *size = 1;
    return Error::Ok;
  }
  if (v.tag != ValueTag::IntList) return wrong_kind(ctx, i, allow_null ? "an int list or None" : "an int list", v);
  if (v.ints.size < 0 || (v.ints.size > 0 && v.ints.data == nullptr)) {
    return fail(Error::InvalidArgument, "%s: argument %d is a malformed int list", ctx.op_name, i);
  }
  *data = v.ints.data;
  *size = v.ints.size;
  return Error::Ok;
}

Error get_tensor_list(const KernelContext& ctx, Value* const* args, int i, Tensor* const** data, int* size) {
  WICK_TRY(arg_missing(ctx, args, i));
  const Value& v = *args[i];
  if (v.tag != ValueTag::TensorList) return wrong_kind(ctx, i, "a Tensor list", v);
  if (v.tensors.size < 0 || (v.tensors.size > 0 && v.tensors.data == nullptr)) {
    return fail(Error::InvalidArgument, "%s: argument %d is a malformed tensor list", ctx.op_name, i);
  }
  for (int k = 0; k < v.tensors.size; ++k) {
    if (v.tensors.data[k] == nullptr) {
      return fail(Error::InvalidArgument, "%s: item %d of tensor list argument %d is None", ctx.op_name, k, i);
    }
    Error e = check_tensor(ctx, i, v.tensors.data[k]);
    if (e != Error::Ok) return e;
  }
  *data = v.tensors.data;
  *size = v.tensors.size;
  return Error::Ok;
}

Error check_dtype(const KernelContext& ctx, const Tensor& t, ScalarType expected, const char* what) {
  if (t.dtype != expected) {
    return fail(Error::InvalidArgument, "%s: %s must be %s, got %s", ctx.op_name, what, scalar_type_name(expected),
                scalar_type_name(t.dtype));
  }
  return Error::Ok;
}

Error check_same_dtype(const KernelContext& ctx, const Tensor& a, const Tensor& b, const char* what_a,
                       const char* what_b) {
  if (a.dtype != b.dtype) {
    return fail(Error::InvalidArgument, "%s: %s (%s) and %s (%s) must have the same dtype", ctx.op_name, what_a,
                scalar_type_name(a.dtype), what_b, scalar_type_name(b.dtype));
  }
  return Error::Ok;
}

Error check_rank(const KernelContext& ctx, const Tensor& t, int min_rank, int max_rank, const char* what) {
  if (t.dim < min_rank || t.dim > max_rank) {
    if (min_rank == max_rank) {
      return fail(Error::InvalidArgument, "%s: %s must be %d-D, got shape %s", ctx.op_name, what, min_rank,
                  shape_str(t));
    }
    return fail(Error::InvalidArgument, "%s: %s must be %d-D to %d-D, got shape %s", ctx.op_name, what, min_rank,
                max_rank, shape_str(t));
  }
  return Error::Ok;
}

Error normalize_dim(const KernelContext& ctx, int64_t dim, int rank, int* out) {
  int64_t r = rank == 0 ? 1 : rank;
  if (dim < -r || dim >= r) {
    return fail(Error::InvalidArgument, "%s: dimension %lld out of range for a tensor of rank %d (expected in [%lld, %lld])",
                ctx.op_name, static_cast<long long>(dim), rank, static_cast<long long>(-r),
                static_cast<long long>(r - 1));
  }
  *out = static_cast<int>(dim < 0 ? dim + r : dim);
  return Error::Ok;
}

Error resize(const KernelContext& ctx, Tensor& out, const int64_t* sizes, int dim) {
  if (dim > kMaxDims) {
    return fail(Error::NotSupported, "%s: output rank %d exceeds the maximum of %d", ctx.op_name, dim, kMaxDims);
  }
  Error e = resize_tensor(out, sizes, dim);
  if (e != Error::Ok) {
    char msg[600];
    std::snprintf(msg, sizeof(msg), "%s", last_error_message());
    return fail(e, "%s: cannot resize output: %s", ctx.op_name, msg);
  }
  if (out.data == nullptr && out.numel() > 0) {
    return fail(Error::InvalidArgument, "%s: output tensor has no data", ctx.op_name);
  }
  return Error::Ok;
}

Error check_scratch(const KernelContext& ctx, size_t bytes) {
  if (bytes > 0 && (ctx.scratch == nullptr || ctx.scratch_bytes < bytes)) {
    return fail(Error::OutOfMemory, "%s: needs %zu bytes of kernel scratch, only %zu provided", ctx.op_name, bytes,
                ctx.scratch == nullptr ? size_t(0) : ctx.scratch_bytes);
  }
  return Error::Ok;
}

Tensor* tensor_or_null(Value* const* args, int num_args, int i) {
  if (args == nullptr || i < 0 || i >= num_args || args[i] == nullptr || args[i]->tag != ValueTag::Tensor) {
    return nullptr;
  }
  Tensor* t = args[i]->tensor;
  if (t == nullptr || t->dim < 0 || t->dim > kMaxDims) return nullptr;
  return t;
}

Error get_tensor_any_order(const KernelContext& ctx, Value* const* args, int i, Tensor** out) {
  WICK_TRY(arg_missing(ctx, args, i));
  const Value& v = *args[i];
  if (v.tag != ValueTag::Tensor) return wrong_kind(ctx, i, "a Tensor", v);
  const Tensor* t = v.tensor;
  if (t == nullptr || t->dim < 0 || t->dim > kMaxDims) {
    return fail(Error::InvalidArgument, "%s: argument %d is not a valid tensor", ctx.op_name, i);
  }
  for (int d = 0; d < t->dim; ++d) {
    if (t->sizes[d] < 0) return fail(Error::InvalidArgument, "%s: argument %d has negative size in dim %d", ctx.op_name, i, d);
  }
  *out = v.tensor;
  return Error::Ok;
}

Error get_opt_tensor_list(const KernelContext& ctx, Value* const* args, int i, Tensor* const** data, int* size) {
  WICK_TRY(arg_missing(ctx, args, i));
  const Value& v = *args[i];
  if (v.tag != ValueTag::TensorList) return wrong_kind(ctx, i, "a list of optional tensors", v);
  if (v.tensors.size < 0 || (v.tensors.size > 0 && v.tensors.data == nullptr)) {
    return fail(Error::InvalidArgument, "%s: argument %d is a malformed tensor list", ctx.op_name, i);
  }
  for (int k = 0; k < v.tensors.size; ++k) {
    if (v.tensors.data[k] != nullptr) WICK_TRY(check_tensor(ctx, i, v.tensors.data[k]));
  }
  *data = v.tensors.data;
  *size = v.tensors.size;
  return Error::Ok;
}

Error get_opt_dtype(const KernelContext& ctx, Value* const* args, int i, ScalarType* out, bool* present) {
  int64_t code;
  WICK_TRY(get_opt_int(ctx, args, i, &code, present));
  if (!*present) return Error::Ok;
  if (code < 0 || code >= kNumScalarTypes) {
    return fail(Error::InvalidArgument, "%s: argument %d is not a dtype Wick knows (code %lld)", ctx.op_name, i,
                static_cast<long long>(code));
  }
  *out = static_cast<ScalarType>(code);
  return Error::Ok;
}

Error get_opt_scalar(const KernelContext& ctx, Value* const* args, int i, const Value** out) {
  WICK_TRY(arg_missing(ctx, args, i));
  if (args[i]->tag == ValueTag::Null) {
    *out = nullptr;
    return Error::Ok;
  }
  return get_scalar(ctx, args, i, out);
}

Error get_opt_string(const KernelContext& ctx, Value* const* args, int i, const char** data, uint32_t* size) {
  WICK_TRY(arg_missing(ctx, args, i));
  const Value& v = *args[i];
  if (v.tag == ValueTag::Null) {
    *data = nullptr;
    *size = 0;
    return Error::Ok;
  }
  if (v.tag != ValueTag::String) return wrong_kind(ctx, i, "a string", v);
  *data = v.str.data;
  *size = v.str.size;
  return Error::Ok;
}

Error check_can_cast(const KernelContext& ctx, ScalarType from, ScalarType to) {
  if (!can_cast(from, to)) {
    return fail(Error::InvalidArgument, "%s: result type %s can't be cast to the desired output type %s", ctx.op_name,
                scalar_type_name(from), scalar_type_name(to));
  }
  return Error::Ok;
}

namespace {
int combine_categories(int higher, int lower) {
  if (higher != -1 && is_floating(static_cast<ScalarType>(higher))) return higher;
  if (higher == static_cast<int>(ScalarType::Bool) || (lower != -1 && is_floating(static_cast<ScalarType>(lower)))) {
    if (higher == -1) return lower;
    if (lower == -1) return higher;
    return static_cast<int>(promote_types(static_cast<ScalarType>(higher), static_cast<ScalarType>(lower)));
  }
  if (higher != -1) return higher;
  return lower;
}
int update_result(int cur, ScalarType t) {
  return cur == -1 ? static_cast<int>(t) : static_cast<int>(promote_types(static_cast<ScalarType>(cur), t));
}
}  // namespace

void ResultType::add_tensor(const Tensor& t) {
  if (t.dim > 0) dim_result = update_result(dim_result, t.dtype);
  else zero_result = update_result(zero_result, t.dtype);
}

void ResultType::add_scalar(const Value& v) {
  // A Python float counts as the default dtype (float32), an int as int64.
  ScalarType t = v.tag == ValueTag::Double ? ScalarType::Float32
                 : v.tag == ValueTag::Bool ? ScalarType::Bool
                                           : ScalarType::Int64;
  wrapped_result = update_result(wrapped_result, t);
}

ScalarType ResultType::result() const {
  int r = combine_categories(dim_result, combine_categories(zero_result, wrapped_result));
  return r == -1 ? ScalarType::Float32 : static_cast<ScalarType>(r);
}

Error check_same_layout(const KernelContext& ctx, const Tensor* const* ts, int n) {
  bool all_contiguous = true;
  for (int k = 0; k < n; ++k)
    if (ts[k] != nullptr && !ts[k]->is_contiguous() && ts[k]->numel() > 1) all_contiguous = false;
  if (all_contiguous) return Error::Ok;
  const Tensor* ref = nullptr;
  for (int k = 0; k < n; ++k) {
    const Tensor* t = ts[k];
    if (t == nullptr || t->numel() <= 1) continue;  // scalars broadcast in any order
    if (ref == nullptr) {
      ref = t;
      continue;
    }
    bool same = t->dim == ref->dim;
    for (int d = 0; same && d < t->dim; ++d) same = t->sizes[d] == ref->sizes[d] && t->dim_order[d] == ref->dim_order[d];
    if (!same) {
      return fail(Error::NotSupported,
                  "%s: operands with a non-contiguous dim order (e.g. channels-last) must all have the same shape and "
                  "dim order; got %s and %s. Broadcasting across dim orders is not supported by the portable kernels",
                  ctx.op_name, shape_str(*ref), shape_str(*t));
    }
  }
  return Error::Ok;
}

bool is_integral(ScalarType t, bool include_bool) {
  switch (t) {
    case ScalarType::Int8:
    case ScalarType::Int16:
    case ScalarType::Int32:
    case ScalarType::Int64:
    case ScalarType::UInt8: return true;
    case ScalarType::Bool: return include_bool;
    default: return false;
  }
}

float half_to_float(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {
      // subnormal: normalize
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while ((mant & 0x400u) == 0);
      mant &= 0x3ffu;
      bits = sign | (static_cast<uint32_t>(127 - 15 - e) << 23) | (mant << 13);
    }
  } else if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t float_to_half(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t abs = x & 0x7fffffffu;
  if (abs >= 0x7f800000u) return static_cast<uint16_t>(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0u));
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow -> inf
  if (abs < 0x38800000u) {                                               // subnormal or zero
    if (abs < 0x33000000u) return static_cast<uint16_t>(sign);
    uint32_t e = abs >> 23;
    uint32_t m = (abs & 0x7fffffu) | 0x800000u;
    uint32_t shift = 126 - e;  // value / 2^-24 = m * 2^(e - 126)
    uint32_t res = m >> shift;
    uint32_t rem = m & ((1u << shift) - 1);
    uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (res & 1u))) ++res;
    return static_cast<uint16_t>(sign | res);
  }
  uint32_t res = ((abs - 0x38000000u) >> 13);
  uint32_t rem = abs & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (res & 1u))) ++res;
  return static_cast<uint16_t>(sign | res);
}

float bf16_to_float(uint16_t h) {
  uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t float_to_bf16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);
  uint32_t lsb = (x >> 16) & 1u;
  x += 0x7fffu + lsb;
  return static_cast<uint16_t>(x >> 16);
}

void convert_elements(const void* src, ScalarType src_t, void* dst, ScalarType dst_t, int64_t n) {
  if (src_t == dst_t) {
    if (n > 0 && src != dst) std::memmove(dst, src, static_cast<size_t>(n) * element_size(src_t));
    return;
  }
  if (is_integral(src_t, true) && is_integral(dst_t, true)) {
    for (int64_t i = 0; i < n; ++i) store_as<int64_t>(dst, dst_t, i, load_as<int64_t>(src, src_t, i));
  } else {
    for (int64_t i = 0; i < n; ++i) store_as<double>(dst, dst_t, i, load_as<double>(src, src_t, i));
  }
}

namespace {
// Index of each dtype in PyTorch's promotion table order: u1 i1 i2 i4 i8 f2 f4 f8 b1 bf16.
int promo_index(ScalarType t) {
  switch (t) {
    case ScalarType::UInt8: return 0;
    case ScalarType::Int8: return 1;
    case ScalarType::Int16: return 2;
    case ScalarType::Int32: return 3;
    case ScalarType::Int64: return 4;
    case ScalarType::Float16: return 5;
    case ScalarType::Float32: return 6;
    case ScalarType::Float64: return 7;
    case ScalarType::Bool: return 8;
    case ScalarType::BFloat16: return 9;
    case ScalarType::ComplexFloat:
    case ScalarType::ComplexDouble: break;  // real kernels never see complex (method loader)
  }
  return 6;
}
}  // namespace

ScalarType promote_types(ScalarType a, ScalarType b) {
  if (a == b) return a;
  constexpr ScalarType u1 = ScalarType::UInt8, i1 = ScalarType::Int8, i2 = ScalarType::Int16,
                       i4 = ScalarType::Int32, i8 = ScalarType::Int64, f2 = ScalarType::Float16,
                       f4 = ScalarType::Float32, f8 = ScalarType::Float64, b1 = ScalarType::Bool,
                       bf = ScalarType::BFloat16;
  static const ScalarType table[10][10] = {
      /* u1 */ {u1, i2, i2, i4, i8, f2, f4, f8, u1, bf},
      /* i1 */ {i2, i1, i2, i4, i8, f2, f4, f8, i1, bf},
      /* i2 */ {i2, i2, i2, i4, i8, f2, f4, f8, i2, bf},
      /* i4 */ {i4, i4, i4, i4, i8, f2, f4, f8, i4, bf},
      /* i8 */ {i8, i8, i8, i8, i8, f2, f4, f8, i8, bf},
      /* f2 */ {f2, f2, f2, f2, f2, f2, f4, f8, f2, f4},
      /* f4 */ {f4, f4, f4, f4, f4, f4, f4, f8, f4, f4},
      /* f8 */ {f8, f8, f8, f8, f8, f8, f8, f8, f8, f8},
      /* b1 */ {u1, i1, i2, i4, i8, f2, f4, f8, b1, bf},
      /* bf */ {bf, bf, bf, bf, bf, f4, f4, f8, bf, bf},
  };
  return table[promo_index(a)][promo_index(b)];
}

bool can_cast(ScalarType from, ScalarType to) {
  // The portable kernels convert no complex values (PyTorch would also
  // widen real -> complex and complex64 -> complex128): only same-dtype copies.
  if (is_complex(from) || is_complex(to)) return from == to;
  if (is_floating(from) && is_integral(to, false)) return false;
  if (from != ScalarType::Bool && to == ScalarType::Bool) return false;
  return true;
}

Error broadcast_shapes(const KernelContext& ctx, const int64_t* a, int a_dim, const int64_t* b, int b_dim,
                       int64_t* out, int* out_dim) {
  int n = a_dim > b_dim ? a_dim : b_dim;
  for (int i = 0; i < n; ++i) {
    int ia = i - (n - a_dim);
    int ib = i - (n - b_dim);
    int64_t sa = ia >= 0 ? a[ia] : 1;
    int64_t sb = ib >= 0 ? b[ib] : 1;
    if (sa == sb || sb == 1) {
      out[i] = sa;
    } else if (sa == 1) {
      out[i] = sb;
    } else {
      return fail(Error::InvalidArgument, "%s: shapes %s and %s cannot be broadcast together (dim %d: %lld vs %lld)",
                  ctx.op_name, shape_str(a, a_dim), shape_str(b, b_dim), i, static_cast<long long>(sa),
                  static_cast<long long>(sb));
    }
  }
  *out_dim = n;
  return Error::Ok;
}

void dim_order_strides(const Tensor& t, int64_t* strides) {
  int64_t s = 1;
  for (int k = t.dim - 1; k >= 0; --k) {
    strides[t.dim_order[k]] = s;
    s *= t.sizes[t.dim_order[k]];
  }
}

void contiguous_strides(const int64_t* sizes, int dim, int64_t* strides) {
  int64_t s = 1;
  for (int i = dim - 1; i >= 0; --i) {
    strides[i] = s;
    s *= sizes[i];
  }
}

void broadcast_strides(const int64_t* sizes, int dim, const int64_t* out_sizes, int out_dim, int64_t* strides) {
  int64_t s = 1;
  for (int i = out_dim - 1; i >= 0; --i) {
    int j = i - (out_dim - dim);
    if (j < 0) {
      strides[i] = 0;
    } else {
      strides[i] = (sizes[j] == 1 && out_sizes[i] != 1) ? 0 : s;
      s *= sizes[j];
    }
  }
}

namespace {
template <typename T>
void strided_copy_t(const T* src, T* dst, const int64_t* sizes, int dim, const int64_t* src_strides) {
  int64_t strides[1][kMaxDims];
  for (int d = 0; d < dim; ++d) strides[0][d] = src_strides[d];
  T* o = dst;
  for_each_row<1>(sizes, dim, strides, [&](const int64_t* offs, int64_t n, const int64_t* inner) {
    const T* s = src + offs[0];
    const int64_t st = inner[0];
    if (st == 1) {
      for (int64_t i = 0; i < n; ++i) o[i] = s[i];
    } else if (st == 0) {
      const T v = s[0];
      for (int64_t i = 0; i < n; ++i) o[i] = v;
    } else {
      for (int64_t i = 0; i < n; ++i) o[i] = s[i * st];
    }
    o += n;
  });
}
}  // namespace

void strided_copy(const void* src, void* dst, size_t elem, const int64_t* sizes, int dim, const int64_t* src_strides) {
  switch (elem) {
    case 1: strided_copy_t(static_cast<const uint8_t*>(src), static_cast<uint8_t*>(dst), sizes, dim, src_strides); break;
    case 2: strided_copy_t(static_cast<const uint16_t*>(src), static_cast<uint16_t*>(dst), sizes, dim, src_strides); break;
    case 4: strided_copy_t(static_cast<const uint32_t*>(src), static_cast<uint32_t*>(dst), sizes, dim, src_strides); break;
    case 16: {  // complex128
      struct Pair { uint64_t a, b; };
      strided_copy_t(static_cast<const Pair*>(src), static_cast<Pair*>(dst), sizes, dim, src_strides);
      break;
    }
    default: strided_copy_t(static_cast<const uint64_t*>(src), static_cast<uint64_t*>(dst), sizes, dim, src_strides); break;
  }
}

const char* shape_str(const int64_t* sizes, int dim) {
  thread_local char bufs[4][96];
  thread_local int next = 0;
  char* b = bufs[next];
  next = (next + 1) & 3;
  if (dim < 0 || dim > kMaxDims) {
    std::snprintf(b, 96, "<rank %d>", dim);
    return b;
  }
  return format_shape(sizes, dim, b, 96);
}

}  // namespace portable
}  // namespace wick
