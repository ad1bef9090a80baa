// 2-D pooling over the last two dims of a 3-D (C, H, W) or 4-D (N, C, H, W)
// float32 tensor: max_pool2d_with_indices (indices are flat h * W + w within
// the input plane, like PyTorch), avg_pool2d, _adaptive_avg_pool2d.
#include <cmath>
#include <cstdint>
#include <limits>

#include "portable/util.h"

namespace wick {
namespace portable {
namespace {

Error pair_arg(KernelContext& ctx, Value* const* args, int i, const char* name, int64_t dflt0, int64_t dflt1,
               bool allow_empty, int64_t* v) {
  const int64_t* d;
  int n;
  WICK_TRY(get_int_list(ctx, args, i, &d, &n));
  if (n == 0 && allow_empty) {
    v[0] = dflt0;
    v[1] = dflt1;
    return Error::Ok;
  }
  if (n != 1 && n != 2) {
    return fail(Error::InvalidArgument, "%s: %s must be a single int or a pair of ints, got %d values", ctx.op_name,
                name, n);
  }
  v[0] = d[0];
  v[1] = d[n == 1 ? 0 : 1];
  return Error::Ok;
}

int64_t pool_out_size(int64_t in, int64_t k, int64_t pad, int64_t stride, int64_t dil, bool ceil_mode) {
  const int64_t num = in + 2 * pad - dil * (k - 1) - 1 + (ceil_mode ? stride - 1 : 0);
  int64_t out = (num >= 0 ? num / stride : -((-num + stride - 1) / stride)) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

struct PoolGeom {
  int64_t planes, H, W, OH, OW;
  int64_t kH, kW, sH, sW, pH, pW, dH, dW;
  int64_t out_sizes[4];
  int dim;
};

Error pool_geometry(KernelContext& ctx, const Tensor& in, const int64_t* k, const int64_t* s, const int64_t* p,
                    const int64_t* d, bool ceil_mode, PoolGeom* g) {
  WICK_TRY(check_dtype(ctx, in, ScalarType::Float32, "input"));
  WICK_TRY(check_rank(ctx, in, 3, 4, "input"));
  if (k[0] <= 0 || k[1] <= 0) return fail(Error::InvalidArgument, "%s: kernel size must be positive", ctx.op_name);
  if (s[0] <= 0 || s[1] <= 0) return fail(Error::InvalidArgument, "%s: stride must be positive", ctx.op_name);
  if (d[0] <= 0 || d[1] <= 0) return fail(Error::InvalidArgument, "%s: dilation must be positive", ctx.op_name);
  if (p[0] < 0 || p[1] < 0 || p[0] > k[0] / 2 || p[1] > k[1] / 2) {
    return fail(Error::InvalidArgument, "%s: pad should be non-negative and at most half of the kernel size",
                ctx.op_name);
  }
  g->dim = in.dim;
  g->H = in.sizes[in.dim - 2];
  g->W = in.sizes[in.dim - 1];
  g->planes = 1;
  for (int i = 0; i < in.dim - 2; ++i) g->planes *= in.sizes[i];
  g->kH = k[0], g->kW = k[1], g->sH = s[0], g->sW = s[1], g->pH = p[0], g->pW = p[1], g->dH = d[0], g->dW = d[1];
  g->OH = pool_out_size(g->H, k[0], p[0], s[0], d[0], ceil_mode);
  g->OW = pool_out_size(g->W, k[1], p[1], s[1], d[1], ceil_mode);
  if (g->OH <= 0 || g->OW <= 0) {
    return fail(Error::InvalidArgument, "%s: input %s is too small for the pooling window (output %lldx%lld)",
                ctx.op_name, shape_str(in), static_cast<long long>(g->OH), static_cast<long long>(g->OW));
  }
  for (int i = 0; i < in.dim - 2; ++i) g->out_sizes[i] = in.sizes[i];
  g->out_sizes[in.dim - 2] = g->OH;
  g->out_sizes[in.dim - 1] = g->OW;
  return Error::Ok;
}

// (self, kernel_size, stride, padding, dilation, ceil_mode, out, indices)
Error max_pool2d_with_indices_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 8));
  Tensor *in, *out, *indices;
  int64_t k[2] = {}, s[2] = {}, p[2] = {}, d[2] = {};
  bool ceil_mode;
  WICK_TRY(get_tensor(ctx, args, 0, &in));
  WICK_TRY(pair_arg(ctx, args, 1, "kernel_size", 0, 0, false, k));
  WICK_TRY(pair_arg(ctx, args, 2, "stride", k[0], k[1], true, s));
  WICK_TRY(pair_arg(ctx, args, 3, "padding", 0, 0, false, p));
  WICK_TRY(pair_arg(ctx, args, 4, "dilation", 1, 1, false, d));
  WICK_TRY(get_bool(ctx, args, 5, &ceil_mode));
  WICK_TRY(get_tensor(ctx, args, 6, &out));
  WICK_TRY(get_tensor(ctx, args, 7, &indices));
  WICK_TRY(check_dtype(ctx, *out, ScalarType::Float32, "out"));
  WICK_TRY(check_dtype(ctx, *indices, ScalarType::Int64, "indices"));
  PoolGeom g;
  WICK_TRY(pool_geometry(ctx, *in, k, s, p, d, ceil_mode, &g));
  WICK_TRY(resize(ctx, *out, g.out_sizes, g.dim));
  WICK_TRY(resize(ctx, *indices, g.out_sizes, g.dim));
  const float* x = in->data_as<const float>();
  float* o = out->data_as<float>();
  int64_t* ix = indices->data_as<int64_t>();
  for (int64_t pl = 0; pl < g.planes; ++pl) {
    const float* plane = x + pl * g.H * g.W;
    for (int64_t oh = 0; oh < g.OH; ++oh) {
      int64_t ih0 = oh * g.sH - g.pH;
      const int64_t ih1 = ih0 + (g.kH - 1) * g.dH + 1 < g.H ? ih0 + (g.kH - 1) * g.dH + 1 : g.H;
      while (ih0 < 0) ih0 += g.dH;
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        int64_t iw0 = ow * g.sW - g.pW;
        const int64_t iw1 = iw0 + (g.kW - 1) * g.dW + 1 < g.W ? iw0 + (g.kW - 1) * g.dW + 1 : g.W;
        while (iw0 < 0) iw0 += g.dW;
        int64_t best_i = ih0 * g.W + iw0;
        float best = -std::numeric_limits<float>::infinity();
        for (int64_t ih = ih0; ih < ih1; ih += g.dH) {
          for (int64_t iw = iw0; iw < iw1; iw += g.dW) {
            const int64_t idx = ih * g.W + iw;
            const float v = plane[idx];
            if (v > best || std::isnan(v)) {
              best = v;
              best_i = idx;
            }
          }
        }
        o[(pl * g.OH + oh) * g.OW + ow] = best;
        ix[(pl * g.OH + oh) * g.OW + ow] = best_i;
      }
    }
  }
  return Error::Ok;
}

