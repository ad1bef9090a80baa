// Convolution-related ops besides the forward GEMM path: col2im (fold) and
// convolution_backward (non-transposed, 1-D and 2-D, grouped), plus the
// pairwise distances _cdist_forward and _pdist_forward. Floating dtypes,
// accumulated in double; these are reference implementations (direct loops),
// not tuned paths.
#include <cmath>
#include <cstdint>
#include <limits>

#include "portable/util.h"

namespace wick {
namespace portable {
namespace {

inline double ld(const Tensor& t, int64_t i) { return load_as<double>(t.data, t.dtype, i); }
inline void st(Tensor& t, int64_t i, double v) { store_as<double>(t.data, t.dtype, i, v); }

Error pair(KernelContext& ctx, Value* const* args, int i, int n, const char* name, int64_t* v) {
  const int64_t* d;
  int k;
  WICK_TRY(get_int_list(ctx, args, i, &d, &k));
  if (k != 1 && k != n) return fail(Error::InvalidArgument, "%s: %s must have 1 or %d values, got %d", ctx.op_name, name, n, k);
  for (int j = 0; j < n; ++j) v[j] = d[k == 1 ? 0 : j];
  return Error::Ok;
}

// col2im.out(self [N?, C*kh*kw, L], output_size, kernel_size, dilation, padding, stride, out)
Error col2im_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 7));
  Tensor *in, *out;
  int64_t os[2], k[2], dl[2], pd[2], sd[2];
  WICK_TRY(get_tensor(ctx, args, 0, &in));
  WICK_TRY(pair(ctx, args, 1, 2, "output_size", os));
  WICK_TRY(pair(ctx, args, 2, 2, "kernel_size", k));
  WICK_TRY(pair(ctx, args, 3, 2, "dilation", dl));
  WICK_TRY(pair(ctx, args, 4, 2, "padding", pd));
  WICK_TRY(pair(ctx, args, 5, 2, "stride", sd));
  WICK_TRY(get_tensor(ctx, args, 6, &out));
  if (in->dim != 2 && in->dim != 3) return fail(Error::InvalidArgument, "%s: expected a 2-D or 3-D input", ctx.op_name);
  const bool batched = in->dim == 3;
  const int64_t N = batched ? in->sizes[0] : 1, CK = in->sizes[in->dim - 2], L = in->sizes[in->dim - 1];
  if (CK % (k[0] * k[1]) != 0) {
    return fail(Error::InvalidArgument, "%s: input dim %lld is not divisible by the kernel size product", ctx.op_name,
                static_cast<long long>(CK));
  }
  const int64_t C = CK / (k[0] * k[1]);
  const int64_t bh = (os[0] + 2 * pd[0] - (dl[0] * (k[0] - 1) + 1)) / sd[0] + 1;
  const int64_t bw = (os[1] + 2 * pd[1] - (dl[1] * (k[1] - 1) + 1)) / sd[1] + 1;
  if (bh * bw != L) {
    return fail(Error::InvalidArgument, "%s: expected %lld blocks for this configuration, got %lld", ctx.op_name,
                static_cast<long long>(bh * bw), static_cast<long long>(L));
  }
  int64_t sizes[4] = {N, C, os[0], os[1]};
  WICK_TRY(resize(ctx, *out, batched ? sizes : sizes + 1, batched ? 4 : 3));
  for (int64_t i = 0; i < out->numel(); ++i) st(*out, i, 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < CK; ++c) {
      const int64_t wo = c % k[1], ho = (c / k[1]) % k[0], ch = c / (k[0] * k[1]);
      for (int64_t h = 0; h < bh; ++h)
        for (int64_t w = 0; w < bw; ++w) {
          const int64_t y = h * sd[0] - pd[0] + ho * dl[0], x = w * sd[1] - pd[1] + wo * dl[1];
          if (y < 0 || y >= os[0] || x < 0 || x >= os[1]) continue;
          const int64_t oi = ((n * C + ch) * os[0] + y) * os[1] + x;
          st(*out, oi, ld(*out, oi) + ld(*in, (n * CK + c) * L + h * bw + w));
        }
    }
  return Error::Ok;
}

