// Resampling: upsample_nearest2d.vec, upsample_bilinear2d.vec and
// grid_sampler_2d (bilinear, nearest, bicubic; zeros, border and reflection
// padding). Index arithmetic follows ATen exactly, including its float32
// scale computations (nearest uses floorf(dst * scale) with scale = 1/factor
// or in/out as float). Floating dtypes; bilinear computes in float (double
// for float64) like PyTorch's opmath. grid_sampler_2d also does bicubic.
#include <cmath>
#include <cstdint>

#include "portable/util.h"

namespace wick {
namespace portable {
namespace {

// Output sizes (H, W) from output_size or scale_factors; scales[] = the
// factor when given (for ATen's scale rules), else 0.
Error resample_sizes(KernelContext& ctx, Value* const* args, int size_i, int scale_i, const Tensor& in, int64_t* oh,
                     int64_t* ow, double* scales) {
  const int64_t* os;
  int n;
  bool has_size;
  WICK_TRY(get_int_list(ctx, args, size_i, &os, &n, true, &has_size));
  const Value* sv = args[scale_i];
  scales[0] = scales[1] = 0.0;
  if (in.dim != 4) return fail(Error::InvalidArgument, "%s: expected a 4-D input, got %s", ctx.op_name, shape_str(in));
  if (has_size && n == 2) {
    *oh = os[0];
    *ow = os[1];
  } else if (sv != nullptr && sv->tag == ValueTag::DoubleList && sv->doubles.size == 2) {
    scales[0] = sv->doubles.data[0];
    scales[1] = sv->doubles.data[1];
    *oh = static_cast<int64_t>(std::floor(static_cast<double>(in.sizes[2]) * scales[0]));
    *ow = static_cast<int64_t>(std::floor(static_cast<double>(in.sizes[3]) * scales[1]));
  } else {
    return fail(Error::InvalidArgument, "%s: either output_size (2 ints) or scale_factors (2 floats) must be given",
                ctx.op_name);
  }
  if (*oh <= 0 || *ow <= 0) return fail(Error::InvalidArgument, "%s: output size must be positive", ctx.op_name);
  return Error::Ok;
}

template <typename T>
T scale_value(double scale, int64_t in, int64_t out) {
  return scale > 0 ? static_cast<T>(1.0 / scale) : static_cast<T>(in) / static_cast<T>(out);
}

// upsample_nearest2d.vec_out(input, output_size?, scale_factors?, out)
Error upsample_nearest2d_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 4));
  Tensor *in, *out;
  WICK_TRY(get_tensor(ctx, args, 0, &in));
  WICK_TRY(get_tensor(ctx, args, 3, &out));
  int64_t OH, OW;
  double scales[2];
  WICK_TRY(resample_sizes(ctx, args, 1, 2, *in, &OH, &OW, scales));
  WICK_TRY(check_same_dtype(ctx, *in, *out, "input", "out"));
  const int64_t sizes[4] = {in->sizes[0], in->sizes[1], OH, OW};
  WICK_TRY(resize(ctx, *out, sizes, 4));
  const int64_t H = in->sizes[2], W = in->sizes[3], planes = in->sizes[0] * in->sizes[1];
  const float sh = scale_value<float>(scales[0], H, OH), sw = scale_value<float>(scales[1], W, OW);
  auto src = [](int64_t dst, int64_t in_size, int64_t out_size, float scale) -> int64_t {
    if (out_size == in_size) return dst;
    if (out_size == 2 * in_size) return dst >> 1;
    const int64_t s = static_cast<int64_t>(std::floor(static_cast<float>(dst) * scale));
    return s < in_size - 1 ? s : in_size - 1;
  };
  const size_t es = element_size(in->dtype);
  const unsigned char* x = static_cast<const unsigned char*>(in->data);
  unsigned char* o = static_cast<unsigned char*>(out->data);
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t h = 0; h < OH; ++h) {
      const int64_t ih = src(h, H, OH, sh);
      for (int64_t w = 0; w < OW; ++w) {
        const int64_t iw = src(w, W, OW, sw);
        std::memcpy(o + ((p * OH + h) * OW + w) * static_cast<int64_t>(es), x + ((p * H + ih) * W + iw) * static_cast<int64_t>(es), es);
      }
    }
  return Error::Ok;
}

template <typename C>
void bilinear_index(int64_t dst, int64_t in_size, int64_t out_size, bool align, double scale, int64_t* i0, int64_t* i1,
                    C* l0, C* l1) {
  C s;
  if (align) s = out_size > 1 ? static_cast<C>(in_size - 1) / static_cast<C>(out_size - 1) : C(0);
  else s = scale_value<C>(scale, in_size, out_size);
  C src = align ? s * static_cast<C>(dst) : s * (static_cast<C>(dst) + C(0.5)) - C(0.5);
  if (!align && src < C(0)) src = C(0);
  *i0 = static_cast<int64_t>(src);
  *i1 = *i0 + (*i0 < in_size - 1 ? 1 : 0);
  *l1 = src - static_cast<C>(*i0);
  *l0 = C(1) - *l1;
}

