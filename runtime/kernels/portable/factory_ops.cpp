// Factories and dtype conversions: full, full_like, scalar_tensor, empty,
// empty_strided, fill, arange, rand, randn, randperm, native_dropout,
// _to_copy, copy. Outputs take the out tensor's dtype (the program builder
// plans it from the op's dtype argument).
//
// Random numbers: one process-wide xoshiro256** stream seeded with a fixed
// constant (0x5eed) and advanced by every call, so a fresh process repeats the
// same sequence; it is NOT PyTorch's generator (values differ from torch.rand),
// only the distribution matches: rand uniform in [0, 1), randn standard normal
// (Box-Muller), randperm a Fisher-Yates shuffle, dropout keeps with prob 1 - p.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "portable/util.h"

namespace wick {
namespace portable {
namespace {

// ---- the generator ---------------------------------------------------------------

struct Xoshiro {
  uint64_t s[4];
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t next() {
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
};

Xoshiro& generator() {
  // splitmix64 expansion of the fixed seed
  static Xoshiro g = [] {
    Xoshiro x;
    uint64_t z = 0x5eed;
    for (auto& v : x.s) {
      z += 0x9e3779b97f4a7c15ull;
      uint64_t y = z;
      y = (y ^ (y >> 30)) * 0xbf58476d1ce4e5b9ull;
      y = (y ^ (y >> 27)) * 0x94d049bb133111ebull;
      v = y ^ (y >> 31);
    }
    return x;
  }();
  return g;
}

Error sizes_arg(KernelContext& ctx, Value* const* args, int i, int64_t* sizes, int* dim) {
  const int64_t* d;
  int n;
  WICK_TRY(get_int_list(ctx, args, i, &d, &n));
  if (n > kMaxDims) return fail(Error::NotSupported, "%s: rank %d exceeds %d", ctx.op_name, n, kMaxDims);
  for (int k = 0; k < n; ++k) {
    if (d[k] < 0) return fail(Error::InvalidArgument, "%s: negative dimension %lld", ctx.op_name, static_cast<long long>(d[k]));
    sizes[k] = d[k];
  }
  *dim = n;
  return Error::Ok;
}

// Fills all of `out` with the Scalar `v` converted to out's dtype.
void fill_with(Tensor& out, const Value& v) {
  const int64_t n = out.numel();
  if (n == 0) return;
  const size_t es = element_size(out.dtype);
  alignas(8) unsigned char one[8];
  if (v.tag == ValueTag::Double) store_as<double>(one, out.dtype, 0, v.d);
  else store_as<int64_t>(one, out.dtype, 0, v.scalar_as_int());
  unsigned char* o = static_cast<unsigned char*>(out.data);
  for (int64_t i = 0; i < n; ++i) std::memcpy(o + i * es, one, es);
}

// full.out(size, fill_value, out)
Error full_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 3));
  int64_t sizes[kMaxDims];
  int dim;
  const Value* v;
  Tensor* out;
  WICK_TRY(sizes_arg(ctx, args, 0, sizes, &dim));
  WICK_TRY(get_scalar(ctx, args, 1, &v));
  WICK_TRY(get_tensor_any_order(ctx, args, 2, &out));
  WICK_TRY(resize(ctx, *out, sizes, dim));
  fill_with(*out, *v);
  return Error::Ok;
}

// full_like.out(self, fill_value, memory_format?, out)
Error full_like_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 4));
  Tensor *self, *out;
  const Value* v;
  WICK_TRY(get_tensor_any_order(ctx, args, 0, &self));
  WICK_TRY(get_scalar(ctx, args, 1, &v));
  WICK_TRY(get_tensor_any_order(ctx, args, 3, &out));
  WICK_TRY(resize(ctx, *out, self->sizes, self->dim));
  fill_with(*out, *v);
  return Error::Ok;
}

// fill.Scalar_out(self, value, out)
Error fill_scalar_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 3));
  Tensor *self, *out;
  const Value* v;
  WICK_TRY(get_tensor_any_order(ctx, args, 0, &self));
  WICK_TRY(get_scalar(ctx, args, 1, &v));
  WICK_TRY(get_tensor_any_order(ctx, args, 2, &out));
  WICK_TRY(resize(ctx, *out, self->sizes, self->dim));
  fill_with(*out, *v);
  return Error::Ok;
}

// scalar_tensor.out(s, out)
Error scalar_tensor_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 2));
  const Value* v;
  Tensor* out;
  WICK_TRY(get_scalar(ctx, args, 0, &v));
  WICK_TRY(get_tensor_any_order(ctx, args, 1, &out));
  WICK_TRY(resize(ctx, *out, nullptr, 0));
  fill_with(*out, *v);
  return Error::Ok;
}