// convolution_backward.out(grad_output, input, weight, bias_sizes?, stride, padding, dilation, transposed,
//                          output_padding, groups, output_mask, out0, out1, out2)
Error convolution_backward_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 14));
  Tensor *go, *in, *w, *gi, *gw, *gb;
  bool transposed;
  int64_t groups;
  WICK_TRY(get_tensor(ctx, args, 0, &go));
  WICK_TRY(get_tensor(ctx, args, 1, &in));
  WICK_TRY(get_tensor(ctx, args, 2, &w));
  WICK_TRY(get_bool(ctx, args, 7, &transposed));
  WICK_TRY(get_int(ctx, args, 9, &groups));
  WICK_TRY(get_tensor(ctx, args, 11, &gi));
  WICK_TRY(get_tensor(ctx, args, 12, &gw));
  WICK_TRY(get_tensor(ctx, args, 13, &gb));
  const Value* mv = args[10];
  if (mv == nullptr || mv->tag != ValueTag::BoolList || mv->bools.size != 3) {
    return fail(Error::InvalidArgument, "%s: output_mask must be a list of 3 bools", ctx.op_name);
  }
  const bool mask[3] = {mv->bools.data[0], mv->bools.data[1], mv->bools.data[2]};
  if (transposed) return fail(Error::NotSupported, "%s: transposed convolution backward is not supported", ctx.op_name);
  if (w->dim != 3 && w->dim != 4) return fail(Error::NotSupported, "%s: only 1-D and 2-D convolutions are supported", ctx.op_name);
  if (!is_floating(in->dtype)) return fail(Error::InvalidArgument, "%s: floating point tensors only", ctx.op_name);
  const int S = w->dim - 2;
  int64_t sd[2] = {1, 1}, pd[2] = {0, 0}, dl[2] = {1, 1};
  WICK_TRY(pair(ctx, args, 4, S, "stride", sd));
  WICK_TRY(pair(ctx, args, 5, S, "padding", pd));
  WICK_TRY(pair(ctx, args, 6, S, "dilation", dl));
  if (in->dim != w->dim || go->dim != w->dim) return fail(Error::InvalidArgument, "%s: rank mismatch", ctx.op_name);
  const int64_t N = in->sizes[0], C = in->sizes[1], OC = w->sizes[0], Cg = w->sizes[1];
  if (groups <= 0 || C != Cg * groups || OC % groups != 0) return fail(Error::InvalidArgument, "%s: bad groups", ctx.op_name);
  const int64_t H = S == 2 ? in->sizes[2] : 1, W = in->sizes[in->dim - 1];
  const int64_t KH = S == 2 ? w->sizes[2] : 1, KW = w->sizes[w->dim - 1];
  const int64_t OH = S == 2 ? go->sizes[2] : 1, OW = go->sizes[go->dim - 1];
  const int64_t sH = S == 2 ? sd[0] : 1, sW = sd[S - 1], pH = S == 2 ? pd[0] : 0, pW = pd[S - 1];
  const int64_t dH = S == 2 ? dl[0] : 1, dW = dl[S - 1];
  const int64_t ocg = OC / groups;
  if (mask[0]) {
    WICK_TRY(resize(ctx, *gi, in->sizes, in->dim));
    for (int64_t i = 0; i < gi->numel(); ++i) st(*gi, i, 0.0);
  }
  if (mask[1]) {
    WICK_TRY(resize(ctx, *gw, w->sizes, w->dim));
    for (int64_t i = 0; i < gw->numel(); ++i) st(*gw, i, 0.0);
  }
  if (mask[2]) {
    WICK_TRY(resize(ctx, *gb, &OC, 1));
    for (int64_t oc = 0; oc < OC; ++oc) {
      double s = 0.0;
      for (int64_t n = 0; n < N; ++n)
        for (int64_t i = 0; i < OH * OW; ++i) s += ld(*go, (n * OC + oc) * OH * OW + i);
      st(*gb, oc, s);
    }
  }
  if (!mask[0] && !mask[1]) return Error::Ok;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t oc = 0; oc < OC; ++oc) {
      const int64_t g = oc / ocg;
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          const double gov = ld(*go, ((n * OC + oc) * OH + oh) * OW + ow);
          if (gov == 0.0) continue;
          for (int64_t c = 0; c < Cg; ++c) {
            const int64_t ic = g * Cg + c;
            for (int64_t kh = 0; kh < KH; ++kh) {
              const int64_t y = oh * sH - pH + kh * dH;
              if (y < 0 || y >= H) continue;
              for (int64_t kw = 0; kw < KW; ++kw) {
                const int64_t x = ow * sW - pW + kw * dW;
                if (x < 0 || x >= W) continue;
                const int64_t ii = ((n * C + ic) * H + y) * W + x, wi = ((oc * Cg + c) * KH + kh) * KW + kw;
                if (mask[0]) st(*gi, ii, ld(*gi, ii) + gov * ld(*w, wi));
                if (mask[1]) st(*gw, wi, ld(*gw, wi) + gov * ld(*in, ii));
              }
            }
          }
        }
    }
  return Error::Ok;
}

