// PT2E's quantize/dequantize ops (quantized_decomposed namespace), exact to
// the reference decompositions in torch/ao/quantization/fx/_decomposed.py:
//   quantize:   clamp(round_half_even(x * float(1/scale)) + zp, qmin, qmax)
//   dequantize: (float(q) - zp) * float(scale)
// Per-channel variants compute in the dtype of their `scales` tensor, as the
// reference does (float32 scales -> float32 arithmetic).
#include <cmath>
#include <cstdint>

#include "wick/runtime/kernel.h"

namespace wick {
namespace {

bool is_quantized_dtype(ScalarType t) {
  return t == ScalarType::Int8 || t == ScalarType::UInt8 || t == ScalarType::Int16 || t == ScalarType::Int32;
}

Error check_args(KernelContext& ctx, Value* const* args, int num_args, int expected) {
  if (num_args != expected) {
    return fail(Error::InvalidArgument, "%s takes %d arguments, got %d", ctx.op_name, expected, num_args);
  }
  if (!args[0]->is_tensor() || !args[num_args - 1]->is_tensor()) {
    return fail(Error::InvalidArgument, "%s: input and output must be tensors", ctx.op_name);
  }
  const Tensor& in = *args[0]->tensor;
  if (!in.is_contiguous() || !args[num_args - 1]->tensor->is_contiguous()) {
    return fail(Error::NotSupported, "%s: only contiguous tensors are supported", ctx.op_name);
  }
  return resize_tensor(*args[num_args - 1]->tensor, in.sizes, in.dim);
}

template <typename Q>
void store_quantized(float v, int64_t qmin, int64_t qmax, Q* out) {
  float c = std::fmin(std::fmax(v, static_cast<float>(qmin)), static_cast<float>(qmax));
  *out = static_cast<Q>(c);
}

template <typename Q>
void quantize_range(const float* x, int64_t n, float inv_scale, float zp, int64_t qmin, int64_t qmax, Q* out) {
  for (int64_t i = 0; i < n; ++i) store_quantized(std::nearbyint(x[i] * inv_scale) + zp, qmin, qmax, &out[i]);
}

template <typename Q>
void dequantize_range(const Q* q, int64_t n, float scale, float zp, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = (static_cast<float>(q[i]) - zp) * scale;
}

#define WICK_DISPATCH_QDTYPE(dtype, Q, ...)                \
  switch (dtype) {                                          \
    case ScalarType::Int8: { using Q = int8_t; __VA_ARGS__; break; }   \
    case ScalarType::UInt8: { using Q = uint8_t; __VA_ARGS__; break; } \
    case ScalarType::Int16: { using Q = int16_t; __VA_ARGS__; break; } \
    case ScalarType::Int32: { using Q = int32_t; __VA_ARGS__; break; } \
    default: break;                                         \
  }

// Scale and zero point: doubles/ints (.default) or one-element tensors (.tensor).
Error read_qparams(KernelContext& ctx, const Value& scale, const Value& zp, double* s, int64_t* z) {
  if (scale.is_tensor() && zp.is_tensor()) {
    const Tensor& st = *scale.tensor;
    const Tensor& zt = *zp.tensor;
    if (st.numel() != 1 || zt.numel() != 1) return fail(Error::InvalidArgument, "%s: scale and zero_point must have one element", ctx.op_name);
    if (st.dtype == ScalarType::Float32) *s = *st.data_as<const float>();
    else if (st.dtype == ScalarType::Float64) *s = *st.data_as<const double>();
    else return fail(Error::InvalidArgument, "%s: scale must be float32 or float64", ctx.op_name);
    if (zt.dtype == ScalarType::Int64) *z = *zt.data_as<const int64_t>();
    else if (zt.dtype == ScalarType::Int32) *z = *zt.data_as<const int32_t>();
    else return fail(Error::InvalidArgument, "%s: zero_point must be int32 or int64", ctx.op_name);
    return Error::Ok;
  }
  if (!scale.is_scalar() || !zp.is_scalar()) return fail(Error::InvalidArgument, "%s: bad scale or zero_point", ctx.op_name);
  *s = scale.scalar_as_double();
  *z = zp.scalar_as_int();
  return Error::Ok;
}

// (input, scale, zero_point, quant_min, quant_max, dtype, out)
Error quantize_per_tensor(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_args(ctx, args, num_args, 7));
  const Tensor& in = *args[0]->tensor;
  Tensor& out = *args[6]->tensor;
  if (in.dtype != ScalarType::Float32 || !is_quantized_dtype(out.dtype)) {
    return fail(Error::InvalidArgument, "%s: input must be float32 and output an integer dtype, got %s -> %s",
                ctx.op_name, scalar_type_name(in.dtype), scalar_type_name(out.dtype));
  }
  double scale;
  int64_t zp;
  WICK_TRY(read_qparams(ctx, *args[1], *args[2], &scale, &zp));
  const float inv_scale = static_cast<float>(1.0 / scale);
  int64_t qmin = args[3]->scalar_as_int(), qmax = args[4]->scalar_as_int();
  WICK_DISPATCH_QDTYPE(out.dtype, Q,
                       quantize_range<Q>(in.data_as<const float>(), in.numel(), inv_scale, static_cast<float>(zp),
                                         qmin, qmax, out.data_as<Q>()));
  return Error::Ok;
}

// (input, scale, zero_point, quant_min, quant_max, dtype, out_dtype, out)
Error dequantize_per_tensor(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_args(ctx, args, num_args, 8));
  const Tensor& in = *args[0]->tensor;
  Tensor& out = *args[7]->tensor;
  if (!is_quantized_dtype(in.dtype) || out.dtype != ScalarType::Float32) {
    return fail(Error::InvalidArgument, "%s: input must be an integer dtype and output float32, got %s -> %s",
                ctx.op_name, scalar_type_name(in.dtype), scalar_type_name(out.dtype));
  }
  double scale;
  int64_t zp;
  WICK_TRY(read_qparams(ctx, *args[1], *args[2], &scale, &zp));
  WICK_DISPATCH_QDTYPE(in.dtype, Q,
                       dequantize_range<Q>(in.data_as<const Q>(), in.numel(), static_cast<float>(scale),
                                           static_cast<float>(zp), out.data_as<float>()));
  return Error::Ok;
}