// (self, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override?, out)
Error avg_pool2d_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 8));
  Tensor *in, *out;
  int64_t k[2] = {}, s[2] = {}, p[2] = {};
  const int64_t d[2] = {1, 1};
  bool ceil_mode, count_include_pad, has_div;
  int64_t divisor;
  WICK_TRY(get_tensor(ctx, args, 0, &in));
  WICK_TRY(pair_arg(ctx, args, 1, "kernel_size", 0, 0, false, k));
  WICK_TRY(pair_arg(ctx, args, 2, "stride", k[0], k[1], true, s));
  WICK_TRY(pair_arg(ctx, args, 3, "padding", 0, 0, false, p));
  WICK_TRY(get_bool(ctx, args, 4, &ceil_mode));
  WICK_TRY(get_bool(ctx, args, 5, &count_include_pad));
  WICK_TRY(get_opt_int(ctx, args, 6, &divisor, &has_div));
  WICK_TRY(get_tensor(ctx, args, 7, &out));
  WICK_TRY(check_dtype(ctx, *out, ScalarType::Float32, "out"));
  if (has_div && divisor == 0) return fail(Error::InvalidArgument, "%s: divisor must be not zero", ctx.op_name);
  PoolGeom g;
  WICK_TRY(pool_geometry(ctx, *in, k, s, p, d, ceil_mode, &g));
  WICK_TRY(resize(ctx, *out, g.out_sizes, g.dim));
  const float* x = in->data_as<const float>();
  float* o = out->data_as<float>();
  for (int64_t pl = 0; pl < g.planes; ++pl) {
    const float* plane = x + pl * g.H * g.W;
    for (int64_t oh = 0; oh < g.OH; ++oh) {
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        int64_t ih0 = oh * g.sH - g.pH, iw0 = ow * g.sW - g.pW;
        int64_t ih1 = ih0 + g.kH < g.H + g.pH ? ih0 + g.kH : g.H + g.pH;
        int64_t iw1 = iw0 + g.kW < g.W + g.pW ? iw0 + g.kW : g.W + g.pW;
        const int64_t pool_size = (ih1 - ih0) * (iw1 - iw0);
        if (ih0 < 0) ih0 = 0;
        if (iw0 < 0) iw0 = 0;
        if (ih1 > g.H) ih1 = g.H;
        if (iw1 > g.W) iw1 = g.W;
        float* dst = o + (pl * g.OH + oh) * g.OW + ow;
        if (ih0 >= ih1 || iw0 >= iw1) {
          *dst = 0.0f;
          continue;
        }
        float sum = 0.0f;
        for (int64_t ih = ih0; ih < ih1; ++ih)
          for (int64_t iw = iw0; iw < iw1; ++iw) sum += plane[ih * g.W + iw];
        int64_t div = has_div ? divisor : count_include_pad ? pool_size : (ih1 - ih0) * (iw1 - iw0);
        *dst = sum / static_cast<float>(div);
      }
    }
  }
  return Error::Ok;
}

