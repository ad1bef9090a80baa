// Pooling over 1, 2 or 3 trailing spatial dims for every floating dtype
// (computed in double; max pooling also integers): avg_pool1d, avg_pool3d,
// adaptive_avg_pool1d, _adaptive_avg_pool3d, max_pool3d_with_indices, the 2-D
// forward ops for dtypes other than float32, and the backward ops
// avg_pool2d_backward, max_pool2d_with_indices_backward,
// _adaptive_avg_pool2d_backward. (2-D float32 forward pooling, the hot path,
// lives in pooling.cpp.) Window rules follow ATen: ceil_mode may add a last
// window only if it starts inside the input or left padding; avg divides by
// divisor_override, else by the padded window (count_include_pad) or the
// in-bounds part; max pooling lets NaN win; indices are flat within a plane.
#include <cmath>
#include <cstdint>

#include "portable/util.h"

namespace wick {
namespace portable {
namespace {

inline double ld(const Tensor& t, int64_t i) { return load_as<double>(t.data, t.dtype, i); }
inline void st(Tensor& t, int64_t i, double v) { store_as<double>(t.data, t.dtype, i, v); }

struct Pool {
  int S = 0;  // spatial dims
  int64_t planes = 1;
  int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1};
  int64_t k[3] = {1, 1, 1}, s[3] = {1, 1, 1}, p[3] = {0, 0, 0}, d[3] = {1, 1, 1};
  int64_t in_plane = 1, out_plane = 1;
  int64_t out_sizes[kMaxDims];
  int rank = 0;
};

int64_t pool_out_size(int64_t in, int64_t k, int64_t pad, int64_t stride, int64_t dil, bool ceil_mode) {
  const int64_t num = in + 2 * pad - dil * (k - 1) - 1 + (ceil_mode ? stride - 1 : 0);
  int64_t out = (num >= 0 ? num / stride : -((-num + stride - 1) / stride)) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

Error list_arg(KernelContext& ctx, Value* const* args, int i, int S, const char* name, int64_t dflt, bool empty_ok,
               const int64_t* fallback, int64_t* v) {
  const int64_t* data;
  int n;
  WICK_TRY(get_int_list(ctx, args, i, &data, &n));
  if (n == 0 && empty_ok) {
    for (int j = 0; j < S; ++j) v[j] = fallback != nullptr ? fallback[j] : dflt;
    return Error::Ok;
  }
  if (n != 1 && n != S) {
    return fail(Error::InvalidArgument, "%s: %s must be a single int or %d ints, got %d values", ctx.op_name, name, S, n);
  }
  for (int j = 0; j < S; ++j) v[j] = data[n == 1 ? 0 : j];
  return Error::Ok;
}

// Shape checks and planes/spatial sizes of `in` with S spatial dims.
Error pool_input(KernelContext& ctx, const Tensor& in, int S, Pool* g, bool allow_int = false) {
  if (!is_floating(in.dtype) && !allow_int) {
    return fail(Error::InvalidArgument, "%s: input must be floating point, got %s", ctx.op_name, scalar_type_name(in.dtype));
  }
  if (in.dim != S + 1 && in.dim != S + 2) {
    return fail(Error::InvalidArgument, "%s: expected a %d-D or %d-D input, got %s", ctx.op_name, S + 1, S + 2,
                shape_str(in));
  }
  g->S = S;
  g->rank = in.dim;
  g->planes = 1;
  for (int j = 0; j < in.dim - S; ++j) {
    g->planes *= in.sizes[j];
    g->out_sizes[j] = in.sizes[j];
  }
  g->in_plane = 1;
  for (int j = 0; j < S; ++j) {
    g->in[j] = in.sizes[in.dim - S + j];
    g->in_plane *= g->in[j];
  }
  return Error::Ok;
}

Error pool_window(KernelContext& ctx, Pool* g, bool ceil_mode) {
  g->out_plane = 1;
  for (int j = 0; j < g->S; ++j) {
    if (g->k[j] <= 0 || g->s[j] <= 0 || g->d[j] <= 0) {
      return fail(Error::InvalidArgument, "%s: kernel size, stride and dilation must be positive", ctx.op_name);
    }
    if (g->p[j] < 0 || g->p[j] > g->k[j] / 2) {
      return fail(Error::InvalidArgument, "%s: pad should be at most half of the effective kernel size", ctx.op_name);
    }
    g->out[j] = pool_out_size(g->in[j], g->k[j], g->p[j], g->s[j], g->d[j], ceil_mode);
    if (g->out[j] <= 0) {
      return fail(Error::InvalidArgument, "%s: output size is too small for input %lld", ctx.op_name,
                  static_cast<long long>(g->in[j]));
    }
    g->out_sizes[g->rank - g->S + j] = g->out[j];
    g->out_plane *= g->out[j];
  }
  return Error::Ok;
}

// Calls fn(out_index_in_plane, lo[3], hi[3] (clamped), divisor) for avg pooling.
template <typename Fn>
void for_each_avg_window(const Pool& g, bool count_include_pad, bool has_div, int64_t divisor, Fn fn) {
  int64_t o[3] = {0, 0, 0};
  for (int64_t i = 0; i < g.out_plane; ++i) {
    int64_t lo[3], hi[3], pool = 1, inside = 1;
    for (int j = 0; j < 3; ++j) {
      if (j >= g.S) {
        lo[j] = 0;
        hi[j] = 1;
        continue;
      }
      int64_t start = o[j] * g.s[j] - g.p[j];
      int64_t end = start + g.k[j] < g.in[j] + g.p[j] ? start + g.k[j] : g.in[j] + g.p[j];
      pool *= end - start;
      start = start < 0 ? 0 : start;
      end = end > g.in[j] ? g.in[j] : end;
      lo[j] = start;
      hi[j] = end;
      inside *= end - start > 0 ? end - start : 0;
    }
    const int64_t div = has_div ? divisor : (count_include_pad ? pool : inside);
    fn(i, lo, hi, div);
    for (int j = g.S - 1; j >= 0; --j) {
      if (++o[j] < g.out[j]) break;
      o[j] = 0;
    }
  }
}

inline int64_t plane_index(const Pool& g, int64_t a, int64_t b, int64_t c) {
  // (a, b, c) over the last S dims, padded with leading 0s for S < 3
  if (g.S == 1) return a;
  if (g.S == 2) return a * g.in[1] + b;
  return (a * g.in[1] + b) * g.in[2] + c;
}

// avg_pool1d.out(self, kernel_size, stride, padding, ceil_mode, count_include_pad, out)
// avg_pool3d.out(self, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override?, out)
template <int S>
Error avg_pool_out(KernelContext& ctx, Value* const* args, int num_args) {
  const int expected = S == 1 ? 7 : 8;
  WICK_TRY(check_num_args(ctx, num_args, expected));
  Tensor *in, *out;
  Pool g;
  bool ceil_mode, cip, has_div = false;
  int64_t divisor = 0;
  WICK_TRY(get_tensor(ctx, args, 0, &in));
  if (in->dtype == ScalarType::Bool) return fail(Error::InvalidArgument, "%s: not implemented for bool", ctx.op_name);
  WICK_TRY(pool_input(ctx, *in, S, &g, true));
  WICK_TRY(list_arg(ctx, args, 1, S, "kernel_size", 1, false, nullptr, g.k));
  WICK_TRY(list_arg(ctx, args, 2, S, "stride", 1, true, g.k, g.s));
  WICK_TRY(list_arg(ctx, args, 3, S, "padding", 0, false, nullptr, g.p));
  WICK_TRY(get_bool(ctx, args, 4, &ceil_mode));
  WICK_TRY(get_bool(ctx, args, 5, &cip));
  if (S != 1) {
    WICK_TRY(get_opt_int(ctx, args, 6, &divisor, &has_div));
    if (has_div && divisor == 0) return fail(Error::InvalidArgument, "%s: divisor must be not zero", ctx.op_name);
  }
  WICK_TRY(get_tensor(ctx, args, expected - 1, &out));
  WICK_TRY(pool_window(ctx, &g, ceil_mode));
  WICK_TRY(resize(ctx, *out, g.out_sizes, g.rank));
  for (int64_t pl = 0; pl < g.planes; ++pl) {
    const int64_t ib = pl * g.in_plane, ob = pl * g.out_plane;
    for_each_avg_window(g, cip, has_div, divisor, [&](int64_t i, const int64_t* lo, const int64_t* hi, int64_t div) {
      double sum = 0.0;
      for (int64_t a = lo[0]; a < hi[0]; ++a)
        for (int64_t b = lo[1]; b < hi[1]; ++b)
          for (int64_t c = lo[2]; c < hi[2]; ++c) sum += ld(*in, ib + plane_index(g, a, b, c));
      st(*out, ob + i, sum / static_cast<double>(div));
    });
  }
  return Error::Ok;
}

// adaptive_avg_pool1d.out / _adaptive_avg_pool3d.out(self, output_size, out)
template <int S>
Error adaptive_avg_pool_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 3));
  Tensor *in, *out;
  Pool g;
  WICK_TRY(get_tensor(ctx, args, 0, &in));
  WICK_TRY(pool_input(ctx, *in, S, &g, true));
  WICK_TRY(list_arg(ctx, args, 1, S, "output_size", 1, false, nullptr, g.out));
  WICK_TRY(get_tensor(ctx, args, 2, &out));
  g.out_plane = 1;
  for (int j = 0; j < S; ++j) {
    if (g.out[j] < 0) return fail(Error::InvalidArgument, "%s: output_size must be non-negative", ctx.op_name);
    g.out_sizes[g.rank - S + j] = g.out[j];
    g.out_plane *= g.out[j];
  }
  WICK_TRY(resize(ctx, *out, g.out_sizes, g.rank));
  int64_t o[3] = {0, 0, 0};
  for (int64_t i = 0; i < g.out_plane; ++i) {
    int64_t lo[3] = {0, 0, 0}, hi[3] = {1, 1, 1};
    int64_t count = 1;
    for (int j = 0; j < S; ++j) {
      lo[j] = (o[j] * g.in[j]) / g.out[j];
      hi[j] = ((o[j] + 1) * g.in[j] + g.out[j] - 1) / g.out[j];
      count *= hi[j] - lo[j];
    }
    for (int64_t pl = 0; pl < g.planes; ++pl) {
      double sum = 0.0;
      for (int64_t a = lo[0]; a < hi[0]; ++a)
        for (int64_t b = lo[1]; b < hi[1]; ++b)
          for (int64_t c = lo[2]; c < hi[2]; ++c) sum += ld(*in, pl * g.in_plane + plane_index(g, a, b, c));
      st(*out, pl * g.out_plane + i, sum / static_cast<double>(count));
    }
    for (int j = S - 1; j >= 0; --j) {
      if (++o[j] < g.out[j]) break;
      o[j] = 0;
    }
  }
  return Error::Ok;
}

