// Reductions: sum, mean, prod, amax, amin, any, argmax, argmin, max.dim,
// min.dim, var, and the scan cumsum. A missing or empty dim list reduces every
// dim, like PyTorch. Floating sums accumulate in double (PyTorch's CPU
// accumulate type for float32 is double in cumsum; its sum uses a cascade in
// float: results agree to rounding). Integer sums, products and cumsums
// accumulate in int64 and wrap. amax/amin/max/min propagate NaN; argmax/argmin
// treat NaN as the extreme value and return the first index of a tie.
#include <cmath>
#include <cstdint>
#include <limits>

#include "portable/util.h"

namespace wick {
namespace portable {
namespace {

// Kept dims outside, reduced dims inside: out element o starts at `base` in
// self and visits its reduced elements through rsizes/rstrides.
struct ReducePlan {
  int64_t out_sizes[kMaxDims];
  int out_dim = 0;
  int64_t ksizes[kMaxDims], kstrides[kMaxDims];
  int kdim = 0;
  int64_t rsizes[kMaxDims];
  int64_t rstrides[1][kMaxDims];
  int rdim = 0;
  int64_t count = 1;  // elements per output
  int64_t out_numel = 1;
};

Error make_plan(KernelContext& ctx, const Tensor& self, const bool* reduce, bool keepdim, ReducePlan* p) {
  int64_t in_strides[kMaxDims];
  contiguous_strides(self.sizes, self.dim, in_strides);
  for (int d = 0; d < self.dim; ++d) {
    if (reduce[d]) {
      if (keepdim) p->out_sizes[p->out_dim++] = 1;
      p->rsizes[p->rdim] = self.sizes[d];
      p->rstrides[0][p->rdim++] = in_strides[d];
      p->count *= self.sizes[d];
    } else {
      p->out_sizes[p->out_dim++] = self.sizes[d];
      p->ksizes[p->kdim] = self.sizes[d];
      p->kstrides[p->kdim++] = in_strides[d];
      p->out_numel *= self.sizes[d];
    }
  }
  (void)ctx;
  return Error::Ok;
}

// Calls fn(o, base) for every output element in order.
template <typename Fn>
void for_each_output(const ReducePlan& p, Fn fn) {
  int64_t idx[kMaxDims] = {};
  int64_t base = 0;
  for (int64_t o = 0; o < p.out_numel; ++o) {
    fn(o, base);
    for (int d = p.kdim - 1; d >= 0; --d) {
      ++idx[d];
      base += p.kstrides[d];
      if (idx[d] < p.ksizes[d]) break;
      base -= p.kstrides[d] * p.ksizes[d];
      idx[d] = 0;
    }
  }
}

// Calls fn(offset) for every reduced element of the output at `base`, in order.
template <typename Fn>
void for_each_reduced(const ReducePlan& p, int64_t base, Fn fn) {
  if (p.count == 0) return;
  for_each_row<1>(p.rsizes, p.rdim, p.rstrides, [&](const int64_t* offs, int64_t n, const int64_t* inner) {
    const int64_t st = inner[0];
    const int64_t b = base + offs[0];
    for (int64_t i = 0; i < n; ++i) fn(b + i * st);
  });
}

// Reads a dim list argument into a mask (None or [] = all dims).
Error dims_mask(KernelContext& ctx, Value* const* args, int i, const Tensor& self, bool* reduce) {
  const int64_t* dims;
  int n;
  bool present;
  WICK_TRY(get_int_list(ctx, args, i, &dims, &n, true, &present));
  for (int d = 0; d < kMaxDims; ++d) reduce[d] = false;
  if (n == 0) {
    for (int d = 0; d < self.dim; ++d) reduce[d] = true;
    return Error::Ok;
  }
  for (int k = 0; k < n; ++k) {
    int d;
    WICK_TRY(normalize_dim(ctx, dims[k], self.dim, &d));
    if (self.dim == 0) continue;
    if (reduce[d]) {
      return fail(Error::InvalidArgument, "%s: dim %d appears multiple times in the list of dims", ctx.op_name, d);
    }
    reduce[d] = true;
  }
  return Error::Ok;
}

Error one_dim_mask(KernelContext& ctx, int64_t dim, const Tensor& self, bool* reduce) {
  for (int d = 0; d < kMaxDims; ++d) reduce[d] = false;
  int d;
  WICK_TRY(normalize_dim(ctx, dim, self.dim, &d));
  if (self.dim > 0) reduce[d] = true;
  return Error::Ok;
}

Error check_nonempty(KernelContext& ctx, const ReducePlan& p, const char* what) {
  if (p.count == 0 && p.out_numel > 0) {
    return fail(Error::InvalidArgument, "%s: cannot compute %s over an empty dimension (no identity)", ctx.op_name, what);
  }
  return Error::Ok;
}

enum class Acc { Sum, Mean, Prod };

// sum/mean/prod into out (dtype already decided by the caller).
Error accumulate(KernelContext& ctx, const Tensor& self, const bool* reduce, bool keepdim, Tensor& out, Acc kind) {
  ReducePlan p;
  WICK_TRY(make_plan(ctx, self, reduce, keepdim, &p));
  WICK_TRY(resize(ctx, out, p.out_sizes, p.out_dim));
  const bool integral = is_integral(out.dtype, true) && is_integral(self.dtype, true);
  if (integral) {
    for_each_output(p, [&](int64_t o, int64_t base) {
      int64_t acc = kind == Acc::Prod ? 1 : 0;
      for_each_reduced(p, base, [&](int64_t off) {
        const int64_t v = load_as<int64_t>(self.data, self.dtype, off);
        acc = kind == Acc::Prod ? static_cast<int64_t>(static_cast<uint64_t>(acc) * static_cast<uint64_t>(v))
                                : static_cast<int64_t>(static_cast<uint64_t>(acc) + static_cast<uint64_t>(v));
      });
      store_as<int64_t>(out.data, out.dtype, o, acc);
    });
    return Error::Ok;
  }
  const bool f32 = self.dtype == ScalarType::Float32 && kind != Acc::Prod;
  for_each_output(p, [&](int64_t o, int64_t base) {
    double acc = kind == Acc::Prod ? 1.0 : 0.0;
    if (f32) {
      // float32 fast path: rows of the reduced block
      const float* x = self.data_as<const float>() + base;
      if (p.count > 0) {
        for_each_row<1>(p.rsizes, p.rdim, p.rstrides, [&](const int64_t* offs, int64_t n, const int64_t* inner) {
          const float* r = x + offs[0];
          const int64_t st = inner[0];
          double s = 0.0;
          if (st == 1) {
            // 8 independent double partial sums (vectorizes); in double the
            // order changes the float result only in rare rounding ties
            double part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
            int64_t i = 0;
            for (; i + 8 <= n; i += 8)
              for (int j = 0; j < 8; ++j) part[j] += r[i + j];
            for (; i < n; ++i) s += r[i];
            s += ((part[0] + part[4]) + (part[1] + part[5])) + ((part[2] + part[6]) + (part[3] + part[7]));
          } else {
            for (int64_t i = 0; i < n; ++i) s += r[i * st];
          }
          acc += s;
        });
      }
    } else {
      for_each_reduced(p, base, [&](int64_t off) {
        const double v = load_as<double>(self.data, self.dtype, off);
        acc = kind == Acc::Prod ? acc * v : acc + v;
      });
    }
    if (kind == Acc::Mean) acc /= static_cast<double>(p.count);
    store_as<double>(out.data, out.dtype, o, acc);
  });
  return Error::Ok;
}

// The result dtype of sum/prod: dtype argument, else integral/bool -> int64, else self's.
Error sum_dtype(KernelContext& ctx, const Tensor& self, const Tensor& out, bool has_dtype, ScalarType dtype) {
  ScalarType want = has_dtype ? dtype : (is_integral(self.dtype, true) ? ScalarType::Int64 : self.dtype);
  if (has_dtype && want != out.dtype) {
    return fail(Error::InvalidArgument, "%s: dtype argument %s does not match the out tensor's dtype %s", ctx.op_name,
                scalar_type_name(want), scalar_type_name(out.dtype));
  }
  return Error::Ok;
}

// sum.IntList_out(self, dim?, keepdim, dtype?, out)
Error sum_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 5));
  Tensor *self, *out;
  bool keepdim, has_dtype, reduce[kMaxDims];
  ScalarType dtype = ScalarType::Float32;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(dims_mask(ctx, args, 1, *self, reduce));
  WICK_TRY(get_bool(ctx, args, 2, &keepdim));
  WICK_TRY(get_opt_dtype(ctx, args, 3, &dtype, &has_dtype));
  WICK_TRY(get_tensor(ctx, args, 4, &out));
  WICK_TRY(sum_dtype(ctx, *self, *out, has_dtype, dtype));
  return accumulate(ctx, *self, reduce, keepdim, *out, Acc::Sum);
}

