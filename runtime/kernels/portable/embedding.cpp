// aten::embedding.out: gathers rows of a 2-D weight (any dtype, byte-wise) by
// int64 or int32 indices of any shape; _embedding_bag (sum / mean / max bags)
// and embedding_dense_backward for floating dtypes.
#include <cstdint>
#include <cstring>

#include "portable/util.h"

namespace wick {
namespace portable {
namespace {

// (weight, indices, padding_idx, scale_grad_by_freq, sparse, out)
Error embedding_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 6));
  Tensor *weight, *indices, *out;
  int64_t padding_idx;
  bool scale_grad, sparse;
  WICK_TRY(get_tensor(ctx, args, 0, &weight));
  WICK_TRY(get_tensor(ctx, args, 1, &indices));
  WICK_TRY(get_int(ctx, args, 2, &padding_idx));
  WICK_TRY(get_bool(ctx, args, 3, &scale_grad));
  WICK_TRY(get_bool(ctx, args, 4, &sparse));
  WICK_TRY(get_tensor(ctx, args, 5, &out));
  WICK_TRY(check_rank(ctx, *weight, 2, 2, "weight"));
  WICK_TRY(check_same_dtype(ctx, *weight, *out, "weight", "out"));
  if (indices->dtype != ScalarType::Int64 && indices->dtype != ScalarType::Int32) {
    return fail(Error::InvalidArgument, "%s: indices must be int64 or int32, got %s", ctx.op_name,
                scalar_type_name(indices->dtype));
  }
  if (indices->dim + 1 > kMaxDims) {
    return fail(Error::NotSupported, "%s: indices rank %d too large", ctx.op_name, indices->dim);
  }
  const int64_t V = weight->sizes[0], D = weight->sizes[1];
  int64_t out_sizes[kMaxDims];
  for (int d = 0; d < indices->dim; ++d) out_sizes[d] = indices->sizes[d];
  out_sizes[indices->dim] = D;
  const int64_t count = indices->numel();
  // Validate every index before writing anything.
  for (int64_t i = 0; i < count; ++i) {
    const int64_t ix = indices->dtype == ScalarType::Int64 ? indices->data_as<const int64_t>()[i]
                                                           : indices->data_as<const int32_t>()[i];
    if (ix < 0 || ix >= V) {
      return fail(Error::InvalidArgument, "%s: index %lld (at position %lld) is out of range for a weight with %lld rows",
                  ctx.op_name, static_cast<long long>(ix), static_cast<long long>(i), static_cast<long long>(V));
    }
  }
  WICK_TRY(resize(ctx, *out, out_sizes, indices->dim + 1));
  const size_t row_bytes = static_cast<size_t>(D) * element_size(weight->dtype);
  const unsigned char* w = static_cast<const unsigned char*>(weight->data);
  unsigned char* o = static_cast<unsigned char*>(out->data);
  for (int64_t i = 0; i < count; ++i) {
    const int64_t ix = indices->dtype == ScalarType::Int64 ? indices->data_as<const int64_t>()[i]
                                                           : indices->data_as<const int32_t>()[i];
    if (row_bytes > 0) std::memcpy(o + i * row_bytes, w + ix * row_bytes, row_bytes);
  }
  return Error::Ok;
}

inline int64_t idx_at(const Tensor& t, int64_t i) {
  return t.dtype == ScalarType::Int64 ? t.data_as<const int64_t>()[i] : t.data_as<const int32_t>()[i];
}

