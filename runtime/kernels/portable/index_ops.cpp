// Indexing: gather, scatter (src / value), scatter_add, scatter_reduce,
// index_select, index.Tensor and index_put (advanced indexing with int64/int32
// index tensors; None keeps a dim), masked_scatter, nonzero. Every index is
// bounds-checked (negative indices wrap once, like PyTorch) before any write.
// Data movement is byte-wise by element size; accumulating scatters compute
// in the tensor's own dtype, in index order, like PyTorch's serial CPU path.
#include <cstdint>
#include <cstring>

#include "portable/util.h"

namespace wick {
namespace portable {
namespace {

Error check_index_dtype(KernelContext& ctx, const Tensor& index, const char* what) {
  if (index.dtype != ScalarType::Int64 && index.dtype != ScalarType::Int32) {
    return fail(Error::InvalidArgument, "%s: %s must be an int64 or int32 tensor, got %s", ctx.op_name, what,
                scalar_type_name(index.dtype));
  }
  return Error::Ok;
}

inline int64_t index_at(const Tensor& index, int64_t i) {
  return index.dtype == ScalarType::Int64 ? index.data_as<const int64_t>()[i] : index.data_as<const int32_t>()[i];
}

Error wrap_index(KernelContext& ctx, int64_t v, int64_t size, int64_t* out) {
  if (v < -size || v >= size) {
    return fail(Error::InvalidArgument, "%s: index %lld is out of bounds for dimension with size %lld", ctx.op_name,
                static_cast<long long>(v), static_cast<long long>(size));
  }
  *out = v < 0 ? v + size : v;
  return Error::Ok;
}

// Unravels flat index i of `sizes` into idx.
inline void unravel(int64_t i, const int64_t* sizes, int dim, int64_t* idx) {
  for (int d = dim - 1; d >= 0; --d) {
    const int64_t s = sizes[d] == 0 ? 1 : sizes[d];
    idx[d] = i % s;
    i /= s;
  }
}

// For gather/scatter: every position of `index` (shape of rank = self rank)
// maps to (offset in self/out along dim replaced by index value, offset in
// index/src). Validates all indices first.
template <typename Fn>
Error for_each_scatter_pos(KernelContext& ctx, const Tensor& target, int dim, const Tensor& index,
                           const Tensor* src, Fn fn) {
  const int64_t n = index.numel();
  if (n == 0) return Error::Ok;
  const int rank = index.dim;
  if (target.dim != rank && !(target.dim == 0 && rank <= 1)) {
    return fail(Error::InvalidArgument, "%s: index tensor must have the same number of dimensions as the input (%d vs %d)",
                ctx.op_name, rank, target.dim);
  }
  int64_t tstrides[kMaxDims], sstrides[kMaxDims];
  contiguous_strides(target.sizes, target.dim, tstrides);
  if (src != nullptr) contiguous_strides(src->sizes, src->dim, sstrides);
  for (int d = 0; d < rank && target.dim > 0; ++d) {
    if (d != dim && index.sizes[d] > target.sizes[d]) {
      return fail(Error::InvalidArgument, "%s: size of index %s exceeds the input %s at dimension %d", ctx.op_name,
                  shape_str(index), shape_str(target), d);
    }
    if (src != nullptr && src->dim == rank && index.sizes[d] > src->sizes[d]) {
      return fail(Error::InvalidArgument, "%s: size of index %s exceeds the source %s at dimension %d", ctx.op_name,
                  shape_str(index), shape_str(*src), d);
    }
  }
  const int64_t dim_size = target.dim == 0 ? 1 : target.sizes[dim];
  for (int pass = 0; pass < 2; ++pass) {  // pass 0 validates, pass 1 calls fn
    int64_t idx[kMaxDims] = {};
    for (int64_t i = 0; i < n; ++i) {
      unravel(i, index.sizes, rank, idx);
      int64_t v;
      WICK_TRY(wrap_index(ctx, index_at(index, i), dim_size, &v));
      if (pass == 0) continue;
      int64_t toff = 0, soff = 0;
      for (int d = 0; d < rank && target.dim > 0; ++d) {
        toff += (d == dim ? v : idx[d]) * tstrides[d];
        if (src != nullptr && src->dim > 0) soff += idx[d] * sstrides[d];
      }
      fn(toff, soff);
    }
  }
  return Error::Ok;
}

// gather.out(self, dim, index, sparse_grad, out)
Error gather_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 5));
  Tensor *self, *index, *out;
  int64_t dim_arg;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_int(ctx, args, 1, &dim_arg));
  WICK_TRY(get_tensor(ctx, args, 2, &index));
  WICK_TRY(get_tensor(ctx, args, 4, &out));
  if (index->numel() > 0) WICK_TRY(check_index_dtype(ctx, *index, "index"));
  WICK_TRY(check_same_dtype(ctx, *self, *out, "self", "out"));
  int dim;
  WICK_TRY(normalize_dim(ctx, dim_arg, self->dim, &dim));
  WICK_TRY(resize(ctx, *out, index->sizes, index->dim));
  const size_t es = element_size(self->dtype);
  const unsigned char* s = static_cast<const unsigned char*>(self->data);
  unsigned char* o = static_cast<unsigned char*>(out->data);
  // out has index's shape: its offset is the index position (soff with src = out)
  return for_each_scatter_pos(ctx, *self, dim, *index, out, [&](int64_t toff, int64_t ooff) {
    std::memcpy(o + ooff * es, s + toff * es, es);
  });
}