Error check_mean_dtype(KernelContext& ctx, const Tensor& self, const Tensor& out, bool has_dtype, ScalarType dtype) {
  const ScalarType want = has_dtype ? dtype : self.dtype;
  if (!is_floating(want)) {
    return fail(Error::InvalidArgument, "%s: could not infer output dtype; input dtype must be floating point, got %s",
                ctx.op_name, scalar_type_name(want));
  }
  if (!is_floating(out.dtype)) {
    return fail(Error::InvalidArgument, "%s: out dtype must be floating point, got %s", ctx.op_name,
                scalar_type_name(out.dtype));
  }
  return Error::Ok;
}

// mean.out(self, dim?, keepdim, dtype?, out)
Error mean_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 5));
  Tensor *self, *out;
  bool keepdim, has_dtype, reduce[kMaxDims];
  ScalarType dtype = ScalarType::Float32;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(dims_mask(ctx, args, 1, *self, reduce));
  WICK_TRY(get_bool(ctx, args, 2, &keepdim));
  WICK_TRY(get_opt_dtype(ctx, args, 3, &dtype, &has_dtype));
  WICK_TRY(get_tensor(ctx, args, 4, &out));
  WICK_TRY(check_mean_dtype(ctx, *self, *out, has_dtype, dtype));
  return accumulate(ctx, *self, reduce, keepdim, *out, Acc::Mean);
}