// max_pool{2,3}d_with_indices.out(self, kernel_size, stride, padding, dilation, ceil_mode, out, indices)
template <int S>
Error max_pool_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 8));
  Tensor *in, *out, *ind;
  Pool g;
  bool ceil_mode;
  WICK_TRY(get_tensor(ctx, args, 0, &in));
  if (in->dtype == ScalarType::Bool) return fail(Error::InvalidArgument, "%s: not implemented for bool", ctx.op_name);
  WICK_TRY(pool_input(ctx, *in, S, &g, true));
  WICK_TRY(list_arg(ctx, args, 1, S, "kernel_size", 1, false, nullptr, g.k));
  WICK_TRY(list_arg(ctx, args, 2, S, "stride", 1, true, g.k, g.s));
  WICK_TRY(list_arg(ctx, args, 3, S, "padding", 0, false, nullptr, g.p));
  WICK_TRY(list_arg(ctx, args, 4, S, "dilation", 1, false, nullptr, g.d));
  WICK_TRY(get_bool(ctx, args, 5, &ceil_mode));
  WICK_TRY(get_tensor(ctx, args, 6, &out));
  WICK_TRY(get_tensor(ctx, args, 7, &ind));
  WICK_TRY(check_dtype(ctx, *ind, ScalarType::Int64, "indices"));
  WICK_TRY(check_same_dtype(ctx, *in, *out, "input", "out"));
  WICK_TRY(pool_window(ctx, &g, ceil_mode));
  WICK_TRY(resize(ctx, *out, g.out_sizes, g.rank));
  WICK_TRY(resize(ctx, *ind, g.out_sizes, g.rank));
  int64_t* ix = ind->data_as<int64_t>();
  for (int64_t pl = 0; pl < g.planes; ++pl) {
    int64_t o[3] = {0, 0, 0};
    for (int64_t i = 0; i < g.out_plane; ++i) {
      double best = -INFINITY;
      int64_t best_i = -1;
      for (int64_t a = 0; a < g.k[0]; ++a) {
        const int64_t x = o[0] * g.s[0] - g.p[0] + a * g.d[0];
        if (x < 0 || x >= g.in[0]) continue;
        for (int64_t b = 0; b < g.k[1]; ++b) {
          const int64_t y = o[1] * g.s[1] - g.p[1] + b * g.d[1];
          if (y < 0 || y >= g.in[1]) continue;
          for (int64_t c = 0; c < g.k[2]; ++c) {
            const int64_t z = o[2] * g.s[2] - g.p[2] + c * g.d[2];
            if (z < 0 || z >= g.in[2]) continue;
            const int64_t pi = plane_index(g, x, y, z);
            const double v = ld(*in, pl * g.in_plane + pi);
            if (best_i < 0 || v > best || v != v) {
              best = v;
              best_i = pi;
            }
          }
        }
      }
      st(*out, pl * g.out_plane + i, best);
      ix[pl * g.out_plane + i] = best_i;
      for (int j = S - 1; j >= 0; --j) {
        if (++o[j] < g.out[j]) break;
        o[j] = 0;
      }
    }
  }
  return Error::Ok;
}