enum class Reduce { None, Sum, Prod, Mean, Amax, Amin };

Error parse_reduce(KernelContext& ctx, Value* const* args, int i, Reduce* r) {
  const char* s;
  uint32_t n;
  WICK_TRY(get_opt_string(ctx, args, i, &s, &n));
  if (s == nullptr) return fail(Error::InvalidArgument, "%s: reduce must be a string", ctx.op_name);
  auto is = [&](const char* w) { return std::strlen(w) == n && std::strncmp(s, w, n) == 0; };
  if (is("sum") || is("add")) *r = Reduce::Sum;
  else if (is("prod") || is("multiply")) *r = Reduce::Prod;
  else if (is("mean")) *r = Reduce::Mean;
  else if (is("amax")) *r = Reduce::Amax;
  else if (is("amin")) *r = Reduce::Amin;
  else return fail(Error::InvalidArgument, "%s: reduce argument must be sum, prod, mean, amax or amin", ctx.op_name);
  return Error::Ok;
}

// Combines v into out[off] in out's dtype.
template <typename T>
inline void combine(T* o, int64_t off, T v, Reduce r) {
  using C = typename OpMath<T>::type;
  const C a = cast_to<C>(o[off]), b = cast_to<C>(v);
  C res = b;
  switch (r) {
    case Reduce::None: res = b; break;
    case Reduce::Sum:
    case Reduce::Mean: res = a + b; break;
    case Reduce::Prod: res = a * b; break;
    case Reduce::Amax: res = (a != a || b != b) ? (a != a ? a : b) : (a > b ? a : b); break;
    case Reduce::Amin: res = (a != a || b != b) ? (a != a ? a : b) : (a < b ? a : b); break;
  }
  o[off] = cast_to<T>(res);
}