// mean.dtype_out(self, dtype?, out): over all elements.
Error mean_all_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 3));
  Tensor *self, *out;
  bool has_dtype, reduce[kMaxDims];
  ScalarType dtype = ScalarType::Float32;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_opt_dtype(ctx, args, 1, &dtype, &has_dtype));
  WICK_TRY(get_tensor(ctx, args, 2, &out));
  WICK_TRY(check_mean_dtype(ctx, *self, *out, has_dtype, dtype));
  for (int d = 0; d < kMaxDims; ++d) reduce[d] = d < self->dim;
  return accumulate(ctx, *self, reduce, false, *out, Acc::Mean);
}

// prod.int_out(self, dim, keepdim, dtype?, out)
Error prod_dim_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 5));
  Tensor *self, *out;
  int64_t dim;
  bool keepdim, has_dtype, reduce[kMaxDims];
  ScalarType dtype = ScalarType::Float32;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_int(ctx, args, 1, &dim));
  WICK_TRY(get_bool(ctx, args, 2, &keepdim));
  WICK_TRY(get_opt_dtype(ctx, args, 3, &dtype, &has_dtype));
  WICK_TRY(get_tensor(ctx, args, 4, &out));
  WICK_TRY(one_dim_mask(ctx, dim, *self, reduce));
  WICK_TRY(sum_dtype(ctx, *self, *out, has_dtype, dtype));
  return accumulate(ctx, *self, reduce, keepdim, *out, Acc::Prod);
}

