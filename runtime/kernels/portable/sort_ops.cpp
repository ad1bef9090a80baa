// sort and topk along one dim, every dtype. A stable merge sort of indices
// (scratch: two index rows), so equal values keep their original order; NaN
// sorts above every number (last ascending, first descending) like PyTorch.
#include <cstdint>
#include <cstring>

#include "portable/util.h"

namespace wick {
namespace portable {
namespace {

// a "before" b in the requested order.
template <typename C>
inline bool before(C a, C b, bool descending) {
  const bool an = a != a, bn = b != b;
  if (descending) {
    if (an || bn) return an && !bn;
    return a > b;
  }
  if (an || bn) return !an && bn;
  return a < b;
}

// Stable merge sort of idx[0..n) by vals[idx] (tmp: n entries).
template <typename C>
void merge_sort(int64_t* idx, int64_t* tmp, int64_t n, const C* vals, bool descending) {
  for (int64_t width = 1; width < n; width *= 2) {
    for (int64_t lo = 0; lo < n; lo += 2 * width) {
      const int64_t mid = lo + width < n ? lo + width : n;
      const int64_t hi = lo + 2 * width < n ? lo + 2 * width : n;
      int64_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) tmp[k++] = before(vals[idx[j]], vals[idx[i]], descending) ? idx[j++] : idx[i++];
      while (i < mid) tmp[k++] = idx[i++];
      while (j < hi) tmp[k++] = idx[j++];
    }
    std::memcpy(idx, tmp, static_cast<size_t>(n) * sizeof(int64_t));
  }
}

size_t sort_scratch(Value* const* args, int num_args) {
  Tensor* self = tensor_or_null(args, num_args, 0);
  if (self == nullptr) return 0;
  int64_t longest = 1;
  for (int d = 0; d < self->dim; ++d) longest = self->sizes[d] > longest ? self->sizes[d] : longest;
  // two index rows plus one row of values in the compute type (8 bytes each)
  return static_cast<size_t>(longest) * 3 * sizeof(int64_t);
}

// Sorts every row along `dim`, writing the first k of each into values/indices.
Error sort_common(KernelContext& ctx, const Tensor& self, int64_t dim_arg, bool descending, int64_t k, Tensor& values,
                  Tensor& indices) {
  WICK_TRY(check_dtype(ctx, indices, ScalarType::Int64, "indices"));
  WICK_TRY(check_same_dtype(ctx, self, values, "self", "values"));
  int dim;
  WICK_TRY(normalize_dim(ctx, dim_arg, self.dim, &dim));
  const int64_t len = self.dim == 0 ? 1 : self.sizes[dim];
  if (k == -1) k = len;  // sort: every element
  else if (k < 0 || k > len) {
    return fail(Error::InvalidArgument, "%s: k (%lld) out of range for dimension of size %lld", ctx.op_name,
                static_cast<long long>(k), static_cast<long long>(len));
  }
  int64_t sizes[kMaxDims];
  for (int d = 0; d < self.dim; ++d) sizes[d] = self.sizes[d];
  if (self.dim > 0) sizes[dim] = k;
  WICK_TRY(resize(ctx, values, sizes, self.dim));
  WICK_TRY(resize(ctx, indices, sizes, self.dim));
  if (self.numel() == 0) return Error::Ok;
  WICK_TRY(check_scratch(ctx, static_cast<size_t>(len) * 3 * sizeof(int64_t)));
  int64_t* idx = static_cast<int64_t*>(ctx.scratch);
  int64_t* tmp = idx + len;
  int64_t inner = 1;
  for (int d = dim + 1; d < self.dim; ++d) inner *= self.sizes[d];
  const int64_t outer = self.numel() / (len * inner);
  const size_t es = element_size(self.dtype);
  const unsigned char* s = static_cast<const unsigned char*>(self.data);
  unsigned char* v = static_cast<unsigned char*>(values.data);
  int64_t* ix = indices.data_as<int64_t>();
  dispatch_compute(self.dtype, [&](auto tag) {
    using C = typename decltype(tag)::type;
    C* row = reinterpret_cast<C*>(tmp + len);
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t in = 0; in < inner; ++in) {
        const int64_t base = o * len * inner + in;
        for (int64_t i = 0; i < len; ++i) {
          idx[i] = i;
          row[i] = load_as<C>(self.data, self.dtype, base + i * inner);
        }
        merge_sort<C>(idx, tmp, len, row, descending);
        const int64_t obase = o * k * inner + in;
        for (int64_t i = 0; i < k; ++i) {
          std::memcpy(v + (obase + i * inner) * static_cast<int64_t>(es), s + (base + idx[i] * inner) * static_cast<int64_t>(es), es);
          ix[obase + i * inner] = idx[i];
        }
      }
    }
  });
  return Error::Ok;
}

// sort.values(self, dim, descending, values, indices)
Error sort_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 5));
  Tensor *self, *values, *indices;
  int64_t dim;
  bool descending;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_int(ctx, args, 1, &dim));
  WICK_TRY(get_bool(ctx, args, 2, &descending));
  WICK_TRY(get_tensor(ctx, args, 3, &values));
  WICK_TRY(get_tensor(ctx, args, 4, &indices));
  return sort_common(ctx, *self, dim, descending, -1, *values, *indices);
}

// topk.values(self, k, dim, largest, sorted, values, indices): always sorted.
Error topk_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 7));
  Tensor *self, *values, *indices;
  int64_t k, dim;
  bool largest, sorted;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_int(ctx, args, 1, &k));
  WICK_TRY(get_int(ctx, args, 2, &dim));
  WICK_TRY(get_bool(ctx, args, 3, &largest));
  WICK_TRY(get_bool(ctx, args, 4, &sorted));
  WICK_TRY(get_tensor(ctx, args, 5, &values));
  WICK_TRY(get_tensor(ctx, args, 6, &indices));
  if (self->dtype == ScalarType::Bool) return fail(Error::InvalidArgument, "%s: not implemented for bool", ctx.op_name);
  if (k < 0) return fail(Error::InvalidArgument, "%s: k must be non-negative, got %lld", ctx.op_name, static_cast<long long>(k));
  return sort_common(ctx, *self, dim, largest, k, *values, *indices);
}

}  // namespace
}  // namespace portable
}  // namespace wick

using namespace wick::portable;

WICK_REGISTER_KERNELS(sort_ops,
                      {"aten::sort.values", kAllDtypes, &sort_out, &sort_scratch},
                      {"aten::topk.values", kAllDtypes & ~dtype_bit(wick::ScalarType::Bool), &topk_out, &sort_scratch})
