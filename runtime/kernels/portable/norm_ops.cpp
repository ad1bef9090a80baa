// Normalizations for every floating dtype: native_layer_norm,
// native_group_norm, _native_batch_norm_legit (batch statistics when training,
// running statistics otherwise; .no_stats always batch statistics) and the
// layer/group norm backward ops. Statistics are computed in double (two-pass,
// biased variance); rstd = 1 / sqrt(var + eps) like PyTorch. The mean / rstd
// outputs are written in their planned dtype.
//
// _native_batch_norm_legit in training mode also updates running_mean /
// running_var in PyTorch; Wick does not write them (they are program
// constants, possibly read-only mapped): the op's outputs are exact, the
// running-stat side effect is not reproduced.
#include <cmath>
#include <cstdint>

#include "portable/util.h"

namespace wick {
namespace portable {
namespace {

inline double ld(const Tensor& t, int64_t i) { return load_as<double>(t.data, t.dtype, i); }
inline void st(Tensor& t, int64_t i, double v) { store_as<double>(t.data, t.dtype, i, v); }
inline double ld_opt(const Tensor* t, int64_t i, double dflt) { return t != nullptr ? ld(*t, i) : dflt; }

Error check_floating(KernelContext& ctx, const Tensor& t, const char* what) {
  if (!is_floating(t.dtype)) {
    return fail(Error::InvalidArgument, "%s: %s must be a floating point tensor, got %s", ctx.op_name, what,
                scalar_type_name(t.dtype));
  }
  return Error::Ok;
}

Error check_numel(KernelContext& ctx, const Tensor* t, int64_t n, const char* what) {
  if (t != nullptr && t->numel() != n) {
    return fail(Error::InvalidArgument, "%s: %s must have %lld elements, got shape %s", ctx.op_name, what,
                static_cast<long long>(n), shape_str(*t));
  }
  return Error::Ok;
}

// Mean and rstd of n elements starting at x[off] with stride 1.
void moments(const Tensor& x, int64_t off, int64_t n, double eps, double* mean, double* rstd) {
  double s = 0.0;
  for (int64_t i = 0; i < n; ++i) s += ld(x, off + i);
  const double m = n > 0 ? s / static_cast<double>(n) : 0.0;
  double v = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = ld(x, off + i) - m;
    v += d * d;
  }
  v = n > 0 ? v / static_cast<double>(n) : 0.0;
  *mean = m;
  *rstd = 1.0 / std::sqrt(v + eps);
}

// native_layer_norm.out(input, normalized_shape, weight?, bias?, eps, out0, out1, out2)
Error layer_norm_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 8));
  Tensor *in, *w, *b, *out, *mean, *rstd;
  const int64_t* shape;
  int ns;
  double eps;
  WICK_TRY(get_tensor(ctx, args, 0, &in));
  WICK_TRY(get_int_list(ctx, args, 1, &shape, &ns));
  WICK_TRY(get_opt_tensor(ctx, args, 2, &w));
  WICK_TRY(get_opt_tensor(ctx, args, 3, &b));
  WICK_TRY(get_double(ctx, args, 4, &eps));
  WICK_TRY(get_tensor(ctx, args, 5, &out));
  WICK_TRY(get_tensor(ctx, args, 6, &mean));
  WICK_TRY(get_tensor(ctx, args, 7, &rstd));
  WICK_TRY(check_floating(ctx, *in, "input"));
  const int axis = in->dim - ns;
  if (ns < 1 || axis < 0) {
    return fail(Error::InvalidArgument, "%s: normalized_shape %s does not fit input %s", ctx.op_name,
                shape_str(shape, ns), shape_str(*in));
  }
  int64_t N = 1, M = 1, stat_sizes[kMaxDims];
  for (int d = 0; d < in->dim; ++d) {
    if (d >= axis) {
      if (in->sizes[d] != shape[d - axis]) {
        return fail(Error::InvalidArgument, "%s: normalized_shape %s does not match the trailing dims of input %s",
                    ctx.op_name, shape_str(shape, ns), shape_str(*in));
      }
      N *= in->sizes[d];
      stat_sizes[d] = 1;
    } else {
      M *= in->sizes[d];
      stat_sizes[d] = in->sizes[d];
    }
  }
  WICK_TRY(check_numel(ctx, w, N, "weight"));
  WICK_TRY(check_numel(ctx, b, N, "bias"));
  WICK_TRY(resize(ctx, *out, in->sizes, in->dim));
  WICK_TRY(resize(ctx, *mean, stat_sizes, in->dim));
  WICK_TRY(resize(ctx, *rstd, stat_sizes, in->dim));
  if (in->dtype == ScalarType::Float32 && out->dtype == ScalarType::Float32) {
    // float32 fast path: typed loops, statistics in double
    const float* x = in->data_as<const float>();
    float* o = out->data_as<float>();
    const float* wp = w != nullptr && w->dtype == ScalarType::Float32 ? w->data_as<const float>() : nullptr;
    const float* bp = b != nullptr && b->dtype == ScalarType::Float32 ? b->data_as<const float>() : nullptr;
    if ((w == nullptr || wp != nullptr) && (b == nullptr || bp != nullptr)) {
      for (int64_t r = 0; r < M; ++r) {
        const float* xr = x + r * N;
        double s = 0.0;
        for (int64_t i = 0; i < N; ++i) s += xr[i];
        const double m = N > 0 ? s / static_cast<double>(N) : 0.0;
        double v = 0.0;
        for (int64_t i = 0; i < N; ++i) v += (xr[i] - m) * (xr[i] - m);
        v = N > 0 ? v / static_cast<double>(N) : 0.0;
        const double rs = 1.0 / std::sqrt(v + eps);
        const float mf = static_cast<float>(m), rf = static_cast<float>(rs);
        float* orow = o + r * N;
        for (int64_t i = 0; i < N; ++i) {
          float y = (xr[i] - mf) * rf;
          if (wp != nullptr) y *= wp[i];
          if (bp != nullptr) y += bp[i];
          orow[i] = y;
        }
        st(*mean, r, m);
        st(*rstd, r, rs);
      }
      return Error::Ok;
    }
  }
  for (int64_t r = 0; r < M; ++r) {
    double m, rs;
    moments(*in, r * N, N, eps, &m, &rs);
    for (int64_t i = 0; i < N; ++i) {
      const double y = (ld(*in, r * N + i) - m) * rs * ld_opt(w, i, 1.0) + ld_opt(b, i, 0.0);
      st(*out, r * N + i, y);
    }
    st(*mean, r, m);
    st(*rstd, r, rs);
  }
  return Error::Ok;
}

