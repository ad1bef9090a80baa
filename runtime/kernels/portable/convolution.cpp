// aten::convolution.out, NCHW (and 1-D NCL, run as 2-D with H = 1). float32 runs
// the paths below; other dtypes a direct reference loop (convolution_reference).
// Paths: depthwise (groups == in channels, one input channel per group) runs
// a direct loop; 1x1 / stride 1 / no padding is a straight GEMM per group;
// everything else is im2col into scratch followed by GEMM.
#include <cstdint>
#include <cstring>

#include "portable/gemm.h"
#include "portable/util.h"

namespace wick {
namespace portable {
namespace {

struct ConvParams {
  Tensor* input;
  Tensor* weight;
  Tensor* bias;
  Tensor* out;
  int spatial;  // 1 or 2
  int64_t N, C, H, W;
  int64_t OC, Cg, KH, KW;
  int64_t sH, sW, pH, pW, dH, dW;
  int64_t groups;
  int64_t OH, OW;
};

// Reads a per-spatial-dim int list (length 1 broadcasts).
Error spatial_list(KernelContext& ctx, Value* const* args, int i, int spatial, const char* name, int64_t* vals) {
  const int64_t* d;
  int n;
  WICK_TRY(get_int_list(ctx, args, i, &d, &n));
  if (n != 1 && n != spatial) {
    return fail(Error::InvalidArgument, "%s: %s must have 1 or %d values, got %d", ctx.op_name, name, spatial, n);
  }
  for (int k = 0; k < spatial; ++k) vals[k] = d[n == 1 ? 0 : k];
  return Error::Ok;
}

constexpr int64_t kMaxConvParam = int64_t(1) << 20;

Error parse(KernelContext& ctx, Value* const* args, int num_args, ConvParams* p) {
  WICK_TRY(check_num_args(ctx, num_args, 10));
  WICK_TRY(get_tensor(ctx, args, 0, &p->input));
  WICK_TRY(get_tensor(ctx, args, 1, &p->weight));
  WICK_TRY(get_opt_tensor(ctx, args, 2, &p->bias));
  bool transposed;
  WICK_TRY(get_bool(ctx, args, 6, &transposed));
  WICK_TRY(get_int(ctx, args, 8, &p->groups));
  WICK_TRY(get_tensor(ctx, args, 9, &p->out));
  if (transposed) {
    return fail(Error::NotSupported, "%s: transposed convolution is not supported by the portable kernels yet",
                ctx.op_name);
  }
  const Tensor& in = *p->input;
  const Tensor& w = *p->weight;
  WICK_TRY(check_same_dtype(ctx, in, w, "input", "weight"));
  WICK_TRY(check_same_dtype(ctx, in, *p->out, "input", "out"));
  if (p->bias != nullptr) WICK_TRY(check_same_dtype(ctx, in, *p->bias, "input", "bias"));
  if (in.dtype == ScalarType::Bool) return fail(Error::InvalidArgument, "%s: not implemented for bool", ctx.op_name);
  if (w.dim != 3 && w.dim != 4) {
    return fail(Error::NotSupported, "%s: only 1-D and 2-D convolution are supported (weight shape %s)", ctx.op_name,
                shape_str(w));
  }
  if (in.dim != w.dim) {
    return fail(Error::InvalidArgument, "%s: expected a %d-D (batched) input for weight of shape %s, got input %s",
                ctx.op_name, w.dim, shape_str(w), shape_str(in));
  }
  p->spatial = w.dim - 2;
  int64_t stride[2], pad[2], dil[2];
  WICK_TRY(spatial_list(ctx, args, 3, p->spatial, "stride", stride));
  WICK_TRY(spatial_list(ctx, args, 4, p->spatial, "padding", pad));
  WICK_TRY(spatial_list(ctx, args, 5, p->spatial, "dilation", dil));
  for (int k = 0; k < p->spatial; ++k) {
    if (stride[k] <= 0 || dil[k] <= 0 || pad[k] < 0) {
      return fail(Error::InvalidArgument, "%s: stride and dilation must be positive and padding non-negative",
                  ctx.op_name);
    }
    // Bounded so that no shape arithmetic below can overflow (sizes are at
    // most 2^40, checked at load); no real convolution comes near.
    if (stride[k] > kMaxConvParam || dil[k] > kMaxConvParam || pad[k] > kMaxConvParam) {
      return fail(Error::InvalidArgument, "%s: stride, padding and dilation must be at most %lld", ctx.op_name,
                  static_cast<long long>(kMaxConvParam));
    }
  }
  p->N = in.sizes[0];
  p->C = in.sizes[1];
  p->OC = w.sizes[0];
  p->Cg = w.sizes[1];
  if (p->spatial == 2) {
    p->H = in.sizes[2];
    p->W = in.sizes[3];
    p->KH = w.sizes[2];
    p->KW = w.sizes[3];
    p->sH = stride[0], p->sW = stride[1], p->pH = pad[0], p->pW = pad[1], p->dH = dil[0], p->dW = dil[1];
  } else {
    p->H = 1;
    p->W = in.sizes[2];
    p->KH = 1;
    p->KW = w.sizes[2];
    p->sH = 1, p->sW = stride[0], p->pH = 0, p->pW = pad[0], p->dH = 1, p->dW = dil[0];
  }
  if (p->groups <= 0 || p->groups > kMaxConvParam) {
    return fail(Error::InvalidArgument, "%s: groups must be in [1, %lld]", ctx.op_name,
                static_cast<long long>(kMaxConvParam));
  }
  if (p->C != p->Cg * p->groups) {
    return fail(Error::InvalidArgument,
                "%s: input of shape %s has %lld channels, but weight %s with groups=%lld expects %lld", ctx.op_name,
                shape_str(in), static_cast<long long>(p->C), shape_str(w), static_cast<long long>(p->groups),
                static_cast<long long>(p->Cg * p->groups));
  }
  if (p->OC % p->groups != 0) {
    return fail(Error::InvalidArgument, "%s: out channels %lld not divisible by groups %lld", ctx.op_name,
                static_cast<long long>(p->OC), static_cast<long long>(p->groups));
  }
  if (p->bias != nullptr && (p->bias->dim != 1 || p->bias->sizes[0] != p->OC)) {
    return fail(Error::InvalidArgument, "%s: bias must have shape [%lld], got %s", ctx.op_name,
                static_cast<long long>(p->OC), shape_str(*p->bias));
  }
  const int64_t eh = p->H + 2 * p->pH - p->dH * (p->KH - 1) - 1;
  const int64_t ew = p->W + 2 * p->pW - p->dW * (p->KW - 1) - 1;
  if (eh < 0 || ew < 0 || p->KH <= 0 || p->KW <= 0) {
    return fail(Error::InvalidArgument, "%s: kernel %s (dilated) is larger than the padded input %s", ctx.op_name,
                shape_str(w), shape_str(in));
  }
  p->OH = eh / p->sH + 1;
  p->OW = ew / p->sW + 1;
  return Error::Ok;
}

bool is_depthwise(const ConvParams& p) { return p.groups == p.C && p.Cg == 1 && p.groups > 1; }
bool is_pointwise(const ConvParams& p) {
  return p.KH == 1 && p.KW == 1 && p.sH == 1 && p.sW == 1 && p.pH == 0 && p.pW == 0;
}

size_t align64(size_t n) { return (n + 63) & ~static_cast<size_t>(63); }

size_t col_bytes(const ConvParams& p) {
  return align64(static_cast<size_t>(p.Cg * p.KH * p.KW * p.OH * p.OW) * sizeof(float));
}

size_t needed_scratch(const ConvParams& p) {
  if (is_depthwise(p)) return 0;
  // A crafted file's shapes can ask for more than any memory holds; say so
  // (the method's load then fails for want of memory) before the products
  // below could overflow.
  constexpr int64_t kLimit = int64_t(1) << 46;
  const int64_t patch = p.Cg * p.KH * p.KW;  // weight elements per group: bounded by the weight's size
  if (p.OH > kLimit / (p.OW > 0 ? p.OW : 1)) return SIZE_MAX;
  const int64_t columns = p.OH * p.OW;
  if (patch > 0 && columns > kLimit / patch) return SIZE_MAX;
  const int64_t OCg = p.OC / p.groups;
  if (is_pointwise(p)) return gemm_scratch_bytes(OCg, p.OH * p.OW, p.Cg);
  return col_bytes(p) + gemm_scratch_bytes(OCg, p.OH * p.OW, p.Cg * p.KH * p.KW);
}

// Range of output columns o with 0 <= o*s - pad + k*d < size.
inline void valid_range(int64_t size, int64_t out_size, int64_t s, int64_t pad, int64_t off, int64_t* lo,
                        int64_t* hi) {
  // need o*s >= pad - off  and  o*s <= size - 1 + pad - off
  const int64_t a = pad - off;
  int64_t l = a <= 0 ? 0 : (a + s - 1) / s;
  const int64_t b = size - 1 + pad - off;
  int64_t h = b < 0 ? -1 : b / s;
  if (h > out_size - 1) h = out_size - 1;
  *lo = l;
  *hi = h;
}

void im2col(const float* in, const ConvParams& p, float* col) {
  const int64_t OHW = p.OH * p.OW;
  for (int64_t c = 0; c < p.Cg; ++c) {
    const float* plane = in + c * p.H * p.W;
    for (int64_t kh = 0; kh < p.KH; ++kh) {
      for (int64_t kw = 0; kw < p.KW; ++kw) {
        float* row = col + ((c * p.KH + kh) * p.KW + kw) * OHW;
        int64_t lo, hi;
        valid_range(p.W, p.OW, p.sW, p.pW, kw * p.dW, &lo, &hi);
        for (int64_t oh = 0; oh < p.OH; ++oh) {
          float* r = row + oh * p.OW;
          const int64_t ih = oh * p.sH - p.pH + kh * p.dH;
          if (ih < 0 || ih >= p.H || lo > hi) {
            for (int64_t ow = 0; ow < p.OW; ++ow) r[ow] = 0.0f;
            continue;
          }
          const float* src = plane + ih * p.W - p.pW + kw * p.dW;
          for (int64_t ow = 0; ow < lo; ++ow) r[ow] = 0.0f;
          if (p.sW == 1) {
            for (int64_t ow = lo; ow <= hi; ++ow) r[ow] = src[ow];
          } else {
            for (int64_t ow = lo; ow <= hi; ++ow) r[ow] = src[ow * p.sW];
          }
          for (int64_t ow = hi + 1; ow < p.OW; ++ow) r[ow] = 0.0f;
        }
      }
    }
  }
}

void depthwise(const ConvParams& p, const float* in, const float* w, const float* bias, float* out) {
  const int64_t mult = p.OC / p.C;
  for (int64_t n = 0; n < p.N; ++n) {
    for (int64_t oc = 0; oc < p.OC; ++oc) {
      const int64_t c = oc / mult;
      const float* plane = in + (n * p.C + c) * p.H * p.W;
      const float* wk = w + oc * p.KH * p.KW;
      float* o = out + (n * p.OC + oc) * p.OH * p.OW;
      const float b = bias != nullptr ? bias[oc] : 0.0f;
      for (int64_t i = 0; i < p.OH * p.OW; ++i) o[i] = b;
      for (int64_t oh = 0; oh < p.OH; ++oh) {
        float* orow = o + oh * p.OW;
        for (int64_t kh = 0; kh < p.KH; ++kh) {
          const int64_t ih = oh * p.sH - p.pH + kh * p.dH;
          if (ih < 0 || ih >= p.H) continue;
          const float* irow = plane + ih * p.W;
          for (int64_t kw = 0; kw < p.KW; ++kw) {
            const float wv = wk[kh * p.KW + kw];
            int64_t lo, hi;
            valid_range(p.W, p.OW, p.sW, p.pW, kw * p.dW, &lo, &hi);
            const float* src = irow - p.pW + kw * p.dW;
            if (p.sW == 1) {
              for (int64_t ow = lo; ow <= hi; ++ow) orow[ow] += wv * src[ow];
            } else {
              for (int64_t ow = lo; ow <= hi; ++ow) orow[ow] += wv * src[ow * p.sW];
            }
          }
        }
      }
    }
  }
}

// Every dtype but float32 (float64, float16, bfloat16, integers): a direct
// loop accumulating in double (wrapping int64 for integers); float32, the hot
// path, goes through im2col + GEMM below.
Error convolution_reference(const ConvParams& p) {
  const Tensor& in = *p.input;
  const Tensor& w = *p.weight;
  Tensor& out = *p.out;
  const bool integral = is_integral(in.dtype, false);
  const int64_t ocg = p.OC / p.groups;
  for (int64_t n = 0; n < p.N; ++n)
    for (int64_t oc = 0; oc < p.OC; ++oc) {
      const int64_t g = oc / ocg;
      for (int64_t oh = 0; oh < p.OH; ++oh)
        for (int64_t ow = 0; ow < p.OW; ++ow) {
          double acc = p.bias != nullptr && !integral ? load_as<double>(p.bias->data, p.bias->dtype, oc) : 0.0;
          uint64_t iacc = p.bias != nullptr && integral ? static_cast<uint64_t>(load_as<int64_t>(p.bias->data, p.bias->dtype, oc)) : 0;
          for (int64_t c = 0; c < p.Cg; ++c) {
            const int64_t ic = g * p.Cg + c;
            for (int64_t kh = 0; kh < p.KH; ++kh) {
              const int64_t y = oh * p.sH - p.pH + kh * p.dH;
              if (y < 0 || y >= p.H) continue;
              for (int64_t kw = 0; kw < p.KW; ++kw) {
                const int64_t x = ow * p.sW - p.pW + kw * p.dW;
                if (x < 0 || x >= p.W) continue;
                const int64_t ii = ((n * p.C + ic) * p.H + y) * p.W + x, wi = ((oc * p.Cg + c) * p.KH + kh) * p.KW + kw;
                if (integral) {
                  iacc += static_cast<uint64_t>(load_as<int64_t>(in.data, in.dtype, ii)) *
                          static_cast<uint64_t>(load_as<int64_t>(w.data, w.dtype, wi));
                } else {
                  acc += load_as<double>(in.data, in.dtype, ii) * load_as<double>(w.data, w.dtype, wi);
                }
              }
            }
          }
          const int64_t oi = ((n * p.OC + oc) * p.OH + oh) * p.OW + ow;
          if (integral) store_as<int64_t>(out.data, out.dtype, oi, static_cast<int64_t>(iacc));
          else store_as<double>(out.data, out.dtype, oi, acc);
        }
    }
  return Error::Ok;
}

Error convolution_out(KernelContext& ctx, Value* const* args, int num_args) {
  ConvParams p;
  WICK_TRY(parse(ctx, args, num_args, &p));
  int64_t out_sizes[4];
  if (p.spatial == 2) {
    out_sizes[0] = p.N, out_sizes[1] = p.OC, out_sizes[2] = p.OH, out_sizes[3] = p.OW;
  } else {
    out_sizes[0] = p.N, out_sizes[1] = p.OC, out_sizes[2] = p.OW;
  }
  WICK_TRY(resize(ctx, *p.out, out_sizes, p.spatial + 2));
  if (p.out->numel() == 0) return Error::Ok;
  if (p.input->dtype != ScalarType::Float32) return convolution_reference(p);
  const float* in = p.input->data_as<const float>();
  const float* w = p.weight->data_as<const float>();
  const float* bias = p.bias != nullptr ? p.bias->data_as<const float>() : nullptr;
  float* out = p.out->data_as<float>();
  if (in == out) {
    return fail(Error::InvalidArgument, "%s: output may not alias the input", ctx.op_name);
  }

  if (is_depthwise(p)) {
    depthwise(p, in, w, bias, out);
    return Error::Ok;
  }
  const int64_t OCg = p.OC / p.groups;
  const int64_t OHW = p.OH * p.OW;
  const int64_t Kdim = p.Cg * p.KH * p.KW;
  const bool pointwise = is_pointwise(p);
  float* col = nullptr;
  void* gemm_scratch = ctx.scratch;
  size_t gemm_scratch_size = ctx.scratch_bytes;
  if (!pointwise) {
    const size_t cb = col_bytes(p);
    WICK_TRY(check_scratch(ctx, cb));
    col = static_cast<float*>(ctx.scratch);
    gemm_scratch = static_cast<unsigned char*>(ctx.scratch) + cb;
    gemm_scratch_size = ctx.scratch_bytes - cb;
  }
  for (int64_t n = 0; n < p.N; ++n) {
    for (int64_t g = 0; g < p.groups; ++g) {
      const float* in_g = in + (n * p.C + g * p.Cg) * p.H * p.W;
      const float* w_g = w + g * OCg * Kdim;
      float* out_g = out + (n * p.OC + g * OCg) * OHW;
      float beta = 0.0f;
      if (bias != nullptr) {
        for (int64_t oc = 0; oc < OCg; ++oc) {
          const float b = bias[g * OCg + oc];
          float* row = out_g + oc * OHW;
          for (int64_t i = 0; i < OHW; ++i) row[i] = b;
        }
        beta = 1.0f;
      }
      const float* bmat = in_g;
      if (!pointwise) {
        im2col(in_g, p, col);
        bmat = col;
      }
      gemm(OCg, OHW, Kdim, 1.0f, w_g, Kdim, bmat, OHW, beta, out_g, OHW, gemm_scratch, gemm_scratch_size);
    }
  }
  return Error::Ok;
}

size_t convolution_scratch(Value* const* args, int num_args) {
  KernelContext ctx;
  ctx.op_name = "aten::convolution.out";
  ConvParams p;
  if (parse(ctx, args, num_args, &p) != Error::Ok) return 0;
  return needed_scratch(p);
}

}  // namespace
}  // namespace portable
}  // namespace wick

using namespace wick::portable;

WICK_REGISTER_KERNELS(convolution, {"aten::convolution.out", kAllDtypes & ~wick::dtype_bit(wick::ScalarType::Bool), &convolution_out, &convolution_scratch})