// prod.out(self, dtype?, out): over all elements.
Error prod_all_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 3));
  Tensor *self, *out;
  bool has_dtype, reduce[kMaxDims];
  ScalarType dtype = ScalarType::Float32;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_opt_dtype(ctx, args, 1, &dtype, &has_dtype));
  WICK_TRY(get_tensor(ctx, args, 2, &out));
  WICK_TRY(sum_dtype(ctx, *self, *out, has_dtype, dtype));
  for (int d = 0; d < kMaxDims; ++d) reduce[d] = d < self->dim;
  return accumulate(ctx, *self, reduce, false, *out, Acc::Prod);
}

// amax/amin.out(self, dim[], keepdim, out)
Error extreme_out(KernelContext& ctx, Value* const* args, int num_args, bool is_max) {
  WICK_TRY(check_num_args(ctx, num_args, 4));
  Tensor *self, *out;
  bool keepdim, reduce[kMaxDims];
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(dims_mask(ctx, args, 1, *self, reduce));
  WICK_TRY(get_bool(ctx, args, 2, &keepdim));
  WICK_TRY(get_tensor(ctx, args, 3, &out));
  WICK_TRY(check_can_cast(ctx, self->dtype, out->dtype));
  ReducePlan p;
  WICK_TRY(make_plan(ctx, *self, reduce, keepdim, &p));
  WICK_TRY(check_nonempty(ctx, p, is_max ? "amax" : "amin"));
  WICK_TRY(resize(ctx, *out, p.out_sizes, p.out_dim));
  dispatch_compute(self->dtype, [&](auto tag) {
    using C = typename decltype(tag)::type;
    for_each_output(p, [&](int64_t o, int64_t base) {
      bool first = true;
      C best = C(0);
      for_each_reduced(p, base, [&](int64_t off) {
        const C v = load_as<C>(self->data, self->dtype, off);
        if (first) {
          best = v;
          first = false;
        } else if (best == best) {  // once NaN, stays NaN
          if (v != v || (is_max ? v > best : v < best)) best = v;
        }
      });
      store_as<C>(out->data, out->dtype, o, best);
    });
  });
  return Error::Ok;
}
Error amax_out(KernelContext& ctx, Value* const* args, int n) { return extreme_out(ctx, args, n, true); }
Error amin_out(KernelContext& ctx, Value* const* args, int n) { return extreme_out(ctx, args, n, false); }

// Index of the max/min along the plan's reduced elements (the flat position
// within the reduced block), with NaN as the extreme and the first tie winning.
template <typename C>
void arg_extreme(const Tensor& self, const ReducePlan& p, int64_t base, bool is_max, C* best_out, int64_t* idx_out) {
  C best = C(0);
  int64_t best_i = 0, i = 0;
  bool first = true;
  for_each_reduced(p, base, [&](int64_t off) {
    const C v = load_as<C>(self.data, self.dtype, off);
    if (first) {
      best = v;
      best_i = i;
      first = false;
    } else if (best == best) {
      if (v != v || (is_max ? v > best : v < best)) {
        best = v;
        best_i = i;
      }
    }
    ++i;
  });
  *best_out = best;
  *idx_out = best_i;
}