// _embedding_bag.out(weight, indices, offsets, scale_grad_by_freq, mode, sparse,
// per_sample_weights?, include_last_offset, padding_idx, out0..out3). mode 0 sum,
// 1 mean, 2 max (computed in double). The auxiliary outputs mirror PyTorch's
// CPU kernel: offset2bag is empty for sum and the bag id of every index
// otherwise; bag_size counts (zeros for sum); max_indices is [bags, D] for max
// and a copy of bag_size otherwise (zeros for sum).
Error embedding_bag_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 13));
  Tensor *weight, *indices, *offsets, *psw, *out, *offset2bag, *bag_size, *max_indices;
  bool scale, sparse, include_last;
  int64_t mode, padding_idx = -1;
  bool has_pad = false;
  WICK_TRY(get_tensor(ctx, args, 0, &weight));
  WICK_TRY(get_tensor(ctx, args, 1, &indices));
  WICK_TRY(get_tensor(ctx, args, 2, &offsets));
  WICK_TRY(get_bool(ctx, args, 3, &scale));
  WICK_TRY(get_int(ctx, args, 4, &mode));
  WICK_TRY(get_bool(ctx, args, 5, &sparse));
  WICK_TRY(get_opt_tensor(ctx, args, 6, &psw));
  WICK_TRY(get_bool(ctx, args, 7, &include_last));
  WICK_TRY(get_opt_int(ctx, args, 8, &padding_idx, &has_pad));
  has_pad = has_pad && padding_idx >= 0;  // -1 (the default) means no padding index
  WICK_TRY(get_tensor(ctx, args, 9, &out));
  WICK_TRY(get_tensor(ctx, args, 10, &offset2bag));
  WICK_TRY(get_tensor(ctx, args, 11, &bag_size));
  WICK_TRY(get_tensor(ctx, args, 12, &max_indices));
  WICK_TRY(check_rank(ctx, *weight, 2, 2, "weight"));
  if (indices->dim != 1 || offsets->dim != 1) {
    return fail(Error::NotSupported, "%s: only 1-D indices with 1-D offsets are supported", ctx.op_name);
  }
  if (mode < 0 || mode > 2) return fail(Error::InvalidArgument, "%s: mode must be 0 (sum), 1 (mean) or 2 (max)", ctx.op_name);
  if (psw != nullptr && mode != 0) {
    return fail(Error::InvalidArgument, "%s: per_sample_weights are only supported for mode='sum'", ctx.op_name);
  }
  const int64_t V = weight->sizes[0], D = weight->sizes[1], n = indices->numel();
  const int64_t B = include_last ? offsets->numel() - 1 : offsets->numel();
  if (B < 0) return fail(Error::InvalidArgument, "%s: offsets must not be empty with include_last_offset", ctx.op_name);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t ix = idx_at(*indices, i);
    if (ix < 0 || ix >= V) {
      return fail(Error::InvalidArgument, "%s: index %lld out of range for %lld rows", ctx.op_name,
                  static_cast<long long>(ix), static_cast<long long>(V));
    }
  }
  const int64_t osz[2] = {B, D};
  WICK_TRY(resize(ctx, *out, osz, 2));
  // offset2bag: PyTorch's CPU sum fast path (float/half/bfloat16) leaves it
  // empty, other paths fill it; follow the shape the program planned.
  const int64_t o2b = (mode != 0 || offset2bag->numel() == n) ? n : 0;
  WICK_TRY(resize(ctx, *offset2bag, &o2b, 1));
  WICK_TRY(resize(ctx, *bag_size, &B, 1));
  if (mode == 2) WICK_TRY(resize(ctx, *max_indices, osz, 2));
  else WICK_TRY(resize(ctx, *max_indices, &B, 1));
  for (int64_t b = 0; b < B; ++b) {
    const int64_t start = idx_at(*offsets, b);
    int64_t end = b + 1 < offsets->numel() ? idx_at(*offsets, b + 1) : n;
    if (end > n) end = n;
    if (start < 0 || start > end) {
      return fail(Error::InvalidArgument, "%s: offsets must be non-decreasing and within the indices", ctx.op_name);
    }
    int64_t count = 0;
    for (int64_t d = 0; d < D; ++d) {
      double acc = mode == 2 ? 0.0 : 0.0;
      int64_t arg = -1;
      count = 0;
      for (int64_t i = start; i < end; ++i) {
        const int64_t ix = idx_at(*indices, i);
        if (has_pad && ix == padding_idx) continue;
        const double v = load_as<double>(weight->data, weight->dtype, ix * D + d) *
                         (psw != nullptr ? load_as<double>(psw->data, psw->dtype, i) : 1.0);
        if (mode == 2) {
          if (count == 0 || v > acc) {
            acc = v;
            arg = ix;
          }
        } else {
          acc += v;
        }
        ++count;
      }
      if (mode == 1 && count > 0) acc /= static_cast<double>(count);
      store_as<double>(out->data, out->dtype, b * D + d, acc);
      if (mode == 2) store_as<int64_t>(max_indices->data, max_indices->dtype, b * D + d, arg);
    }
    if (o2b == n) {
      for (int64_t i = start; i < end; ++i) store_as<int64_t>(offset2bag->data, offset2bag->dtype, i, b);
    }
    store_as<int64_t>(bag_size->data, bag_size->dtype, b, mode == 0 ? 0 : count);
    if (mode != 2) store_as<int64_t>(max_indices->data, max_indices->dtype, b, mode == 0 ? 0 : count);
  }
  return Error::Ok;
}