// Zeroes grad_input shaped like self (floating) and returns the plane geometry.
Error backward_prologue(KernelContext& ctx, const Tensor& self, const Tensor& grad_out, Tensor& gi, int S, Pool* g) {
  WICK_TRY(pool_input(ctx, self, S, g, true));
  WICK_TRY(check_same_dtype(ctx, self, gi, "self", "grad_input"));
  WICK_TRY(resize(ctx, gi, self.sizes, self.dim));
  for (int64_t i = 0; i < gi.numel(); ++i) st(gi, i, 0.0);
  if (grad_out.dim != self.dim) {
    return fail(Error::InvalidArgument, "%s: grad_output %s and input %s must have the same rank", ctx.op_name,
                shape_str(grad_out), shape_str(self));
  }
  return Error::Ok;
}

// avg_pool2d_backward.grad_input(grad_output, self, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override?, grad_input)
Error avg_pool2d_backward_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 9));
  Tensor *go, *self, *gi;
  Pool g;
  bool ceil_mode, cip, has_div;
  int64_t divisor;
  WICK_TRY(get_tensor(ctx, args, 0, &go));
  WICK_TRY(get_tensor(ctx, args, 1, &self));
  WICK_TRY(get_tensor(ctx, args, 8, &gi));
  WICK_TRY(backward_prologue(ctx, *self, *go, *gi, 2, &g));
  WICK_TRY(list_arg(ctx, args, 2, 2, "kernel_size", 1, false, nullptr, g.k));
  WICK_TRY(list_arg(ctx, args, 3, 2, "stride", 1, true, g.k, g.s));
  WICK_TRY(list_arg(ctx, args, 4, 2, "padding", 0, false, nullptr, g.p));
  WICK_TRY(get_bool(ctx, args, 5, &ceil_mode));
  WICK_TRY(get_bool(ctx, args, 6, &cip));
  WICK_TRY(get_opt_int(ctx, args, 7, &divisor, &has_div));
  WICK_TRY(pool_window(ctx, &g, ceil_mode));
  if (go->numel() != g.planes * g.out_plane) {
    return fail(Error::InvalidArgument, "%s: grad_output %s does not match the pooled shape %s", ctx.op_name,
                shape_str(*go), shape_str(g.out_sizes, g.rank));
  }
  for (int64_t pl = 0; pl < g.planes; ++pl) {
    for_each_avg_window(g, cip, has_div, divisor, [&](int64_t i, const int64_t* lo, const int64_t* hi, int64_t div) {
      double v = ld(*go, pl * g.out_plane + i) / static_cast<double>(div);
      if (is_integral(gi->dtype, true)) v = std::trunc(v);  // integer division, like PyTorch
      for (int64_t a = lo[0]; a < hi[0]; ++a)
        for (int64_t b = lo[1]; b < hi[1]; ++b) {
          const int64_t k = pl * g.in_plane + a * g.in[1] + b;
          st(*gi, k, ld(*gi, k) + v);
        }
    });
  }
  return Error::Ok;
}