// argmax/argmin.out(self, dim?, keepdim, out)
Error arg_out(KernelContext& ctx, Value* const* args, int num_args, bool is_max) {
  WICK_TRY(check_num_args(ctx, num_args, 4));
  Tensor *self, *out;
  int64_t dim;
  bool has_dim, keepdim, reduce[kMaxDims];
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_opt_int(ctx, args, 1, &dim, &has_dim));
  WICK_TRY(get_bool(ctx, args, 2, &keepdim));
  WICK_TRY(get_tensor(ctx, args, 3, &out));
  WICK_TRY(check_dtype(ctx, *out, ScalarType::Int64, "out"));
  if (self->dtype == ScalarType::Bool) {
    return fail(Error::InvalidArgument, "%s: not implemented for bool tensors", ctx.op_name);
  }
  if (has_dim) {
    WICK_TRY(one_dim_mask(ctx, dim, *self, reduce));
  } else {
    for (int d = 0; d < kMaxDims; ++d) reduce[d] = d < self->dim;
  }
  ReducePlan p;
  WICK_TRY(make_plan(ctx, *self, reduce, keepdim, &p));
  if (self->numel() == 0) {
    return fail(Error::InvalidArgument, "%s: expected a non-empty input (reduction over an empty dimension)", ctx.op_name);
  }
  if (!has_dim && !keepdim) p.out_dim = 0;
  WICK_TRY(resize(ctx, *out, p.out_sizes, p.out_dim));
  int64_t* o = out->data_as<int64_t>();
  dispatch_compute(self->dtype, [&](auto tag) {
    using C = typename decltype(tag)::type;
    for_each_output(p, [&](int64_t i, int64_t base) {
      C best;
      arg_extreme<C>(*self, p, base, is_max, &best, &o[i]);
    });
  });
  return Error::Ok;
}
Error argmax_out(KernelContext& ctx, Value* const* args, int n) { return arg_out(ctx, args, n, true); }
Error argmin_out(KernelContext& ctx, Value* const* args, int n) { return arg_out(ctx, args, n, false); }

// max.dim_max / min.dim_min(self, dim, keepdim, values, indices)
Error dim_extreme_out(KernelContext& ctx, Value* const* args, int num_args, bool is_max) {
  WICK_TRY(check_num_args(ctx, num_args, 5));
  Tensor *self, *values, *indices;
  int64_t dim;
  bool keepdim, reduce[kMaxDims];
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_int(ctx, args, 1, &dim));
  WICK_TRY(get_bool(ctx, args, 2, &keepdim));
  WICK_TRY(get_tensor(ctx, args, 3, &values));
  WICK_TRY(get_tensor(ctx, args, 4, &indices));
  WICK_TRY(check_dtype(ctx, *indices, ScalarType::Int64, "indices"));
  WICK_TRY(check_can_cast(ctx, self->dtype, values->dtype));
  WICK_TRY(one_dim_mask(ctx, dim, *self, reduce));
  ReducePlan p;
  WICK_TRY(make_plan(ctx, *self, reduce, keepdim, &p));
  WICK_TRY(check_nonempty(ctx, p, is_max ? "max" : "min"));
  WICK_TRY(resize(ctx, *values, p.out_sizes, p.out_dim));
  WICK_TRY(resize(ctx, *indices, p.out_sizes, p.out_dim));
  int64_t* ix = indices->data_as<int64_t>();
  dispatch_compute(self->dtype, [&](auto tag) {
    using C = typename decltype(tag)::type;
    for_each_output(p, [&](int64_t o, int64_t base) {
      C best;
      arg_extreme<C>(*self, p, base, is_max, &best, &ix[o]);
      store_as<C>(values->data, values->dtype, o, best);
    });
  });
  return Error::Ok;
}
Error max_dim_out(KernelContext& ctx, Value* const* args, int n) { return dim_extreme_out(ctx, args, n, true); }
Error min_dim_out(KernelContext& ctx, Value* const* args, int n) { return dim_extreme_out(ctx, args, n, false); }

// any: out is bool (uint8 for a uint8 input, like PyTorch).
Error any_common(KernelContext& ctx, const Tensor& self, const bool* reduce, bool keepdim, Tensor& out) {
  ReducePlan p;
  WICK_TRY(make_plan(ctx, self, reduce, keepdim, &p));
  WICK_TRY(resize(ctx, out, p.out_sizes, p.out_dim));
  const bool floating = is_floating(self.dtype);
  for_each_output(p, [&](int64_t o, int64_t base) {
    bool r = false;
    for_each_reduced(p, base, [&](int64_t off) {
      if (!r) r = floating ? load_as<double>(self.data, self.dtype, off) != 0.0
                           : load_as<int64_t>(self.data, self.dtype, off) != 0;
    });
    store_as<int64_t>(out.data, out.dtype, o, r ? 1 : 0);
  });
  return Error::Ok;
}