// native_group_norm.out(input, weight?, bias?, N, C, HxW, group, eps, out0, out1, out2)
Error group_norm_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 11));
  Tensor *in, *w, *b, *out, *mean, *rstd;
  int64_t N, C, HxW, G;
  double eps;
  WICK_TRY(get_tensor(ctx, args, 0, &in));
  WICK_TRY(get_opt_tensor(ctx, args, 1, &w));
  WICK_TRY(get_opt_tensor(ctx, args, 2, &b));
  WICK_TRY(get_int(ctx, args, 3, &N));
  WICK_TRY(get_int(ctx, args, 4, &C));
  WICK_TRY(get_int(ctx, args, 5, &HxW));
  WICK_TRY(get_int(ctx, args, 6, &G));
  WICK_TRY(get_double(ctx, args, 7, &eps));
  WICK_TRY(get_tensor(ctx, args, 8, &out));
  WICK_TRY(get_tensor(ctx, args, 9, &mean));
  WICK_TRY(get_tensor(ctx, args, 10, &rstd));
  WICK_TRY(check_floating(ctx, *in, "input"));
  if (G <= 0 || C % G != 0 || in->numel() != N * C * HxW) {
    return fail(Error::InvalidArgument, "%s: input %s does not match N=%lld, C=%lld, HxW=%lld with %lld groups",
                ctx.op_name, shape_str(*in), static_cast<long long>(N), static_cast<long long>(C),
                static_cast<long long>(HxW), static_cast<long long>(G));
  }
  WICK_TRY(check_numel(ctx, w, C, "weight"));
  WICK_TRY(check_numel(ctx, b, C, "bias"));
  WICK_TRY(resize(ctx, *out, in->sizes, in->dim));
  const int64_t ss[2] = {N, G};
  WICK_TRY(resize(ctx, *mean, ss, 2));
  WICK_TRY(resize(ctx, *rstd, ss, 2));
  const int64_t cg = C / G, D = cg * HxW;
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t g = 0; g < G; ++g) {
      const int64_t base = (n * G + g) * D;
      double m, rs;
      moments(*in, base, D, eps, &m, &rs);
      for (int64_t c = 0; c < cg; ++c) {
        const int64_t ch = g * cg + c;
        const double scale = rs * ld_opt(w, ch, 1.0), shift = ld_opt(b, ch, 0.0);
        for (int64_t i = 0; i < HxW; ++i) {
          const int64_t k = base + c * HxW + i;
          st(*out, k, (ld(*in, k) - m) * scale + shift);
        }
      }
      st(*mean, n * G + g, m);
      st(*rstd, n * G + g, rs);
    }
  }
  return Error::Ok;
}