// The shared body of scatter / scatter_add / scatter_reduce. `src` null means
// the Scalar `value`. With include_self false, targets start from the first
// scattered value (scratch marks which were touched; counts are kept for mean).
Error scatter_common(KernelContext& ctx, Tensor& self, int64_t dim_arg, Tensor& index, Tensor* src, const Value* value,
                     Reduce r, bool include_self, Tensor& out) {
  WICK_TRY(check_index_dtype(ctx, index, "index"));
  WICK_TRY(check_same_dtype(ctx, self, out, "self", "out"));
  if (src != nullptr) WICK_TRY(check_same_dtype(ctx, self, *src, "self", "src"));
  int dim;
  WICK_TRY(normalize_dim(ctx, dim_arg, self.dim, &dim));
  WICK_TRY(resize(ctx, out, self.sizes, self.dim));
  const int64_t n = self.numel();
  if (out.data != self.data) std::memcpy(out.data, self.data, self.nbytes());
  int64_t* counts = static_cast<int64_t*>(ctx.scratch);
  const bool need_counts = r == Reduce::Mean || (!include_self && r != Reduce::None);
  if (need_counts) {
    WICK_TRY(check_scratch(ctx, static_cast<size_t>(n) * sizeof(int64_t)));
    for (int64_t i = 0; i < n; ++i) counts[i] = include_self ? 1 : 0;
  }
  Error err = Error::Ok;
  dispatch_all(self.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* o = static_cast<T*>(out.data);
    T scalar_v{};
    if (src == nullptr) {
      alignas(8) unsigned char buf[8];
      if (value->tag == ValueTag::Double) store_as<double>(buf, self.dtype, 0, value->d);
      else store_as<int64_t>(buf, self.dtype, 0, value->scalar_as_int());
      std::memcpy(&scalar_v, buf, sizeof(T));
    }
    const T* s = src != nullptr ? static_cast<const T*>(src->data) : nullptr;
    err = for_each_scatter_pos(ctx, self, dim, index, src, [&](int64_t toff, int64_t soff) {
      const T v = s != nullptr ? s[soff] : scalar_v;
      if (need_counts && counts[toff] == 0) {
        o[toff] = v;  // first value replaces self when include_self is false
      } else {
        combine<T>(o, toff, v, r);
      }
      if (need_counts) ++counts[toff];
    });
    if (err == Error::Ok && r == Reduce::Mean) {
      using C = typename OpMath<T>::type;
      for (int64_t i = 0; i < n; ++i) {
        if (counts[i] <= 1) continue;
        const C c = C(counts[i]);
        if constexpr (std::is_integral<C>::value) {
          C q = cast_to<C>(o[i]) / c;
          if ((cast_to<C>(o[i]) % c != 0) && (cast_to<C>(o[i]) < 0)) --q;  // floor division
          o[i] = cast_to<T>(q);
        } else {
          o[i] = cast_to<T>(cast_to<C>(o[i]) / c);
        }
      }
    }
  });
  return err;
}

size_t scatter_scratch(Value* const* args, int num_args) {
  Tensor* out = tensor_or_null(args, num_args, num_args - 1);
  return out == nullptr ? 0 : static_cast<size_t>(out->capacity / element_size(out->dtype) + 1) * sizeof(int64_t);
}

// scatter.src_out(self, dim, index, src, out)
Error scatter_src_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 5));
  Tensor *self, *index, *src, *out;
  int64_t dim;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_int(ctx, args, 1, &dim));
  WICK_TRY(get_tensor(ctx, args, 2, &index));
  WICK_TRY(get_tensor(ctx, args, 3, &src));
  WICK_TRY(get_tensor(ctx, args, 4, &out));
  return scatter_common(ctx, *self, dim, *index, src, nullptr, Reduce::None, true, *out);
}

// scatter.value_out(self, dim, index, value, out)
Error scatter_value_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 5));
  Tensor *self, *index, *out;
  int64_t dim;
  const Value* value;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_int(ctx, args, 1, &dim));
  WICK_TRY(get_tensor(ctx, args, 2, &index));
  WICK_TRY(get_scalar(ctx, args, 3, &value));
  WICK_TRY(get_tensor(ctx, args, 4, &out));
  return scatter_common(ctx, *self, dim, *index, nullptr, value, Reduce::None, true, *out);
}

// scatter_add.out(self, dim, index, src, out)
Error scatter_add_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 5));
  Tensor *self, *index, *src, *out;
  int64_t dim;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_int(ctx, args, 1, &dim));
  WICK_TRY(get_tensor(ctx, args, 2, &index));
  WICK_TRY(get_tensor(ctx, args, 3, &src));
  WICK_TRY(get_tensor(ctx, args, 4, &out));
  return scatter_common(ctx, *self, dim, *index, src, nullptr, Reduce::Sum, true, *out);
}

// scatter_reduce.two_out(self, dim, index, src, reduce, include_self, out)
Error scatter_reduce_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 7));
  Tensor *self, *index, *src, *out;
  int64_t dim;
  bool include_self;
  Reduce r;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_int(ctx, args, 1, &dim));
  WICK_TRY(get_tensor(ctx, args, 2, &index));
  WICK_TRY(get_tensor(ctx, args, 3, &src));
  WICK_TRY(parse_reduce(ctx, args, 4, &r));
  WICK_TRY(get_bool(ctx, args, 5, &include_self));
  WICK_TRY(get_tensor(ctx, args, 6, &out));
  return scatter_common(ctx, *self, dim, *index, src, nullptr, r, include_self, *out);
}