// any.all_out(self, out)
Error any_all_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 2));
  Tensor *self, *out;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_tensor(ctx, args, 1, &out));
  bool reduce[kMaxDims];
  for (int d = 0; d < kMaxDims; ++d) reduce[d] = d < self->dim;
  return any_common(ctx, *self, reduce, false, *out);
}

// any.out(self, dim, keepdim, out)
Error any_dim_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 4));
  Tensor *self, *out;
  int64_t dim;
  bool keepdim, reduce[kMaxDims];
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_int(ctx, args, 1, &dim));
  WICK_TRY(get_bool(ctx, args, 2, &keepdim));
  WICK_TRY(get_tensor(ctx, args, 3, &out));
  WICK_TRY(one_dim_mask(ctx, dim, *self, reduce));
  return any_common(ctx, *self, reduce, keepdim, *out);
}

// any.dims_out(self, dim[]?, keepdim, out)
Error any_dims_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 4));
  Tensor *self, *out;
  bool keepdim, reduce[kMaxDims];
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(dims_mask(ctx, args, 1, *self, reduce));
  WICK_TRY(get_bool(ctx, args, 2, &keepdim));
  WICK_TRY(get_tensor(ctx, args, 3, &out));
  return any_common(ctx, *self, reduce, keepdim, *out);
}

// Two-pass variance in double: sum((x - mean)^2) / max(0, N - correction).
Error var_common(KernelContext& ctx, const Tensor& self, const bool* reduce, double correction, bool keepdim,
                 Tensor& out) {
  if (!is_floating(self.dtype)) {
    return fail(Error::InvalidArgument, "%s: std and var only support floating point dtypes, got %s", ctx.op_name,
                scalar_type_name(self.dtype));
  }
  ReducePlan p;
  WICK_TRY(make_plan(ctx, self, reduce, keepdim, &p));
  WICK_TRY(resize(ctx, out, p.out_sizes, p.out_dim));
  const double dof = std::max(0.0, static_cast<double>(p.count) - correction);
  for_each_output(p, [&](int64_t o, int64_t base) {
    double sum = 0.0;
    for_each_reduced(p, base, [&](int64_t off) { sum += load_as<double>(self.data, self.dtype, off); });
    const double mean = sum / static_cast<double>(p.count);
    double m2 = 0.0;
    for_each_reduced(p, base, [&](int64_t off) {
      const double d = load_as<double>(self.data, self.dtype, off) - mean;
      m2 += d * d;
    });
    store_as<double>(out.data, out.dtype, o, p.count == 0 ? std::numeric_limits<double>::quiet_NaN() : m2 / dof);
  });
  return Error::Ok;
}

// var.correction_out(self, dim[]?, correction: Scalar?, keepdim, out)
Error var_correction_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 5));
  Tensor *self, *out;
  bool keepdim, reduce[kMaxDims];
  const Value* corr;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(dims_mask(ctx, args, 1, *self, reduce));
  WICK_TRY(get_opt_scalar(ctx, args, 2, &corr));
  WICK_TRY(get_bool(ctx, args, 3, &keepdim));
  WICK_TRY(get_tensor(ctx, args, 4, &out));
  return var_common(ctx, *self, reduce, corr == nullptr ? 1.0 : corr->scalar_as_double(), keepdim, *out);
}

// var.out(self, dim[]?, unbiased, keepdim, out)
Error var_dim_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 5));
  Tensor *self, *out;
  bool keepdim, unbiased, reduce[kMaxDims];
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(dims_mask(ctx, args, 1, *self, reduce));
  WICK_TRY(get_bool(ctx, args, 2, &unbiased));
  WICK_TRY(get_bool(ctx, args, 3, &keepdim));
  WICK_TRY(get_tensor(ctx, args, 4, &out));
  return var_common(ctx, *self, reduce, unbiased ? 1.0 : 0.0, keepdim, *out);
}