// Batch norm with batch statistics (training) or the given running statistics.
Error batch_norm_common(KernelContext& ctx, Tensor& in, Tensor* w, Tensor* b, Tensor* rmean, Tensor* rvar,
                        bool training, double eps, Tensor& out, Tensor& save_mean, Tensor& save_invstd) {
  WICK_TRY(check_floating(ctx, in, "input"));
  if (in.dim < 2) {
    return fail(Error::InvalidArgument, "%s: input must have at least 2 dims (N, C, ...), got %s", ctx.op_name,
                shape_str(in));
  }
  const int64_t N = in.sizes[0], C = in.sizes[1];
  int64_t inner = 1;
  for (int d = 2; d < in.dim; ++d) inner *= in.sizes[d];
  WICK_TRY(check_numel(ctx, w, C, "weight"));
  WICK_TRY(check_numel(ctx, b, C, "bias"));
  WICK_TRY(check_numel(ctx, rmean, C, "running_mean"));
  WICK_TRY(check_numel(ctx, rvar, C, "running_var"));
  if (!training && (rmean == nullptr || rvar == nullptr)) {
    return fail(Error::InvalidArgument, "%s: running_mean and running_var are required when not training", ctx.op_name);
  }
  WICK_TRY(resize(ctx, out, in.sizes, in.dim));
  const int64_t cs = training ? C : 0;
  WICK_TRY(resize(ctx, save_mean, &cs, 1));
  WICK_TRY(resize(ctx, save_invstd, &cs, 1));
  const int64_t count = N * inner;
  for (int64_t c = 0; c < C; ++c) {
    double m, invstd;
    if (training) {
      double s = 0.0;
      for (int64_t n = 0; n < N; ++n)
        for (int64_t i = 0; i < inner; ++i) s += ld(in, (n * C + c) * inner + i);
      m = count > 0 ? s / static_cast<double>(count) : 0.0;
      double v = 0.0;
      for (int64_t n = 0; n < N; ++n)
        for (int64_t i = 0; i < inner; ++i) {
          const double d = ld(in, (n * C + c) * inner + i) - m;
          v += d * d;
        }
      v = count > 0 ? v / static_cast<double>(count) : 0.0;
      invstd = 1.0 / std::sqrt(v + eps);
      st(save_mean, c, m);
      st(save_invstd, c, invstd);
    } else {
      m = ld(*rmean, c);
      invstd = 1.0 / std::sqrt(ld(*rvar, c) + eps);
    }
    const double scale = invstd * ld_opt(w, c, 1.0), shift = ld_opt(b, c, 0.0);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < inner; ++i) {
        const int64_t k = (n * C + c) * inner + i;
        st(out, k, (ld(in, k) - m) * scale + shift);
      }
  }
  return Error::Ok;
}

// _native_batch_norm_legit.out(input, weight?, bias?, running_mean, running_var, training, momentum, eps, out, save_mean, save_invstd)
Error batch_norm_legit_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 11));
  Tensor *in, *w, *b, *rm, *rv, *out, *sm, *si;
  bool training;
  double momentum, eps;
  WICK_TRY(get_tensor(ctx, args, 0, &in));
  WICK_TRY(get_opt_tensor(ctx, args, 1, &w));
  WICK_TRY(get_opt_tensor(ctx, args, 2, &b));
  WICK_TRY(get_tensor(ctx, args, 3, &rm));
  WICK_TRY(get_tensor(ctx, args, 4, &rv));
  WICK_TRY(get_bool(ctx, args, 5, &training));
  WICK_TRY(get_double(ctx, args, 6, &momentum));
  WICK_TRY(get_double(ctx, args, 7, &eps));
  WICK_TRY(get_tensor(ctx, args, 8, &out));
  WICK_TRY(get_tensor(ctx, args, 9, &sm));
  WICK_TRY(get_tensor(ctx, args, 10, &si));
  return batch_norm_common(ctx, *in, w, b, rm, rv, training, eps, *out, *sm, *si);
}