// max_pool2d_with_indices_backward.grad_input(grad_output, self, kernel_size, stride, padding, dilation, ceil_mode, indices, grad_input)
Error max_pool2d_backward_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 9));
  Tensor *go, *self, *ind, *gi;
  Pool g;
  WICK_TRY(get_tensor(ctx, args, 0, &go));
  WICK_TRY(get_tensor(ctx, args, 1, &self));
  WICK_TRY(get_tensor(ctx, args, 7, &ind));
  WICK_TRY(get_tensor(ctx, args, 8, &gi));
  WICK_TRY(check_dtype(ctx, *ind, ScalarType::Int64, "indices"));
  WICK_TRY(backward_prologue(ctx, *self, *go, *gi, 2, &g));
  if (ind->numel() != go->numel() || go->numel() % (g.planes == 0 ? 1 : g.planes) != 0) {
    return fail(Error::InvalidArgument, "%s: indices %s and grad_output %s must match", ctx.op_name, shape_str(*ind),
                shape_str(*go));
  }
  const int64_t per_plane = g.planes == 0 ? 0 : go->numel() / g.planes;
  const int64_t* ix = ind->data_as<const int64_t>();
  for (int64_t pl = 0; pl < g.planes; ++pl) {
    for (int64_t i = 0; i < per_plane; ++i) {
      const int64_t src = ix[pl * per_plane + i];
      if (src < 0 || src >= g.in_plane) {
        return fail(Error::InvalidArgument, "%s: index %lld out of range for a plane of %lld elements", ctx.op_name,
                    static_cast<long long>(src), static_cast<long long>(g.in_plane));
      }
      const int64_t k = pl * g.in_plane + src;
      st(*gi, k, ld(*gi, k) + ld(*go, pl * per_plane + i));
    }
  }
  return Error::Ok;
}