// empty.out(size, memory_format?, out) / empty_strided.out(size, stride, out):
// contents are unspecified in PyTorch; Wick writes zeros so runs are repeatable.
Error empty_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 3));
  int64_t sizes[kMaxDims];
  int dim;
  Tensor* out;
  WICK_TRY(sizes_arg(ctx, args, 0, sizes, &dim));
  WICK_TRY(get_tensor_any_order(ctx, args, 2, &out));
  WICK_TRY(resize(ctx, *out, sizes, dim));
  if (out->nbytes() > 0) std::memset(out->data, 0, out->nbytes());
  return Error::Ok;
}

// arange.start_out(start, end, step, out): size ceil((end - start) / step),
// values start + i * step computed in double (int64 for int64 outputs).
Error arange_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 4));
  const Value *start, *end, *step;
  Tensor* out;
  WICK_TRY(get_scalar(ctx, args, 0, &start));
  WICK_TRY(get_scalar(ctx, args, 1, &end));
  WICK_TRY(get_scalar(ctx, args, 2, &step));
  WICK_TRY(get_tensor(ctx, args, 3, &out));
  const double s = start->scalar_as_double(), e = end->scalar_as_double(), st = step->scalar_as_double();
  if (st == 0.0) return fail(Error::InvalidArgument, "%s: step must be nonzero", ctx.op_name);
  if (!std::isfinite(s) || !std::isfinite(e)) {
    return fail(Error::InvalidArgument, "%s: unsupported range: %g -> %g", ctx.op_name, s, e);
  }
  if ((st > 0 && e < s) || (st < 0 && e > s)) {
    return fail(Error::InvalidArgument, "%s: upper bound and larger bound inconsistent with step sign", ctx.op_name);
  }
  const bool all_int = start->tag != ValueTag::Double && end->tag != ValueTag::Double && step->tag != ValueTag::Double;
  double size_d;
  // Integer outputs read start/step as int64 (PyTorch's accumulate type),
  // and int64 outputs compute the size from int64 bounds too.
  if (is_integral(out->dtype, false) && step->scalar_as_int() == 0) {
    return fail(Error::InvalidArgument, "%s: step must be nonzero after conversion to %s", ctx.op_name,
                scalar_type_name(out->dtype));
  }
  if (out->dtype == ScalarType::Int64) {
    size_d = std::ceil(static_cast<double>(end->scalar_as_int() - start->scalar_as_int()) /
                       static_cast<double>(step->scalar_as_int()));
  } else {
    size_d = std::ceil((e - s) / st);
  }
  const int64_t n = static_cast<int64_t>(size_d);
  WICK_TRY(resize(ctx, *out, &n, 1));
  (void)all_int;
  if (is_integral(out->dtype, true)) {
    const int64_t s0 = start->scalar_as_int(), st0 = step->scalar_as_int();
    for (int64_t i = 0; i < n; ++i) store_as<int64_t>(out->data, out->dtype, i, s0 + i * st0);
  } else {
    for (int64_t i = 0; i < n; ++i) store_as<double>(out->data, out->dtype, i, s + static_cast<double>(i) * st);
  }
  return Error::Ok;
}

// rand.out(size, out) / randn.out(size, out)
Error random_out(KernelContext& ctx, Value* const* args, int num_args, bool normal) {
  WICK_TRY(check_num_args(ctx, num_args, 2));
  int64_t sizes[kMaxDims];
  int dim;
  Tensor* out;
  WICK_TRY(sizes_arg(ctx, args, 0, sizes, &dim));
  WICK_TRY(get_tensor(ctx, args, 1, &out));
  if (!is_floating(out->dtype)) {
    return fail(Error::InvalidArgument, "%s: expected a floating point output, got %s", ctx.op_name,
                scalar_type_name(out->dtype));
  }
  WICK_TRY(resize(ctx, *out, sizes, dim));
  Xoshiro& g = generator();
  const int64_t n = out->numel();
  for (int64_t i = 0; i < n; ++i) {
    double v;
    if (normal) {
      const double u1 = 1.0 - g.uniform(), u2 = g.uniform();  // u1 in (0, 1]
      v = std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
    } else {
      // Uniform in [0, 1) after rounding to the output dtype: draw with the
      // dtype's mantissa width so rounding can never reach 1.
      const int bits = out->dtype == ScalarType::Float64 ? 53
                       : out->dtype == ScalarType::Float32 ? 24
                       : out->dtype == ScalarType::Float16 ? 11
                                                           : 8;
      v = static_cast<double>(g.next() >> (64 - bits)) / static_cast<double>(uint64_t(1) << bits);
    }
    store_as<double>(out->data, out->dtype, i, v);
  }
  return Error::Ok;
}
Error rand_out(KernelContext& ctx, Value* const* args, int n) { return random_out(ctx, args, n, false); }
Error randn_out(KernelContext& ctx, Value* const* args, int n) { return random_out(ctx, args, n, true); }