// _native_batch_norm_legit.no_stats_out(input, weight?, bias?, training, momentum, eps, out, save_mean, save_invstd)
Error batch_norm_no_stats_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 9));
  Tensor *in, *w, *b, *out, *sm, *si;
  bool training;
  double momentum, eps;
  WICK_TRY(get_tensor(ctx, args, 0, &in));
  WICK_TRY(get_opt_tensor(ctx, args, 1, &w));
  WICK_TRY(get_opt_tensor(ctx, args, 2, &b));
  WICK_TRY(get_bool(ctx, args, 3, &training));
  WICK_TRY(get_double(ctx, args, 4, &momentum));
  WICK_TRY(get_double(ctx, args, 5, &eps));
  WICK_TRY(get_tensor(ctx, args, 6, &out));
  WICK_TRY(get_tensor(ctx, args, 7, &sm));
  WICK_TRY(get_tensor(ctx, args, 8, &si));
  return batch_norm_common(ctx, *in, w, b, nullptr, nullptr, true, eps, *out, *sm, *si);
}

// Reads output_mask (bool[3]) into m.
Error output_mask(KernelContext& ctx, Value* const* args, int i, bool* m) {
  const Value* v = args[i];
  if (v == nullptr || v->tag != ValueTag::BoolList || v->bools.size != 3) {
    return fail(Error::InvalidArgument, "%s: output_mask must be a list of 3 bools", ctx.op_name);
  }
  for (int k = 0; k < 3; ++k) m[k] = v->bools.data[k];
  return Error::Ok;
}

// native_layer_norm_backward.out(grad_out, input, normalized_shape, mean, rstd, weight?, bias?, output_mask, out0, out1, out2)
Error layer_norm_backward_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 11));
  Tensor *go, *in, *mean, *rstd, *w, *b, *gi, *gw, *gb;
  const int64_t* shape;
  int ns;
  bool mask[3];
  WICK_TRY(get_tensor(ctx, args, 0, &go));
  WICK_TRY(get_tensor(ctx, args, 1, &in));
  WICK_TRY(get_int_list(ctx, args, 2, &shape, &ns));
  WICK_TRY(get_tensor(ctx, args, 3, &mean));
  WICK_TRY(get_tensor(ctx, args, 4, &rstd));
  WICK_TRY(get_opt_tensor(ctx, args, 5, &w));
  WICK_TRY(get_opt_tensor(ctx, args, 6, &b));
  WICK_TRY(output_mask(ctx, args, 7, mask));
  WICK_TRY(get_tensor(ctx, args, 8, &gi));
  WICK_TRY(get_tensor(ctx, args, 9, &gw));
  WICK_TRY(get_tensor(ctx, args, 10, &gb));
  WICK_TRY(check_floating(ctx, *in, "input"));
  const int axis = in->dim - ns;
  if (ns < 1 || axis < 0) return fail(Error::InvalidArgument, "%s: normalized_shape does not fit the input", ctx.op_name);
  int64_t N = 1, M = 1;
  for (int d = 0; d < in->dim; ++d) (d >= axis ? N : M) *= in->sizes[d];
  if (go->numel() != in->numel()) return fail(Error::InvalidArgument, "%s: grad_out shape %s differs from input %s", ctx.op_name, shape_str(*go), shape_str(*in));
  if (mask[0]) WICK_TRY(resize(ctx, *gi, in->sizes, in->dim));
  if (mask[1]) WICK_TRY(resize(ctx, *gw, shape, ns));
  if (mask[2]) WICK_TRY(resize(ctx, *gb, shape, ns));
  if (mask[1]) for (int64_t i = 0; i < N; ++i) st(*gw, i, 0.0);
  if (mask[2]) for (int64_t i = 0; i < N; ++i) st(*gb, i, 0.0);
  for (int64_t r = 0; r < M; ++r) {
    const double m = ld(*mean, r), rs = ld(*rstd, r);
    double sum_g = 0.0, sum_gx = 0.0;
    for (int64_t i = 0; i < N; ++i) {
      const int64_t k = r * N + i;
      const double xhat = (ld(*in, k) - m) * rs;
      const double g = ld(*go, k) * ld_opt(w, i, 1.0);
      sum_g += g;
      sum_gx += g * xhat;
      if (mask[1]) st(*gw, i, ld(*gw, i) + ld(*go, k) * xhat);
      if (mask[2]) st(*gb, i, ld(*gb, i) + ld(*go, k));
    }
    if (mask[0]) {
      for (int64_t i = 0; i < N; ++i) {
        const int64_t k = r * N + i;
        const double xhat = (ld(*in, k) - m) * rs;
        const double g = ld(*go, k) * ld_opt(w, i, 1.0);
        st(*gi, k, rs / static_cast<double>(N) * (static_cast<double>(N) * g - sum_g - xhat * sum_gx));
      }
    }
  }
  (void)b;
  return Error::Ok;
}