// cumsum.out(self, dim, dtype?, out)
Error cumsum_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 4));
  Tensor *self, *out;
  int64_t dim_arg;
  bool has_dtype;
  ScalarType dtype = ScalarType::Float32;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_int(ctx, args, 1, &dim_arg));
  WICK_TRY(get_opt_dtype(ctx, args, 2, &dtype, &has_dtype));
  WICK_TRY(get_tensor(ctx, args, 3, &out));
  WICK_TRY(sum_dtype(ctx, *self, *out, has_dtype, dtype));
  int dim;
  WICK_TRY(normalize_dim(ctx, dim_arg, self->dim, &dim));
  WICK_TRY(resize(ctx, *out, self->sizes, self->dim));
  const int64_t n = self->numel();
  if (n == 0) return Error::Ok;
  const int64_t len = self->dim == 0 ? 1 : self->sizes[dim];
  int64_t inner = 1;
  for (int d = dim + 1; d < self->dim; ++d) inner *= self->sizes[d];
  const int64_t outer = n / (len * inner);
  const bool integral = is_integral(out->dtype, true) && is_integral(self->dtype, true);
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t k = 0; k < inner; ++k) {
      const int64_t base = o * len * inner + k;
      if (integral) {
        int64_t acc = 0;
        for (int64_t i = 0; i < len; ++i) {
          acc = static_cast<int64_t>(static_cast<uint64_t>(acc) +
                                     static_cast<uint64_t>(load_as<int64_t>(self->data, self->dtype, base + i * inner)));
          store_as<int64_t>(out->data, out->dtype, base + i * inner, acc);
        }
      } else {
        double acc = 0.0;
        for (int64_t i = 0; i < len; ++i) {
          acc += load_as<double>(self->data, self->dtype, base + i * inner);
          store_as<double>(out->data, out->dtype, base + i * inner, acc);
        }
      }
    }
  }
  return Error::Ok;
}

constexpr uint32_t kFloating = kF32 | dtype_bit(ScalarType::Float64) | dtype_bit(ScalarType::Float16) |
                               dtype_bit(ScalarType::BFloat16);
constexpr uint32_t kNoBool = kAllDtypes & ~dtype_bit(ScalarType::Bool);

}  // namespace
}  // namespace portable
}  // namespace wick

using namespace wick::portable;

WICK_REGISTER_KERNELS(reduce,
                      {"aten::sum.IntList_out", kAllDtypes, &sum_out, nullptr},
                      {"aten::mean.out", kFloating, &mean_out, nullptr},
                      {"aten::mean.dtype_out", kFloating, &mean_all_out, nullptr},
                      {"aten::prod.int_out", kAllDtypes, &prod_dim_out, nullptr},
                      {"aten::prod.out", kAllDtypes, &prod_all_out, nullptr},
                      {"aten::amax.out", kAllDtypes, &amax_out, nullptr},
                      {"aten::amin.out", kAllDtypes, &amin_out, nullptr},
                      {"aten::argmax.out", kNoBool, &argmax_out, nullptr},
                      {"aten::argmin.out", kNoBool, &argmin_out, nullptr},
                      {"aten::max.dim_max", kAllDtypes, &max_dim_out, nullptr},
                      {"aten::min.dim_min", kAllDtypes, &min_dim_out, nullptr},
                      {"aten::any.all_out", kAllDtypes, &any_all_out, nullptr},
                      {"aten::any.out", kAllDtypes, &any_dim_out, nullptr},
                      {"aten::any.dims_out", kAllDtypes, &any_dims_out, nullptr},
                      {"aten::var.correction_out", kFloating, &var_correction_out, nullptr},
                      {"aten::var.out", kFloating, &var_dim_out, nullptr},
                      {"aten::cumsum.out", kAllDtypes, &cumsum_out, nullptr})