// Elements of `t` grouped as [outer, channels, inner] around `axis`.
Error channel_layout(KernelContext& ctx, const Tensor& t, int64_t axis, const Tensor& scales, int64_t* outer,
                     int64_t* channels, int64_t* inner) {
  if (axis < 0) axis += t.dim;
  if (axis < 0 || axis >= t.dim) return fail(Error::InvalidArgument, "%s: axis out of range", ctx.op_name);
  *channels = t.sizes[axis];
  if (scales.numel() != *channels) {
    return fail(Error::InvalidArgument, "%s: %lld scales for %lld channels", ctx.op_name,
                static_cast<long long>(scales.numel()), static_cast<long long>(*channels));
  }
  *outer = 1;
  *inner = 1;
  for (int d = 0; d < axis; ++d) *outer *= t.sizes[d];
  for (int d = static_cast<int>(axis) + 1; d < t.dim; ++d) *inner *= t.sizes[d];
  return Error::Ok;
}

double read_double(const Tensor& t, int64_t i) {
  return t.dtype == ScalarType::Float64 ? t.data_as<const double>()[i] : t.data_as<const float>()[i];
}

int64_t read_int(const Tensor& t, int64_t i) {
  return t.dtype == ScalarType::Int64 ? t.data_as<const int64_t>()[i] : t.data_as<const int32_t>()[i];
}

// (input, scales, zero_points, axis, quant_min, quant_max, dtype, out)
Error quantize_per_channel(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_args(ctx, args, num_args, 8));
  const Tensor& in = *args[0]->tensor;
  Tensor& out = *args[7]->tensor;
  if (!args[1]->is_tensor() || !args[2]->is_tensor()) return fail(Error::InvalidArgument, "%s: scales and zero_points must be tensors", ctx.op_name);
  const Tensor& scales = *args[1]->tensor;
  const Tensor& zps = *args[2]->tensor;
  if (in.dtype != ScalarType::Float32 || !is_quantized_dtype(out.dtype) ||
      (scales.dtype != ScalarType::Float32 && scales.dtype != ScalarType::Float64) ||
      (zps.dtype != ScalarType::Int64 && zps.dtype != ScalarType::Int32) || zps.numel() != scales.numel()) {
    return fail(Error::InvalidArgument, "%s: unsupported dtypes or mismatched scales/zero_points", ctx.op_name);
  }
  int64_t outer, channels, inner;
  WICK_TRY(channel_layout(ctx, in, args[3]->scalar_as_int(), scales, &outer, &channels, &inner));
  int64_t qmin = args[4]->scalar_as_int(), qmax = args[5]->scalar_as_int();
  const float* x = in.data_as<const float>();
  WICK_DISPATCH_QDTYPE(out.dtype, Q, {
    Q* q = out.data_as<Q>();
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t c = 0; c < channels; ++c) {
        int64_t base = (o * channels + c) * inner;
        float zp = static_cast<float>(read_int(zps, c));
        if (scales.dtype == ScalarType::Float32) {
          float inv = 1.0f / scales.data_as<const float>()[c];
          for (int64_t i = 0; i < inner; ++i) store_quantized(std::nearbyint(x[base + i] * inv) + zp, qmin, qmax, &q[base + i]);
        } else {
          double inv = 1.0 / read_double(scales, c);
          for (int64_t i = 0; i < inner; ++i) {
            double v = std::nearbyint(static_cast<double>(x[base + i]) * inv) + static_cast<double>(zp);
            store_quantized(static_cast<float>(v), qmin, qmax, &q[base + i]);
          }
        }
      }
    }
  });
  return Error::Ok;
}