// randperm.out(n, out)
Error randperm_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 2));
  int64_t n;
  Tensor* out;
  WICK_TRY(get_int(ctx, args, 0, &n));
  WICK_TRY(get_tensor(ctx, args, 1, &out));
  if (n < 0) return fail(Error::InvalidArgument, "%s: n must be non-negative, got %lld", ctx.op_name, static_cast<long long>(n));
  WICK_TRY(resize(ctx, *out, &n, 1));
  for (int64_t i = 0; i < n; ++i) store_as<int64_t>(out->data, out->dtype, i, i);
  Xoshiro& g = generator();
  const size_t es = element_size(out->dtype);
  unsigned char* o = static_cast<unsigned char*>(out->data);
  unsigned char tmp[8];
  for (int64_t i = n - 1; i > 0; --i) {
    const int64_t j = static_cast<int64_t>(g.next() % static_cast<uint64_t>(i + 1));
    std::memcpy(tmp, o + i * es, es);
    std::memcpy(o + i * es, o + j * es, es);
    std::memcpy(o + j * es, tmp, es);
  }
  return Error::Ok;
}

// native_dropout.out(input, p, train?, out0, out1): out0 = input * mask / (1 - p), out1 = mask.
Error native_dropout_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 5));
  Tensor *in, *out, *mask;
  double p;
  WICK_TRY(get_tensor(ctx, args, 0, &in));
  WICK_TRY(get_double(ctx, args, 1, &p));
  bool train = true;
  if (args[2] != nullptr && !args[2]->is_null()) WICK_TRY(get_bool(ctx, args, 2, &train));
  WICK_TRY(get_tensor(ctx, args, 3, &out));
  WICK_TRY(get_tensor(ctx, args, 4, &mask));
  WICK_TRY(check_dtype(ctx, *mask, ScalarType::Bool, "mask output"));
  if (p < 0 || p > 1) return fail(Error::InvalidArgument, "%s: dropout probability has to be between 0 and 1, but got %g", ctx.op_name, p);
  WICK_TRY(resize(ctx, *out, in->sizes, in->dim));
  WICK_TRY(resize(ctx, *mask, in->sizes, in->dim));
  const int64_t n = in->numel();
  bool* m = mask->data_as<bool>();
  if (!train || p == 0) {
    convert_elements(in->data, in->dtype, out->data, out->dtype, n);
    for (int64_t i = 0; i < n; ++i) m[i] = true;
    return Error::Ok;
  }
  Xoshiro& g = generator();
  const double scale = p == 1 ? 0.0 : 1.0 / (1.0 - p);
  for (int64_t i = 0; i < n; ++i) {
    m[i] = g.uniform() >= p;
    const double x = load_as<double>(in->data, in->dtype, i);
    const double v = m[i] ? x * scale : 0.0;
    if (in->dtype == ScalarType::Float64) store_as<double>(out->data, out->dtype, i, v);
    else store_as<float>(out->data, out->dtype, i, static_cast<float>(load_as<float>(in->data, in->dtype, i) * (m[i] ? static_cast<float>(scale) : 0.0f)));
  }
  return Error::Ok;
}

// Copies self into out (same shape) converting dtypes, honouring each one's
// dim order (e.g. a contiguous -> channels-last _to_copy or clone).
void copy_between_orders(const Tensor& self, Tensor& out) {
  const int64_t n = self.numel();
  if (n == 0) return;
  if ((self.is_contiguous() && out.is_contiguous()) ||
      std::memcmp(self.dim_order, out.dim_order, static_cast<size_t>(self.dim)) == 0) {
    convert_elements(self.data, self.dtype, out.data, out.dtype, n);
    return;
  }
  int64_t src_strides[1][kMaxDims], dst_strides[kMaxDims];
  dim_order_strides(self, src_strides[0]);
  dim_order_strides(out, dst_strides);
  // Walk out in its memory order, reading self through its strides.
  int64_t sizes[kMaxDims], st[1][kMaxDims];
  for (int k = 0; k < out.dim; ++k) {
    sizes[k] = out.sizes[out.dim_order[k]];
    st[0][k] = src_strides[0][out.dim_order[k]];
  }
  int64_t o = 0;
  for_each_row<1>(sizes, out.dim, st, [&](const int64_t* offs, int64_t cnt, const int64_t* inner) {
    for (int64_t i = 0; i < cnt; ++i, ++o) {
      if (is_integral(self.dtype, true) && is_integral(out.dtype, true)) {
        store_as<int64_t>(out.data, out.dtype, o, load_as<int64_t>(self.data, self.dtype, offs[0] + i * inner[0]));
      } else {
        store_as<double>(out.data, out.dtype, o, load_as<double>(self.data, self.dtype, offs[0] + i * inner[0]));
      }
    }
  });
}