// index_select.out(self, dim, index, out)
Error index_select_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 4));
  Tensor *self, *index, *out;
  int64_t dim_arg;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_int(ctx, args, 1, &dim_arg));
  WICK_TRY(get_tensor(ctx, args, 2, &index));
  WICK_TRY(get_tensor(ctx, args, 3, &out));
  WICK_TRY(check_index_dtype(ctx, *index, "index"));
  WICK_TRY(check_same_dtype(ctx, *self, *out, "self", "out"));
  if (index->dim > 1) return fail(Error::InvalidArgument, "%s: index must be 0-D or 1-D, got %s", ctx.op_name, shape_str(*index));
  int dim;
  WICK_TRY(normalize_dim(ctx, dim_arg, self->dim, &dim));
  const int64_t k = index->numel();
  int64_t sizes[kMaxDims];
  for (int d = 0; d < self->dim; ++d) sizes[d] = self->sizes[d];
  if (self->dim > 0) sizes[dim] = k;
  WICK_TRY(resize(ctx, *out, sizes, self->dim));
  const int64_t len = self->dim == 0 ? 1 : self->sizes[dim];
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < dim; ++d) outer *= self->sizes[d];
  for (int d = dim + 1; d < self->dim; ++d) inner *= self->sizes[d];
  for (int64_t j = 0; j < k; ++j) {
    int64_t v;
    WICK_TRY(wrap_index(ctx, index_at(*index, j), len, &v));
  }
  const size_t es = element_size(self->dtype);
  const size_t row = static_cast<size_t>(inner) * es;
  const unsigned char* s = static_cast<const unsigned char*>(self->data);
  unsigned char* o = static_cast<unsigned char*>(out->data);
  for (int64_t a = 0; a < outer; ++a) {
    for (int64_t j = 0; j < k; ++j) {
      int64_t v = index_at(*index, j);
      if (v < 0) v += len;
      if (row > 0) std::memcpy(o + (a * k + j) * row, s + (a * len + v) * row, row);
    }
  }
  return Error::Ok;
}

// ---- advanced indexing -----------------------------------------------------------

// self[indices] where indices are int tensors or None. Result dims: if the
// indexed dims are adjacent, [before..., broadcast index shape, after...];
// otherwise [broadcast index shape, non-indexed dims...] (NumPy's rule).
struct AdvIndex {
  int64_t out_sizes[kMaxDims];
  int out_dim = 0;
  int64_t bsizes[kMaxDims];  // broadcast shape of the index tensors
  int bdim = 0;
  int64_t bstrides[kMaxDims][kMaxDims];  // per indexed dim: strides of its index tensor into bsizes
  const Tensor* idx[kMaxDims] = {};      // per self dim: its index tensor or null
  int rank = 0;
  bool adjacent = true;
  int first = 0;  // first indexed dim
  int64_t self_strides[kMaxDims];
  int64_t self_sizes[kMaxDims];
};