// upsample_bilinear2d.vec_out(input, output_size?, align_corners, scale_factors?, out)
Error upsample_bilinear2d_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 5));
  Tensor *in, *out;
  bool align;
  WICK_TRY(get_tensor(ctx, args, 0, &in));
  WICK_TRY(get_bool(ctx, args, 2, &align));
  WICK_TRY(get_tensor(ctx, args, 4, &out));
  int64_t OH, OW;
  double scales[2];
  WICK_TRY(resample_sizes(ctx, args, 1, 3, *in, &OH, &OW, scales));
  if (!is_floating(in->dtype)) return fail(Error::InvalidArgument, "%s: input must be floating point", ctx.op_name);
  const int64_t sizes[4] = {in->sizes[0], in->sizes[1], OH, OW};
  WICK_TRY(resize(ctx, *out, sizes, 4));
  const int64_t H = in->sizes[2], W = in->sizes[3], planes = in->sizes[0] * in->sizes[1];
  dispatch_compute(in->dtype, [&](auto tag) {
    using C = typename decltype(tag)::type;
    if constexpr (!std::is_integral<C>::value) {
      for (int64_t h = 0; h < OH; ++h) {
        int64_t h0, h1;
        C hl0, hl1;
        bilinear_index<C>(h, H, OH, align, scales[0], &h0, &h1, &hl0, &hl1);
        for (int64_t w = 0; w < OW; ++w) {
          int64_t w0, w1;
          C wl0, wl1;
          bilinear_index<C>(w, W, OW, align, scales[1], &w0, &w1, &wl0, &wl1);
          for (int64_t p = 0; p < planes; ++p) {
            auto at = [&](int64_t y, int64_t x) { return load_as<C>(in->data, in->dtype, (p * H + y) * W + x); };
            const C v = hl0 * (wl0 * at(h0, w0) + wl1 * at(h0, w1)) + hl1 * (wl0 * at(h1, w0) + wl1 * at(h1, w1));
            store_as<C>(out->data, out->dtype, (p * OH + h) * OW + w, v);
          }
        }
      }
    }
  });
  return Error::Ok;
}

template <typename C>
C reflect(C x, C lo2, C hi2) {  // ATen reflect_coordinates with twice-bounds
  if (lo2 == hi2) return C(0);
  const C mn = lo2 / C(2), span = (hi2 - lo2) / C(2);
  x = std::fabs(x - mn);
  const C extra = std::fmod(x, span);
  const int64_t flips = static_cast<int64_t>(std::floor(x / span));
  return flips % 2 == 0 ? extra + mn : span - extra + mn;
}

template <typename C>
C unnormalize(C coord, int64_t size, bool align) {
  return align ? (coord + C(1)) / C(2) * static_cast<C>(size - 1) : ((coord + C(1)) * static_cast<C>(size) - C(1)) / C(2);
}

// ATen compute_coordinates: border clips, reflection reflects then clips.
template <typename C>
C apply_padding(C x, int64_t size, int padding, bool align) {
  if (padding == 1) {
    x = std::fmin(static_cast<C>(size - 1), std::fmax(x, C(0)));
  } else if (padding == 2) {
    x = align ? reflect<C>(x, C(0), C(2 * (size - 1))) : reflect<C>(x, C(-1), C(2 * size - 1));
    x = std::fmin(static_cast<C>(size - 1), std::fmax(x, C(0)));
  }
  return x;
}

template <typename C>
C source_index(C coord, int64_t size, int padding, bool align) {
  return apply_padding(unnormalize(coord, size, align), size, padding, align);
}

// Cubic convolution weights (A = -0.75), as ATen's get_cubic_upsample_coefficients.
template <typename C>
C cubic_interp1d(C x0, C x1, C x2, C x3, C t) {
  const C A = C(-0.75);
  auto cc1 = [A](C x) { return ((A + C(2)) * x - (A + C(3))) * x * x + C(1); };
  auto cc2 = [A](C x) { return ((A * x - C(5) * A) * x + C(8) * A) * x - C(4) * A; };
  return x0 * cc2(t + C(1)) + x1 * cc1(t) + x2 * cc1(C(1) - t) + x3 * cc2(C(2) - t);
}

