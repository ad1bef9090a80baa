// Selection ops: where.self (three-way broadcast) and clamp with Scalar or
// Tensor bounds. Bounds promote with self like PyTorch (an int tensor clamped
// by 0.5 gives float32); a NaN in the input or in a bound gives NaN; a lower
// bound above the upper one yields the upper bound.
#include <cstdint>

#include "portable/elementwise.h"
#include "portable/util.h"

namespace wick {
namespace portable {
namespace {

// Visits every element of out (contiguous, or one shared layout without
// broadcasting) with the element offsets of up to 3 inputs (null = absent).
template <typename Fn>
void for_each_broadcast3(const Tensor* const* in, const Tensor& out, Fn fn) {
  const int64_t n = out.numel();
  if (n == 0) return;
  bool flat = true;
  for (int k = 0; k < 3; ++k)
    if (in[k] != nullptr && in[k]->numel() != n && in[k]->numel() != 1) flat = false;
  if (flat) {
    int64_t step[3];
    for (int k = 0; k < 3; ++k) step[k] = (in[k] != nullptr && in[k]->numel() == n) ? 1 : 0;
    for (int64_t i = 0; i < n; ++i) fn(i * step[0], i * step[1], i * step[2], i);
    return;
  }
  int64_t strides[4][kMaxDims];
  for (int k = 0; k < 3; ++k) {
    if (in[k] != nullptr) broadcast_strides(in[k]->sizes, in[k]->dim, out.sizes, out.dim, strides[k]);
    else for (int d = 0; d < out.dim; ++d) strides[k][d] = 0;
  }
  contiguous_strides(out.sizes, out.dim, strides[3]);
  for_each_row<4>(out.sizes, out.dim, strides, [&](const int64_t* offs, int64_t cnt, const int64_t* inner) {
    for (int64_t i = 0; i < cnt; ++i) fn(offs[0] + i * inner[0], offs[1] + i * inner[1], offs[2] + i * inner[2], offs[3] + i);
  });
}

Error broadcast_out(KernelContext& ctx, const Tensor* const* in, int n, Tensor& out) {
  int64_t sizes[kMaxDims];
  int dim = 0;
  bool first = true;
  for (int k = 0; k < n; ++k) {
    if (in[k] == nullptr) continue;
    if (first) {
      dim = in[k]->dim;
      for (int d = 0; d < dim; ++d) sizes[d] = in[k]->sizes[d];
      first = false;
      continue;
    }
    int64_t tmp[kMaxDims];
    int tdim;
    WICK_TRY(broadcast_shapes(ctx, sizes, dim, in[k]->sizes, in[k]->dim, tmp, &tdim));
    dim = tdim;
    for (int d = 0; d < dim; ++d) sizes[d] = tmp[d];
  }
  WICK_TRY(resize(ctx, out, sizes, dim));
  const Tensor* all[4] = {n > 0 ? in[0] : nullptr, n > 1 ? in[1] : nullptr, n > 2 ? in[2] : nullptr, &out};
  return check_same_layout(ctx, all, 4);
}

// where.self_out(condition, self, other, out)
Error where_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 4));
  Tensor *cond, *a, *b, *out;
  WICK_TRY(get_tensor_any_order(ctx, args, 0, &cond));
  WICK_TRY(get_tensor_any_order(ctx, args, 1, &a));
  WICK_TRY(get_tensor_any_order(ctx, args, 2, &b));
  WICK_TRY(get_tensor_any_order(ctx, args, 3, &out));
  if (cond->dtype != ScalarType::Bool && cond->dtype != ScalarType::UInt8) {
    return fail(Error::InvalidArgument, "%s: condition must be a bool tensor, got %s", ctx.op_name,
                scalar_type_name(cond->dtype));
  }
  ResultType rt;
  rt.add_tensor(*a);
  rt.add_tensor(*b);
  const ScalarType r = rt.result();
  WICK_TRY(check_can_cast(ctx, r, out->dtype));
  const Tensor* in[3] = {cond, a, b};
  WICK_TRY(broadcast_out(ctx, in, 3, *out));
  const unsigned char* c = static_cast<const unsigned char*>(cond->data);
  if (a->dtype == out->dtype && b->dtype == out->dtype) {
    const size_t es = element_size(out->dtype);
    dispatch_all(out->dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      (void)es;
      const T* x = static_cast<const T*>(a->data);
      const T* y = static_cast<const T*>(b->data);
      T* o = static_cast<T*>(out->data);
      for_each_broadcast3(in, *out, [&](int64_t ic, int64_t ia, int64_t ib, int64_t io) {
        o[io] = c[ic] ? x[ia] : y[ib];
      });
    });
    return Error::Ok;
  }
  dispatch_compute(r, [&](auto tag) {
    using C = typename decltype(tag)::type;
    for_each_broadcast3(in, *out, [&](int64_t ic, int64_t ia, int64_t ib, int64_t io) {
      C v = c[ic] ? load_as<C>(a->data, a->dtype, ia) : load_as<C>(b->data, b->dtype, ib);
      store_as<C>(out->data, out->dtype, io, v);
    });
  });
  return Error::Ok;
}