// (input, scales, zero_points?, axis, quant_min, quant_max, dtype, out_dtype, out)
Error dequantize_per_channel(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_args(ctx, args, num_args, 9));
  const Tensor& in = *args[0]->tensor;
  Tensor& out = *args[8]->tensor;
  if (!args[1]->is_tensor()) return fail(Error::InvalidArgument, "%s: scales must be a tensor", ctx.op_name);
  const Tensor& scales = *args[1]->tensor;
  const Tensor* zps = args[2]->is_tensor() ? args[2]->tensor : nullptr;
  if (!is_quantized_dtype(in.dtype) || out.dtype != ScalarType::Float32 ||
      (scales.dtype != ScalarType::Float32 && scales.dtype != ScalarType::Float64) ||
      (zps != nullptr && ((zps->dtype != ScalarType::Int64 && zps->dtype != ScalarType::Int32) ||
                          zps->numel() != scales.numel()))) {
    return fail(Error::InvalidArgument, "%s: unsupported dtypes or mismatched scales/zero_points", ctx.op_name);
  }
  int64_t outer, channels, inner;
  WICK_TRY(channel_layout(ctx, in, args[3]->scalar_as_int(), scales, &outer, &channels, &inner));
  float* y = out.data_as<float>();
  WICK_DISPATCH_QDTYPE(in.dtype, Q, {
    const Q* q = in.data_as<const Q>();
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t c = 0; c < channels; ++c) {
        int64_t base = (o * channels + c) * inner;
        int64_t zp = zps ? read_int(*zps, c) : 0;
        if (scales.dtype == ScalarType::Float32) {
          float s = scales.data_as<const float>()[c];
          for (int64_t i = 0; i < inner; ++i) y[base + i] = static_cast<float>(static_cast<int64_t>(q[base + i]) - zp) * s;
        } else {
          double s = read_double(scales, c);
          for (int64_t i = 0; i < inner; ++i) {
            y[base + i] = static_cast<float>(static_cast<double>(static_cast<int64_t>(q[base + i]) - zp) * s);
          }
        }
      }
    }
  });
  return Error::Ok;
}

constexpr uint32_t kFloat = dtype_bit(ScalarType::Float32);
constexpr uint32_t kQuantized =
    dtype_bit(ScalarType::Int8) | dtype_bit(ScalarType::UInt8) | dtype_bit(ScalarType::Int16) | dtype_bit(ScalarType::Int32);

}  // namespace
}  // namespace wick

WICK_REGISTER_KERNELS(quantized_kernels,
                      {"quantized_decomposed::quantize_per_tensor.out", wick::kFloat, &wick::quantize_per_tensor, nullptr},
                      {"quantized_decomposed::quantize_per_tensor.tensor_out", wick::kFloat, &wick::quantize_per_tensor, nullptr},
                      {"quantized_decomposed::dequantize_per_tensor.out", wick::kQuantized, &wick::dequantize_per_tensor, nullptr},
                      {"quantized_decomposed::dequantize_per_tensor.tensor_out", wick::kQuantized, &wick::dequantize_per_tensor, nullptr},
                      {"quantized_decomposed::quantize_per_channel.out", wick::kFloat, &wick::quantize_per_channel, nullptr},
                      {"quantized_decomposed::dequantize_per_channel.out", wick::kQuantized, &wick::dequantize_per_channel, nullptr})