Error plan_index(KernelContext& ctx, const Tensor& self, Tensor* const* indices, int n, AdvIndex* p) {
  if (n > self.dim) {
    return fail(Error::InvalidArgument, "%s: too many indices for tensor of dimension %d (got %d)", ctx.op_name,
                self.dim, n);
  }
  p->rank = self.dim;
  contiguous_strides(self.sizes, self.dim, p->self_strides);
  for (int d = 0; d < self.dim; ++d) p->self_sizes[d] = self.sizes[d];
  int last = -1, count = 0;
  p->first = -1;
  for (int d = 0; d < n; ++d) {
    const Tensor* t = indices[d];
    if (t == nullptr) continue;
    if (t->dtype == ScalarType::Bool || t->dtype == ScalarType::UInt8) {
      return fail(Error::NotSupported, "%s: boolean mask indices have a data-dependent result size and are not "
                  "supported by the portable kernels; use integer indices (e.g. nonzero) instead", ctx.op_name);
    }
    WICK_TRY(check_index_dtype(ctx, *t, "an index"));
    if (p->first < 0) p->first = d;
    else if (last != d - 1) p->adjacent = false;
    last = d;
    ++count;
    p->idx[d] = t;
    if (p->bdim == 0 && count == 1) {
      p->bdim = t->dim;
      for (int k = 0; k < t->dim; ++k) p->bsizes[k] = t->sizes[k];
    } else {
      int64_t tmp[kMaxDims];
      int tdim;
      WICK_TRY(broadcast_shapes(ctx, p->bsizes, p->bdim, t->sizes, t->dim, tmp, &tdim));
      p->bdim = tdim;
      for (int k = 0; k < tdim; ++k) p->bsizes[k] = tmp[k];
    }
  }
  if (count == 0) {
    p->first = 0;
  }
  for (int d = 0; d < self.dim; ++d) {
    if (p->idx[d] != nullptr) broadcast_strides(p->idx[d]->sizes, p->idx[d]->dim, p->bsizes, p->bdim, p->bstrides[d]);
  }
  // result shape
  int r = 0;
  auto push_b = [&] {
    for (int k = 0; k < p->bdim; ++k) p->out_sizes[r++] = p->bsizes[k];
  };
  if (count == 0) {
    for (int d = 0; d < self.dim; ++d) p->out_sizes[r++] = self.sizes[d];
  } else if (p->adjacent) {
    for (int d = 0; d < p->first; ++d) p->out_sizes[r++] = self.sizes[d];
    push_b();
    for (int d = last + 1; d < self.dim; ++d) p->out_sizes[r++] = self.sizes[d];
  } else {
    push_b();
    for (int d = 0; d < self.dim; ++d)
      if (p->idx[d] == nullptr) p->out_sizes[r++] = self.sizes[d];
  }
  if (r > kMaxDims) return fail(Error::NotSupported, "%s: result rank %d exceeds %d", ctx.op_name, r, kMaxDims);
  p->out_dim = r;
  // validate all index values
  for (int d = 0; d < self.dim; ++d) {
    const Tensor* t = p->idx[d];
    if (t == nullptr) continue;
    const int64_t m = t->numel();
    for (int64_t i = 0; i < m; ++i) {
      int64_t v;
      WICK_TRY(wrap_index(ctx, index_at(*t, i), self.sizes[d], &v));
    }
  }
  return Error::Ok;
}

// Offset in self of result element with multi-index ridx.
int64_t adv_offset(const AdvIndex& p, const int64_t* ridx) {
  int64_t bidx[kMaxDims];
  int bstart = p.adjacent ? p.first : 0;
  for (int k = 0; k < p.bdim; ++k) bidx[k] = ridx[bstart + k];
  int64_t off = 0;
  int r = 0;  // position in the result of the next non-indexed dim
  if (p.adjacent) {
    for (int d = 0; d < p.rank; ++d) {
      int64_t v;
      if (p.idx[d] != nullptr) {
        int64_t io = 0;
        for (int k = 0; k < p.bdim; ++k) io += bidx[k] * p.bstrides[d][k];
        v = index_at(*p.idx[d], io);
        if (v < 0) v += p.self_sizes[d];
      } else {
        v = d < p.first ? ridx[d] : ridx[d - (p.rank - p.out_dim)];
      }
      off += v * p.self_strides[d];
    }
    (void)r;
    return off;
  }
  r = p.bdim;
  for (int d = 0; d < p.rank; ++d) {
    int64_t v;
    if (p.idx[d] != nullptr) {
      int64_t io = 0;
      for (int k = 0; k < p.bdim; ++k) io += bidx[k] * p.bstrides[d][k];
      v = index_at(*p.idx[d], io);
      if (v < 0) v += p.self_sizes[d];
    } else {
      v = ridx[r++];
    }
    off += v * p.self_strides[d];
  }
  return off;
}