// grid_sampler_2d.out(input, grid, interpolation_mode, padding_mode, align_corners, out)
Error grid_sampler_2d_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 6));
  Tensor *in, *grid, *out;
  int64_t interp, padding;
  bool align;
  WICK_TRY(get_tensor(ctx, args, 0, &in));
  WICK_TRY(get_tensor(ctx, args, 1, &grid));
  WICK_TRY(get_int(ctx, args, 2, &interp));
  WICK_TRY(get_int(ctx, args, 3, &padding));
  WICK_TRY(get_bool(ctx, args, 4, &align));
  WICK_TRY(get_tensor(ctx, args, 5, &out));
  if (in->dim != 4 || grid->dim != 4 || grid->sizes[3] != 2 || grid->sizes[0] != in->sizes[0]) {
    return fail(Error::InvalidArgument, "%s: expected input [N, C, H, W] and grid [N, H_out, W_out, 2], got %s and %s",
                ctx.op_name, shape_str(*in), shape_str(*grid));
  }
  if (interp < 0 || interp > 2 || padding < 0 || padding > 2) {
    return fail(Error::InvalidArgument, "%s: invalid interpolation (%lld) or padding (%lld) mode", ctx.op_name,
                static_cast<long long>(interp), static_cast<long long>(padding));
  }
  WICK_TRY(check_same_dtype(ctx, *in, *grid, "input", "grid"));
  const int64_t N = in->sizes[0], C_ = in->sizes[1], H = in->sizes[2], W = in->sizes[3];
  const int64_t OH = grid->sizes[1], OW = grid->sizes[2];
  const int64_t sizes[4] = {N, C_, OH, OW};
  WICK_TRY(resize(ctx, *out, sizes, 4));
  dispatch_compute(in->dtype, [&](auto tag) {
    using C = typename decltype(tag)::type;
    if constexpr (!std::is_integral<C>::value) {
      for (int64_t n = 0; n < N; ++n)
        for (int64_t h = 0; h < OH; ++h)
          for (int64_t w = 0; w < OW; ++w) {
            const int64_t gi = ((n * OH + h) * OW + w) * 2;
            const C gx = load_as<C>(grid->data, grid->dtype, gi), gy = load_as<C>(grid->data, grid->dtype, gi + 1);
            const bool cubic = interp == 2;
            const C ix = cubic ? unnormalize<C>(gx, W, align) : source_index<C>(gx, W, static_cast<int>(padding), align);
            const C iy = cubic ? unnormalize<C>(gy, H, align) : source_index<C>(gy, H, static_cast<int>(padding), align);
            for (int64_t c = 0; c < C_; ++c) {
              const int64_t base = (n * C_ + c) * H * W;
              auto at = [&](int64_t y, int64_t x) -> C {
                if (y < 0 || y >= H || x < 0 || x >= W) return C(0);
                return load_as<C>(in->data, in->dtype, base + y * W + x);
              };
              C v;
              if (cubic) {
                auto bounded = [&](int64_t y, int64_t x) -> C {
                  const C px = apply_padding<C>(static_cast<C>(x), W, static_cast<int>(padding), align);
                  const C py = apply_padding<C>(static_cast<C>(y), H, static_cast<int>(padding), align);
                  return at(static_cast<int64_t>(py), static_cast<int64_t>(px));
                };
                const C fx = std::floor(ix), fy = std::floor(iy);
                const int64_t x0 = static_cast<int64_t>(fx), y0 = static_cast<int64_t>(fy);
                const C tx = ix - fx, ty = iy - fy;
                C rows[4];
                for (int i = 0; i < 4; ++i) {
                  const int64_t y = y0 - 1 + i;
                  rows[i] = cubic_interp1d<C>(bounded(y, x0 - 1), bounded(y, x0), bounded(y, x0 + 1), bounded(y, x0 + 2), tx);
                }
                v = cubic_interp1d<C>(rows[0], rows[1], rows[2], rows[3], ty);
              } else if (interp == 1) {
                v = at(static_cast<int64_t>(std::nearbyint(iy)), static_cast<int64_t>(std::nearbyint(ix)));
              } else {
                const C fx = std::floor(ix), fy = std::floor(iy);
                const int64_t x0 = static_cast<int64_t>(fx), y0 = static_cast<int64_t>(fy);
                const C tx = ix - fx, ty = iy - fy;
                v = at(y0, x0) * (C(1) - tx) * (C(1) - ty) + at(y0, x0 + 1) * tx * (C(1) - ty) +
                    at(y0 + 1, x0) * (C(1) - tx) * ty + at(y0 + 1, x0 + 1) * tx * ty;
              }
              store_as<C>(out->data, out->dtype, ((n * C_ + c) * OH + h) * OW + w, v);
            }
          }
    }
  });
  return Error::Ok;
}

constexpr uint32_t kFloating = kF32 | dtype_bit(ScalarType::Float64) | dtype_bit(ScalarType::Float16) |
                               dtype_bit(ScalarType::BFloat16);

}  // namespace
}  // namespace portable
}  // namespace wick

using namespace wick::portable;

WICK_REGISTER_KERNELS(upsample_ops,
                      {"aten::upsample_nearest2d.vec_out", kAllDtypes, &upsample_nearest2d_out, nullptr},
                      {"aten::upsample_bilinear2d.vec_out", kFloating, &upsample_bilinear2d_out, nullptr},
                      {"aten::grid_sampler_2d.out", kFloating, &grid_sampler_2d_out, nullptr})