// (self, output_size, out)
Error adaptive_avg_pool2d_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 3));
  Tensor *in, *out;
  int64_t os[2] = {};
  WICK_TRY(get_tensor(ctx, args, 0, &in));
  WICK_TRY(pair_arg(ctx, args, 1, "output_size", 0, 0, false, os));
  WICK_TRY(get_tensor(ctx, args, 2, &out));
  WICK_TRY(check_dtype(ctx, *in, ScalarType::Float32, "input"));
  WICK_TRY(check_dtype(ctx, *out, ScalarType::Float32, "out"));
  WICK_TRY(check_rank(ctx, *in, 3, 4, "input"));
  if (os[0] < 0 || os[1] < 0) {
    return fail(Error::InvalidArgument, "%s: output_size must be non-negative", ctx.op_name);
  }
  const int64_t H = in->sizes[in->dim - 2], W = in->sizes[in->dim - 1];
  int64_t planes = 1;
  int64_t out_sizes[4];
  for (int i = 0; i < in->dim - 2; ++i) {
    if (in->sizes[i] == 0 && i > 0) {
      return fail(Error::InvalidArgument, "%s: input %s has an empty non-batch dimension", ctx.op_name,
                  shape_str(*in));
    }
    planes *= in->sizes[i];
    out_sizes[i] = in->sizes[i];
  }
  if ((H == 0 || W == 0) && planes > 0) {
    return fail(Error::InvalidArgument, "%s: input %s has an empty spatial dimension", ctx.op_name, shape_str(*in));
  }
  out_sizes[in->dim - 2] = os[0];
  out_sizes[in->dim - 1] = os[1];
  WICK_TRY(resize(ctx, *out, out_sizes, in->dim));
  const float* x = in->data_as<const float>();
  float* o = out->data_as<float>();
  const int64_t OH = os[0], OW = os[1];
  for (int64_t pl = 0; pl < planes; ++pl) {
    const float* plane = x + pl * H * W;
    for (int64_t oh = 0; oh < OH; ++oh) {
      const int64_t h0 = (oh * H) / OH;
      const int64_t h1 = ((oh + 1) * H + OH - 1) / OH;
      for (int64_t ow = 0; ow < OW; ++ow) {
        const int64_t w0 = (ow * W) / OW;
        const int64_t w1 = ((ow + 1) * W + OW - 1) / OW;
        float sum = 0.0f;
        for (int64_t ih = h0; ih < h1; ++ih)
          for (int64_t iw = w0; iw < w1; ++iw) sum += plane[ih * W + iw];
        o[(pl * OH + oh) * OW + ow] = sum / static_cast<float>((h1 - h0) * (w1 - w0));
      }
    }
  }
  return Error::Ok;
}

}  // namespace
}  // namespace portable
}  // namespace wick

using namespace wick::portable;

WICK_REGISTER_KERNELS(pooling,
                      {"aten::max_pool2d_with_indices.out", kF32, &max_pool2d_with_indices_out, nullptr},
                      {"aten::avg_pool2d.out", kF32, &avg_pool2d_out, nullptr},
                      {"aten::_adaptive_avg_pool2d.out", kF32, &adaptive_avg_pool2d_out, nullptr})
