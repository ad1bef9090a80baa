// aten::embedding.out: gathers rows of a 2-D weight (float32; other dtypes are
// copied byte-wise too) by int64 or int32 indices of any shape.
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

}  // namespace
}  // namespace portable
}  // namespace wick

using namespace wick::portable;

WICK_REGISTER_KERNELS(embedding, {"aten::embedding.out", kAllDtypes, &embedding_out, nullptr})