template <typename C>
inline C clamp_value(C v, bool has_lo, C lo, bool has_hi, C hi) {
  if constexpr (!std::is_integral<C>::value) {
    if (v != v) return v;
    if (has_lo && lo != lo) return lo;
    if (has_hi && hi != hi) return hi;
  }
  if (has_lo && v < lo) v = lo;
  if (has_hi && v > hi) v = hi;
  return v;
}

// clamp.out(self, min: Scalar?, max: Scalar?, out)
Error clamp_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 4));
  Tensor *self, *out;
  const Value *lo, *hi;
  WICK_TRY(get_tensor_any_order(ctx, args, 0, &self));
  WICK_TRY(get_opt_scalar(ctx, args, 1, &lo));
  WICK_TRY(get_opt_scalar(ctx, args, 2, &hi));
  WICK_TRY(get_tensor_any_order(ctx, args, 3, &out));
  if (lo == nullptr && hi == nullptr) {
    return fail(Error::InvalidArgument, "%s: at least one of 'min' or 'max' must not be None", ctx.op_name);
  }
  ResultType rt;
  rt.add_tensor(*self);
  if (lo != nullptr) rt.add_scalar(*lo);
  if (hi != nullptr) rt.add_scalar(*hi);
  const ScalarType r = rt.result();
  WICK_TRY(check_can_cast(ctx, r, out->dtype));
  WICK_TRY(resize(ctx, *out, self->sizes, self->dim));
  const Tensor* ts[2] = {self, out};
  WICK_TRY(check_same_layout(ctx, ts, 2));
  dispatch_compute(r, [&](auto tag) {
    using C = typename decltype(tag)::type;
    // Bounds convert to the result dtype first (an int8 bound wraps like PyTorch's).
    C l = C(0), h = C(0);
    if (lo != nullptr) {
      ScalarTensor s;
      s.set(*lo, r);
      l = load_as<C>(s.t.data, s.t.dtype, 0);
    }
    if (hi != nullptr) {
      ScalarTensor s;
      s.set(*hi, r);
      h = load_as<C>(s.t.data, s.t.dtype, 0);
    }
    const bool has_lo = lo != nullptr, has_hi = hi != nullptr;
    map_unary<C>(*self, *out, [=](C v) { return clamp_value<C>(v, has_lo, l, has_hi, h); });
  });
  return Error::Ok;
}

// clamp.Tensor_out(self, min: Tensor?, max: Tensor?, out)
Error clamp_tensor_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 4));
  Tensor *self, *lo = nullptr, *hi = nullptr, *out;
  WICK_TRY(get_tensor_any_order(ctx, args, 0, &self));
  if (args[1] != nullptr && !args[1]->is_null()) WICK_TRY(get_tensor_any_order(ctx, args, 1, &lo));
  if (args[2] != nullptr && !args[2]->is_null()) WICK_TRY(get_tensor_any_order(ctx, args, 2, &hi));
  WICK_TRY(get_tensor_any_order(ctx, args, 3, &out));
  if (lo == nullptr && hi == nullptr) {
    return fail(Error::InvalidArgument, "%s: at least one of 'min' or 'max' must not be None", ctx.op_name);
  }
  ResultType rt;
  rt.add_tensor(*self);
  if (lo != nullptr) rt.add_tensor(*lo);
  if (hi != nullptr) rt.add_tensor(*hi);
  const ScalarType r = rt.result();
  WICK_TRY(check_can_cast(ctx, r, out->dtype));
  const Tensor* in[3] = {self, lo, hi};
  WICK_TRY(broadcast_out(ctx, in, 3, *out));
  dispatch_compute(r, [&](auto tag) {
    using C = typename decltype(tag)::type;
    for_each_broadcast3(in, *out, [&](int64_t is, int64_t il, int64_t ih, int64_t io) {
      const C v = load_as<C>(self->data, self->dtype, is);
      const C l = lo != nullptr ? load_as<C>(lo->data, lo->dtype, il) : C(0);
      const C h = hi != nullptr ? load_as<C>(hi->data, hi->dtype, ih) : C(0);
      store_as<C>(out->data, out->dtype, io, clamp_value<C>(v, lo != nullptr, l, hi != nullptr, h));
    });
  });
  return Error::Ok;
}


}  // namespace
}  // namespace portable
}  // namespace wick

using namespace wick::portable;

WICK_REGISTER_KERNELS(where_clamp,
                      {"aten::where.self_out", kAllDtypes, &where_out, nullptr},
                      {"aten::clamp.out", kAllDtypes, &clamp_out, nullptr},
                      {"aten::clamp.Tensor_out", kAllDtypes, &clamp_tensor_out, nullptr})