// embedding_dense_backward.out(grad_output, indices, num_weights, padding_idx, scale_grad_by_freq, out)
Error embedding_dense_backward_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 6));
  Tensor *grad, *indices, *out;
  int64_t num_weights, padding_idx;
  bool scale;
  WICK_TRY(get_tensor(ctx, args, 0, &grad));
  WICK_TRY(get_tensor(ctx, args, 1, &indices));
  WICK_TRY(get_int(ctx, args, 2, &num_weights));
  WICK_TRY(get_int(ctx, args, 3, &padding_idx));
  WICK_TRY(get_bool(ctx, args, 4, &scale));
  WICK_TRY(get_tensor(ctx, args, 5, &out));
  if (!is_floating(grad->dtype)) return fail(Error::InvalidArgument, "%s: grad must be floating point", ctx.op_name);
  const int64_t n = indices->numel();
  const int64_t D = n == 0 ? (grad->dim > 0 ? grad->sizes[grad->dim - 1] : 1) : grad->numel() / n;
  const int64_t osz[2] = {num_weights, D};
  WICK_TRY(resize(ctx, *out, osz, 2));
  for (int64_t i = 0; i < num_weights * D; ++i) store_as<double>(out->data, out->dtype, i, 0.0);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t ix = idx_at(*indices, i);
    if (ix < 0 || ix >= num_weights) {
      return fail(Error::InvalidArgument, "%s: index %lld out of range for %lld weights", ctx.op_name,
                  static_cast<long long>(ix), static_cast<long long>(num_weights));
    }
  }
  for (int64_t i = 0; i < n; ++i) {
    const int64_t ix = idx_at(*indices, i);
    if (ix == padding_idx) continue;
    double f = 1.0;
    if (scale) {
      int64_t c = 0;
      for (int64_t j = 0; j < n; ++j) c += idx_at(*indices, j) == ix ? 1 : 0;
      f = 1.0 / static_cast<double>(c);
    }
    for (int64_t d = 0; d < D; ++d) {
      const double v = load_as<double>(out->data, out->dtype, ix * D + d) + f * load_as<double>(grad->data, grad->dtype, i * D + d);
      store_as<double>(out->data, out->dtype, ix * D + d, v);
    }
  }
  return Error::Ok;
}

}  // namespace
}  // namespace portable
}  // namespace wick

using namespace wick::portable;

namespace {
constexpr uint32_t kFloats = kF32 | wick::dtype_bit(wick::ScalarType::Float64) | wick::dtype_bit(wick::ScalarType::Float16) |
                             wick::dtype_bit(wick::ScalarType::BFloat16);
}  // namespace

WICK_REGISTER_KERNELS(embedding, {"aten::embedding.out", kAllDtypes, &embedding_out, nullptr},
                      {"aten::_embedding_bag.out", kFloats, &embedding_bag_out, nullptr},
                      {"aten::embedding_dense_backward.out", kFloats, &embedding_dense_backward_out, nullptr})
