// Padding: constant_pad_nd (any dims, negative pads crop), reflection_pad
// 1d/2d/3d and replication_pad 2d/3d. `pad` lists (before, after) pairs
// starting from the last dim, like torch.nn.functional.pad. Byte-wise copies,
// so every dtype is supported.
#include <cstdint>
#include <cstring>

#include "portable/util.h"

namespace wick {
namespace portable {
namespace {

enum class PadMode { Constant, Reflect, Replicate };

Error pad_common(KernelContext& ctx, const Tensor& self, const int64_t* pad, int npad, PadMode mode, const Value* value,
                 Tensor& out, int min_rank_unbatched) {
  if (npad % 2 != 0) return fail(Error::InvalidArgument, "%s: padding length must be divisible by 2", ctx.op_name);
  const int k = npad / 2;
  if (k > self.dim) {
    return fail(Error::InvalidArgument, "%s: padding length %d too large for a %d-D input", ctx.op_name, npad, self.dim);
  }
  if (mode != PadMode::Constant && (self.dim < min_rank_unbatched || self.dim > min_rank_unbatched + 1)) {
    return fail(Error::InvalidArgument, "%s: expected a %d-D or %d-D input, got %s", ctx.op_name, min_rank_unbatched,
                min_rank_unbatched + 1, shape_str(self));
  }
  int64_t before[kMaxDims] = {}, out_sizes[kMaxDims];
  for (int d = 0; d < self.dim; ++d) out_sizes[d] = self.sizes[d];
  for (int j = 0; j < k; ++j) {
    const int d = self.dim - 1 - j;
    const int64_t lo = pad[2 * j], hi = pad[2 * j + 1];
    if (mode == PadMode::Reflect && (lo >= self.sizes[d] || hi >= self.sizes[d] || lo < 0 || hi < 0)) {
      return fail(Error::InvalidArgument, "%s: padding size should be less than the corresponding input dimension, but "
                  "got padding (%lld, %lld) at dimension %d of input %s", ctx.op_name, static_cast<long long>(lo),
                  static_cast<long long>(hi), d, shape_str(self));
    }
    if (mode == PadMode::Replicate && (lo < 0 || hi < 0 || self.sizes[d] == 0)) {
      return fail(Error::InvalidArgument, "%s: invalid padding (%lld, %lld) for input %s", ctx.op_name,
                  static_cast<long long>(lo), static_cast<long long>(hi), shape_str(self));
    }
    before[d] = lo;
    out_sizes[d] = self.sizes[d] + lo + hi;
    if (out_sizes[d] < 0) {
      return fail(Error::InvalidArgument, "%s: resulting padded dimension %d would have negative size %lld", ctx.op_name,
                  d, static_cast<long long>(out_sizes[d]));
    }
  }
  if (self.dtype != out.dtype) return fail(Error::InvalidArgument, "%s: out dtype must match the input's", ctx.op_name);
  WICK_TRY(resize(ctx, out, out_sizes, self.dim));
  const int64_t n = out.numel();
  if (n == 0) return Error::Ok;
  const size_t es = element_size(self.dtype);
  // A complex fill is (value, 0): its real part is stored as the component
  // dtype (irfft to a longer signal pads its spectrum with zeros this way).
  alignas(16) unsigned char fill[16] = {};
  if (value != nullptr) {
    const ScalarType fill_type = self.dtype == ScalarType::ComplexFloat    ? ScalarType::Float32
                                 : self.dtype == ScalarType::ComplexDouble ? ScalarType::Float64
                                                                           : self.dtype;
    if (value->tag == ValueTag::Double) store_as<double>(fill, fill_type, 0, value->d);
    else store_as<int64_t>(fill, fill_type, 0, value->scalar_as_int());
  }
  int64_t in_strides[kMaxDims];
  contiguous_strides(self.sizes, self.dim, in_strides);
  const unsigned char* s = static_cast<const unsigned char*>(self.data);
  unsigned char* o = static_cast<unsigned char*>(out.data);
  int64_t idx[kMaxDims] = {};
  for (int64_t i = 0; i < n; ++i) {
    int64_t off = 0;
    bool inside = true;
    for (int d = 0; d < self.dim; ++d) {
      int64_t c = idx[d] - before[d];
      const int64_t size = self.sizes[d];
      if (c < 0 || c >= size) {
        if (mode == PadMode::Constant) {
          inside = false;
          break;
        }
        if (mode == PadMode::Reflect) c = c < 0 ? -c : 2 * (size - 1) - c;
        else c = c < 0 ? 0 : size - 1;
      }
      off += c * in_strides[d];
    }
    std::memcpy(o + i * static_cast<int64_t>(es), inside ? s + off * static_cast<int64_t>(es) : fill, es);
    for (int d = self.dim - 1; d >= 0; --d) {
      if (++idx[d] < out_sizes[d]) break;
      idx[d] = 0;
    }
  }
  return Error::Ok;
}

// constant_pad_nd.out(self, pad, value, out)
Error constant_pad_nd_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 4));
  Tensor *self, *out;
  const int64_t* pad;
  int n;
  const Value* value;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_int_list(ctx, args, 1, &pad, &n));
  WICK_TRY(get_scalar(ctx, args, 2, &value));
  WICK_TRY(get_tensor(ctx, args, 3, &out));
  return pad_common(ctx, *self, pad, n, PadMode::Constant, value, *out, 0);
}

template <PadMode mode, int spatial>
Error pad_nd_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 3));
  Tensor *self, *out;
  const int64_t* pad;
  int n;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_int_list(ctx, args, 1, &pad, &n));
  WICK_TRY(get_tensor(ctx, args, 2, &out));
  if (n != 2 * spatial) {
    return fail(Error::InvalidArgument, "%s: padding must have %d values, got %d", ctx.op_name, 2 * spatial, n);
  }
  return pad_common(ctx, *self, pad, n, mode, nullptr, *out, spatial + 1);
}

constexpr uint32_t kNoBool = kAllDtypes & ~dtype_bit(ScalarType::Bool);

}  // namespace
}  // namespace portable
}  // namespace wick

using namespace wick::portable;

WICK_REGISTER_KERNELS(pad_ops,
                      {"aten::constant_pad_nd.out", kAllDtypes | kComplexDtypes, &constant_pad_nd_out, nullptr},
                      {"aten::reflection_pad1d.out", kNoBool, &pad_nd_out<PadMode::Reflect, 1>, nullptr},
                      {"aten::reflection_pad2d.out", kNoBool, &pad_nd_out<PadMode::Reflect, 2>, nullptr},
                      {"aten::reflection_pad3d.out", kNoBool, &pad_nd_out<PadMode::Reflect, 3>, nullptr},
                      {"aten::replication_pad2d.out", kNoBool, &pad_nd_out<PadMode::Replicate, 2>, nullptr},
                      {"aten::replication_pad3d.out", kNoBool, &pad_nd_out<PadMode::Replicate, 3>, nullptr})