// native_group_norm_backward.out(grad_out, input, mean, rstd, weight?, N, C, HxW, group, output_mask, out0, out1, out2)
Error group_norm_backward_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 13));
  Tensor *go, *in, *mean, *rstd, *w, *gi, *gw, *gb;
  int64_t N, C, HxW, G;
  bool mask[3];
  WICK_TRY(get_tensor(ctx, args, 0, &go));
  WICK_TRY(get_tensor(ctx, args, 1, &in));
  WICK_TRY(get_tensor(ctx, args, 2, &mean));
  WICK_TRY(get_tensor(ctx, args, 3, &rstd));
  WICK_TRY(get_opt_tensor(ctx, args, 4, &w));
  WICK_TRY(get_int(ctx, args, 5, &N));
  WICK_TRY(get_int(ctx, args, 6, &C));
  WICK_TRY(get_int(ctx, args, 7, &HxW));
  WICK_TRY(get_int(ctx, args, 8, &G));
  WICK_TRY(output_mask(ctx, args, 9, mask));
  WICK_TRY(get_tensor(ctx, args, 10, &gi));
  WICK_TRY(get_tensor(ctx, args, 11, &gw));
  WICK_TRY(get_tensor(ctx, args, 12, &gb));
  WICK_TRY(check_floating(ctx, *in, "input"));
  if (G <= 0 || C % G != 0 || in->numel() != N * C * HxW || go->numel() != in->numel()) {
    return fail(Error::InvalidArgument, "%s: shapes do not match N=%lld, C=%lld, HxW=%lld, group=%lld", ctx.op_name,
                static_cast<long long>(N), static_cast<long long>(C), static_cast<long long>(HxW), static_cast<long long>(G));
  }
  if (mask[0]) WICK_TRY(resize(ctx, *gi, in->sizes, in->dim));
  if (mask[1]) WICK_TRY(resize(ctx, *gw, &C, 1));
  if (mask[2]) WICK_TRY(resize(ctx, *gb, &C, 1));
  if (mask[1]) for (int64_t c = 0; c < C; ++c) st(*gw, c, 0.0);
  if (mask[2]) for (int64_t c = 0; c < C; ++c) st(*gb, c, 0.0);
  const int64_t cg = C / G, D = cg * HxW;
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t g = 0; g < G; ++g) {
      const double m = ld(*mean, n * G + g), rs = ld(*rstd, n * G + g);
      const int64_t base = (n * G + g) * D;
      double sum_g = 0.0, sum_gx = 0.0;
      for (int64_t c = 0; c < cg; ++c) {
        const int64_t ch = g * cg + c;
        double dw = 0.0, db = 0.0;
        for (int64_t i = 0; i < HxW; ++i) {
          const int64_t k = base + c * HxW + i;
          const double xhat = (ld(*in, k) - m) * rs, gov = ld(*go, k);
          const double gg = gov * ld_opt(w, ch, 1.0);
          sum_g += gg;
          sum_gx += gg * xhat;
          dw += gov * xhat;
          db += gov;
        }
        if (mask[1]) st(*gw, ch, ld(*gw, ch) + dw);
        if (mask[2]) st(*gb, ch, ld(*gb, ch) + db);
      }
      if (!mask[0]) continue;
      const double inv_d = 1.0 / static_cast<double>(D);
      for (int64_t c = 0; c < cg; ++c) {
        const int64_t ch = g * cg + c;
        for (int64_t i = 0; i < HxW; ++i) {
          const int64_t k = base + c * HxW + i;
          const double xhat = (ld(*in, k) - m) * rs;
          const double gg = ld(*go, k) * ld_opt(w, ch, 1.0);
          st(*gi, k, rs * (gg - sum_g * inv_d - xhat * sum_gx * inv_d));
        }
      }
    }
  }
  return Error::Ok;
}

constexpr uint32_t kFloating = kF32 | dtype_bit(ScalarType::Float64) | dtype_bit(ScalarType::Float16) |
                               dtype_bit(ScalarType::BFloat16);

}  // namespace
}  // namespace portable
}  // namespace wick

using namespace wick::portable;

WICK_REGISTER_KERNELS(norm_ops,
                      {"aten::native_layer_norm.out", kFloating, &layer_norm_out, nullptr},
                      {"aten::native_group_norm.out", kFloating, &group_norm_out, nullptr},
                      {"aten::_native_batch_norm_legit.out", kFloating, &batch_norm_legit_out, nullptr},
                      {"aten::_native_batch_norm_legit.no_stats_out", kFloating, &batch_norm_no_stats_out, nullptr},
                      {"aten::native_layer_norm_backward.out", kFloating, &layer_norm_backward_out, nullptr},
                      {"aten::native_group_norm_backward.out", kFloating, &group_norm_backward_out, nullptr})