// _adaptive_avg_pool2d_backward.out(grad_output, self, out)
Error adaptive_avg_pool2d_backward_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 3));
  Tensor *go, *self, *gi;
  Pool g;
  WICK_TRY(get_tensor(ctx, args, 0, &go));
  WICK_TRY(get_tensor(ctx, args, 1, &self));
  WICK_TRY(get_tensor(ctx, args, 2, &gi));
  WICK_TRY(backward_prologue(ctx, *self, *go, *gi, 2, &g));
  const int64_t OH = go->sizes[go->dim - 2], OW = go->sizes[go->dim - 1];
  for (int64_t pl = 0; pl < g.planes; ++pl) {
    for (int64_t oh = 0; oh < OH; ++oh) {
      const int64_t h0 = (oh * g.in[0]) / OH, h1 = ((oh + 1) * g.in[0] + OH - 1) / OH;
      for (int64_t ow = 0; ow < OW; ++ow) {
        const int64_t w0 = (ow * g.in[1]) / OW, w1 = ((ow + 1) * g.in[1] + OW - 1) / OW;
        const double v = ld(*go, (pl * OH + oh) * OW + ow) / static_cast<double>((h1 - h0) * (w1 - w0));
        for (int64_t h = h0; h < h1; ++h)
          for (int64_t w = w0; w < w1; ++w) {
            const int64_t k = pl * g.in_plane + h * g.in[1] + w;
            st(*gi, k, ld(*gi, k) + v);
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

WICK_REGISTER_KERNELS(pooling_nd,
                      {"aten::avg_pool1d.out", kNoBool, &avg_pool_out<1>, nullptr},
                      {"aten::avg_pool3d.out", kNoBool, &avg_pool_out<3>, nullptr},
                      {"aten::adaptive_avg_pool1d.out", kAllDtypes, &adaptive_avg_pool_out<1>, nullptr},
                      {"aten::_adaptive_avg_pool3d.out", kAllDtypes, &adaptive_avg_pool_out<3>, nullptr},
                      {"aten::max_pool3d_with_indices.out", kNoBool, &max_pool_out<3>, nullptr},
                      // 2-D forward pooling for the dtypes pooling.cpp's float32 paths do not take
                      {"aten::max_pool2d_with_indices.out", kNoBool & ~kF32, &max_pool_out<2>, nullptr},
                      {"aten::avg_pool2d.out", kNoBool & ~kF32, &avg_pool_out<2>, nullptr},
                      {"aten::_adaptive_avg_pool2d.out", kAllDtypes & ~kF32, &adaptive_avg_pool_out<2>, nullptr},
                      {"aten::avg_pool2d_backward.grad_input", kFloating | kI64, &avg_pool2d_backward_out, nullptr},
                      {"aten::max_pool2d_with_indices_backward.grad_input", kFloating, &max_pool2d_backward_out, nullptr},
                      {"aten::_adaptive_avg_pool2d_backward.out", kFloating, &adaptive_avg_pool2d_backward_out, nullptr})