// index.Tensor_out(self, indices: Tensor?[], out)
Error index_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 3));
  Tensor *self, *out;
  Tensor* const* indices;
  int n;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_opt_tensor_list(ctx, args, 1, &indices, &n));
  WICK_TRY(get_tensor(ctx, args, 2, &out));
  WICK_TRY(check_same_dtype(ctx, *self, *out, "self", "out"));
  AdvIndex p;
  WICK_TRY(plan_index(ctx, *self, indices, n, &p));
  WICK_TRY(resize(ctx, *out, p.out_sizes, p.out_dim));
  const int64_t m = out->numel();
  const size_t es = element_size(self->dtype);
  const unsigned char* s = static_cast<const unsigned char*>(self->data);
  unsigned char* o = static_cast<unsigned char*>(out->data);
  int64_t ridx[kMaxDims];
  for (int64_t i = 0; i < m; ++i) {
    unravel(i, p.out_sizes, p.out_dim, ridx);
    std::memcpy(o + i * es, s + adv_offset(p, ridx) * es, es);
  }
  return Error::Ok;
}

// index_put.out(self, indices, values, accumulate, out)
Error index_put_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 5));
  Tensor *self, *values, *out;
  Tensor* const* indices;
  int n;
  bool accumulate;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_opt_tensor_list(ctx, args, 1, &indices, &n));
  WICK_TRY(get_tensor(ctx, args, 2, &values));
  WICK_TRY(get_bool(ctx, args, 3, &accumulate));
  WICK_TRY(get_tensor(ctx, args, 4, &out));
  WICK_TRY(check_same_dtype(ctx, *self, *out, "self", "out"));
  WICK_TRY(check_same_dtype(ctx, *self, *values, "self", "values"));
  AdvIndex p;
  WICK_TRY(plan_index(ctx, *self, indices, n, &p));
  int64_t bs[kMaxDims];
  int bd;
  WICK_TRY(broadcast_shapes(ctx, p.out_sizes, p.out_dim, values->sizes, values->dim, bs, &bd));
  if (bd != p.out_dim) {
    return fail(Error::InvalidArgument, "%s: shape mismatch: value tensor of shape %s cannot be broadcast to indexing "
                "result of shape %s", ctx.op_name, shape_str(*values), shape_str(p.out_sizes, p.out_dim));
  }
  for (int d = 0; d < bd; ++d) {
    if (bs[d] != p.out_sizes[d]) {
      return fail(Error::InvalidArgument, "%s: shape mismatch: value tensor of shape %s cannot be broadcast to "
                  "indexing result of shape %s", ctx.op_name, shape_str(*values), shape_str(p.out_sizes, p.out_dim));
    }
  }
  WICK_TRY(resize(ctx, *out, self->sizes, self->dim));
  if (out->data != self->data) std::memcpy(out->data, self->data, self->nbytes());
  int64_t vstrides[kMaxDims];
  broadcast_strides(values->sizes, values->dim, p.out_sizes, p.out_dim, vstrides);
  int64_t m = 1;
  for (int d = 0; d < p.out_dim; ++d) m *= p.out_sizes[d];
  dispatch_all(self->dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* o = static_cast<T*>(out->data);
    const T* v = static_cast<const T*>(values->data);
    int64_t ridx[kMaxDims];
    for (int64_t i = 0; i < m; ++i) {
      unravel(i, p.out_sizes, p.out_dim, ridx);
      int64_t voff = 0;
      for (int d = 0; d < p.out_dim; ++d) voff += ridx[d] * vstrides[d];
      const int64_t off = adv_offset(p, ridx);
      if (accumulate) combine<T>(o, off, v[voff], Reduce::Sum);
      else o[off] = v[voff];
    }
  });
  return Error::Ok;
}