// _to_copy.out(self, non_blocking, memory_format?, out): any dtype to any dtype.
Error to_copy_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 4));
  Tensor *self, *out;
  WICK_TRY(get_tensor_any_order(ctx, args, 0, &self));
  WICK_TRY(get_tensor_any_order(ctx, args, 3, &out));
  WICK_TRY(resize(ctx, *out, self->sizes, self->dim));
  copy_between_orders(*self, *out);
  return Error::Ok;
}

// copy.out(self, src, non_blocking, out): src broadcast to self's shape, in out's dtype.
Error copy_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 4));
  Tensor *self, *src, *out;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_tensor(ctx, args, 1, &src));
  WICK_TRY(get_tensor(ctx, args, 3, &out));
  int64_t bsizes[kMaxDims];
  int bdim;
  WICK_TRY(broadcast_shapes(ctx, self->sizes, self->dim, src->sizes, src->dim, bsizes, &bdim));
  if (bdim != self->dim || std::memcmp(bsizes, self->sizes, sizeof(int64_t) * static_cast<size_t>(bdim)) != 0) {
    return fail(Error::InvalidArgument, "%s: source of shape %s cannot be broadcast to %s", ctx.op_name,
                shape_str(*src), shape_str(*self));
  }
  WICK_TRY(resize(ctx, *out, self->sizes, self->dim));
  const int64_t n = out->numel();
  if (n == 0) return Error::Ok;
  if (src->numel() == n) {
    convert_elements(src->data, src->dtype, out->data, out->dtype, n);
    return Error::Ok;
  }
  int64_t strides[1][kMaxDims];
  broadcast_strides(src->sizes, src->dim, out->sizes, out->dim, strides[0]);
  int64_t o = 0;
  const bool ints = is_integral(src->dtype, true) && is_integral(out->dtype, true);
  for_each_row<1>(out->sizes, out->dim, strides, [&](const int64_t* offs, int64_t cnt, const int64_t* inner) {
    for (int64_t i = 0; i < cnt; ++i, ++o) {
      if (ints) store_as<int64_t>(out->data, out->dtype, o, load_as<int64_t>(src->data, src->dtype, offs[0] + i * inner[0]));
      else store_as<double>(out->data, out->dtype, o, load_as<double>(src->data, src->dtype, offs[0] + i * inner[0]));
    }
  });
  return Error::Ok;
}

constexpr uint32_t kFloating = kF32 | dtype_bit(ScalarType::Float64) | dtype_bit(ScalarType::Float16) |
                               dtype_bit(ScalarType::BFloat16);

}  // namespace
}  // namespace portable
}  // namespace wick

using namespace wick::portable;

WICK_REGISTER_KERNELS(factory_ops,
                      {"aten::full.out", kAllDtypes, &full_out, nullptr},
                      {"aten::full_like.out", kAllDtypes, &full_like_out, nullptr},
                      {"aten::fill.Scalar_out", kAllDtypes, &fill_scalar_out, nullptr},
                      {"aten::scalar_tensor.out", kAllDtypes, &scalar_tensor_out, nullptr},
                      {"aten::empty.out", kAllDtypes, &empty_out, nullptr},
                      {"aten::empty_strided.out", kAllDtypes, &empty_out, nullptr},
                      {"aten::arange.start_out", kAllDtypes & ~dtype_bit(wick::ScalarType::Bool), &arange_out, nullptr},
                      {"aten::rand.out", kFloating, &rand_out, nullptr},
                      {"aten::randn.out", kFloating, &randn_out, nullptr},
                      {"aten::randperm.out", kAllDtypes & ~dtype_bit(wick::ScalarType::Bool), &randperm_out, nullptr},
                      {"aten::native_dropout.out", kFloating, &native_dropout_out, nullptr},
                      {"aten::_to_copy.out", kAllDtypes, &to_copy_out, nullptr},
                      {"aten::copy.out", kAllDtypes, &copy_out, nullptr})