double pnorm(const Tensor& a, int64_t ai, const Tensor& b, int64_t bi, int64_t M, double p) {
  double acc = 0.0;
  for (int64_t m = 0; m < M; ++m) {
    const double d = std::fabs(ld(a, ai + m) - ld(b, bi + m));
    if (p == 0.0) acc += d != 0.0 ? 1.0 : 0.0;
    else if (std::isinf(p)) acc = d > acc || d != d ? d : acc;
    else if (p == 1.0) acc += d;
    else if (p == 2.0) acc += d * d;
    else acc += std::pow(d, p);
  }
  if (p == 0.0 || p == 1.0 || std::isinf(p)) return acc;
  if (p == 2.0) return std::sqrt(acc);
  return std::pow(acc, 1.0 / p);
}

// _cdist_forward.out(x1 [.., P, M], x2 [.., R, M], p, compute_mode?, out [.., P, R])
Error cdist_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 5));
  Tensor *a, *b, *out;
  double p;
  WICK_TRY(get_tensor(ctx, args, 0, &a));
  WICK_TRY(get_tensor(ctx, args, 1, &b));
  WICK_TRY(get_double(ctx, args, 2, &p));
  WICK_TRY(get_tensor(ctx, args, 4, &out));
  if (p < 0) return fail(Error::InvalidArgument, "%s: p value for the p-norm distance must be >= 0", ctx.op_name);
  if (a->dim < 2 || a->dim != b->dim || a->sizes[a->dim - 1] != b->sizes[b->dim - 1]) {
    return fail(Error::NotSupported, "%s: expected x1 [.., P, M] and x2 [.., R, M] of equal rank, got %s and %s",
                ctx.op_name, shape_str(*a), shape_str(*b));
  }
  int64_t batch = 1, sizes[kMaxDims];
  for (int d = 0; d < a->dim - 2; ++d) {
    if (a->sizes[d] != b->sizes[d]) return fail(Error::NotSupported, "%s: batch dims must match (no broadcasting)", ctx.op_name);
    batch *= a->sizes[d];
    sizes[d] = a->sizes[d];
  }
  const int64_t P = a->sizes[a->dim - 2], R = b->sizes[b->dim - 2], M = a->sizes[a->dim - 1];
  sizes[a->dim - 2] = P;
  sizes[a->dim - 1] = R;
  WICK_TRY(resize(ctx, *out, sizes, a->dim));
  for (int64_t z = 0; z < batch; ++z)
    for (int64_t i = 0; i < P; ++i)
      for (int64_t j = 0; j < R; ++j) st(*out, (z * P + i) * R + j, pnorm(*a, (z * P + i) * M, *b, (z * R + j) * M, M, p));
  return Error::Ok;
}

// _pdist_forward.out(self [N, M], p, out [N * (N - 1) / 2])
Error pdist_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 3));
  Tensor *a, *out;
  double p;
  WICK_TRY(get_tensor(ctx, args, 0, &a));
  WICK_TRY(get_double(ctx, args, 1, &p));
  WICK_TRY(get_tensor(ctx, args, 2, &out));
  if (a->dim != 2) return fail(Error::InvalidArgument, "%s: pdist only supports 2-D tensors, got %s", ctx.op_name, shape_str(*a));
  if (p < 0) return fail(Error::InvalidArgument, "%s: p value for the p-norm distance must be >= 0", ctx.op_name);
  const int64_t N = a->sizes[0], M = a->sizes[1];
  const int64_t n = N * (N - 1) / 2;
  WICK_TRY(resize(ctx, *out, &n, 1));
  int64_t k = 0;
  for (int64_t i = 0; i < N; ++i)
    for (int64_t j = i + 1; j < N; ++j) st(*out, k++, pnorm(*a, i * M, *a, j * M, M, p));
  return Error::Ok;
}

constexpr uint32_t kFloating = kF32 | dtype_bit(ScalarType::Float64) | dtype_bit(ScalarType::Float16) |
                               dtype_bit(ScalarType::BFloat16);

}  // namespace
}  // namespace portable
}  // namespace wick

using namespace wick::portable;

WICK_REGISTER_KERNELS(conv_backward,
                      {"aten::col2im.out", kFloating, &col2im_out, nullptr},
                      {"aten::convolution_backward.out", kFloating, &convolution_backward_out, nullptr},
                      {"aten::_cdist_forward.out", kFloating, &cdist_out, nullptr},
                      {"aten::_pdist_forward.out", kFloating, &pdist_out, nullptr})