// masked_scatter.out(self, mask, source, out): true positions of mask (broadcast
// to self) take source's elements in order.
Error masked_scatter_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 4));
  Tensor *self, *mask, *source, *out;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_tensor(ctx, args, 1, &mask));
  WICK_TRY(get_tensor(ctx, args, 2, &source));
  WICK_TRY(get_tensor(ctx, args, 3, &out));
  WICK_TRY(check_dtype(ctx, *mask, ScalarType::Bool, "mask"));
  WICK_TRY(check_same_dtype(ctx, *self, *source, "self", "source"));
  WICK_TRY(check_same_dtype(ctx, *self, *out, "self", "out"));
  int64_t sizes[kMaxDims];
  int dim;
  WICK_TRY(broadcast_shapes(ctx, self->sizes, self->dim, mask->sizes, mask->dim, sizes, &dim));
  WICK_TRY(resize(ctx, *out, sizes, dim));
  int64_t strides[2][kMaxDims];
  broadcast_strides(self->sizes, self->dim, sizes, dim, strides[0]);
  broadcast_strides(mask->sizes, mask->dim, sizes, dim, strides[1]);
  const size_t es = element_size(self->dtype);
  const unsigned char* s = static_cast<const unsigned char*>(self->data);
  const unsigned char* src = static_cast<const unsigned char*>(source->data);
  const bool* mk = mask->data_as<const bool>();
  unsigned char* o = static_cast<unsigned char*>(out->data);
  const int64_t avail = source->numel();
  int64_t next = 0, i = 0;
  bool short_source = false;
  if (out->numel() == 0) return Error::Ok;
  for_each_row<2>(sizes, dim, strides, [&](const int64_t* offs, int64_t cnt, const int64_t* inner) {
    for (int64_t k = 0; k < cnt; ++k, ++i) {
      if (mk[offs[1] + k * inner[1]]) {
        if (next >= avail) {
          short_source = true;
          std::memcpy(o + i * es, s + (offs[0] + k * inner[0]) * es, es);
          continue;
        }
        std::memcpy(o + i * es, src + next * es, es);
        ++next;
      } else {
        std::memcpy(o + i * es, s + (offs[0] + k * inner[0]) * es, es);
      }
    }
  });
  if (short_source) {
    return fail(Error::InvalidArgument, "%s: number of elements of source (%lld) < number of ones in mask",
                ctx.op_name, static_cast<long long>(avail));
  }
  return Error::Ok;
}

// nonzero.out(self, out): out is [count, rank] int64; its size is data-dependent,
// so out must be a dynamic tensor whose capacity covers every element.
Error nonzero_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 2));
  Tensor *self, *out;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_tensor(ctx, args, 1, &out));
  WICK_TRY(check_dtype(ctx, *out, ScalarType::Int64, "out"));
  const int64_t n = self->numel();
  const bool floating = is_floating(self->dtype);
  auto nz = [&](int64_t i) {
    return floating ? load_as<double>(self->data, self->dtype, i) != 0.0 : load_as<int64_t>(self->data, self->dtype, i) != 0;
  };
  int64_t count = 0;
  for (int64_t i = 0; i < n; ++i) count += nz(i) ? 1 : 0;
  const int64_t sizes[2] = {count, self->dim};
  WICK_TRY(resize(ctx, *out, sizes, 2));
  int64_t* o = out->data_as<int64_t>();
  int64_t idx[kMaxDims];
  int64_t r = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (!nz(i)) continue;
    unravel(i, self->sizes, self->dim, idx);
    for (int d = 0; d < self->dim; ++d) o[r * self->dim + d] = idx[d];
    ++r;
  }
  return Error::Ok;
}

}  // namespace
}  // namespace portable
}  // namespace wick

using namespace wick::portable;

WICK_REGISTER_KERNELS(index_ops,
                      {"aten::gather.out", kAllDtypes, &gather_out, nullptr},
                      {"aten::scatter.src_out", kAllDtypes, &scatter_src_out, nullptr},
                      {"aten::scatter.value_out", kAllDtypes, &scatter_value_out, nullptr},
                      {"aten::scatter_add.out", kAllDtypes, &scatter_add_out, nullptr},
                      {"aten::scatter_reduce.two_out", kAllDtypes, &scatter_reduce_out, &scatter_scratch},
                      {"aten::index_select.out", kAllDtypes, &index_select_out, nullptr},
                      {"aten::index.Tensor_out", kAllDtypes, &index_out, nullptr},
                      {"aten::index_put.out", kAllDtypes, &index_put_out, nullptr},
                      {"aten::masked_scatter.out", kAllDtypes, &masked_scatter_out, nullptr},
                      {"aten::nonzero.out", kAllDtypes, &nonzero_out, nullptr})
