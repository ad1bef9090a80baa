// Matrix products: mm, bmm, addmm. float32 runs on the blocked GEMM; the other
// dtypes (float64, float16, bfloat16, integers) on a reference loop.
#include <cstdint>

#include "portable/gemm.h"
#include "portable/util.h"

namespace wick {
namespace portable {
namespace {

// Reference path for every dtype but float32 (PyTorch supports all but bool
// on CPU): straightforward triple loop, accumulating in double for floating
// types and wrapping int64 for integers. bias (addmm's self, broadcast to the
// output) is scaled by beta, the product by alpha.
Error matmul_reference(KernelContext& ctx, const Tensor* bias, const Value* beta_v, const Value* alpha_v,
                       const Tensor& a, const Tensor& b, Tensor& out) {
  if (a.dtype != b.dtype || a.dtype != out.dtype || (bias != nullptr && bias->dtype != a.dtype)) {
    return fail(Error::InvalidArgument, "%s: expected all operands to have the same dtype, got %s and %s (out %s)",
                ctx.op_name, scalar_type_name(a.dtype), scalar_type_name(b.dtype), scalar_type_name(out.dtype));
  }
  const bool batched = a.dim == 3;
  const int64_t B = batched ? a.sizes[0] : 1, M = a.sizes[a.dim - 2], K = a.sizes[a.dim - 1], N = b.sizes[b.dim - 1];
  int64_t bst[kMaxDims] = {0, 0};
  if (bias != nullptr) {
    const int64_t sizes[2] = {M, N};
    broadcast_strides(bias->sizes, bias->dim, sizes, 2, bst);
  }
  const bool integral = is_integral(a.dtype, false);
  for (int64_t z = 0; z < B; ++z)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        const int64_t o = (z * M + i) * N + j;
        if (integral) {
          uint64_t acc = 0;
          for (int64_t k = 0; k < K; ++k)
            acc += static_cast<uint64_t>(load_as<int64_t>(a.data, a.dtype, (z * M + i) * K + k)) *
                   static_cast<uint64_t>(load_as<int64_t>(b.data, b.dtype, (z * K + k) * N + j));
          int64_t r = static_cast<int64_t>(acc);
          if (alpha_v != nullptr) r = static_cast<int64_t>(static_cast<uint64_t>(r) * static_cast<uint64_t>(alpha_v->scalar_as_int()));
          if (bias != nullptr && beta_v->scalar_as_int() != 0) {
            r = static_cast<int64_t>(static_cast<uint64_t>(r) +
                                     static_cast<uint64_t>(beta_v->scalar_as_int()) *
                                         static_cast<uint64_t>(load_as<int64_t>(bias->data, bias->dtype, i * bst[0] + j * bst[1])));
          }
          store_as<int64_t>(out.data, out.dtype, o, r);
        } else {
          double acc = 0.0;
          for (int64_t k = 0; k < K; ++k)
            acc += load_as<double>(a.data, a.dtype, (z * M + i) * K + k) * load_as<double>(b.data, b.dtype, (z * K + k) * N + j);
          if (alpha_v != nullptr) acc *= alpha_v->scalar_as_double();
          if (bias != nullptr && beta_v->scalar_as_double() != 0.0) {
            acc += beta_v->scalar_as_double() * load_as<double>(bias->data, bias->dtype, i * bst[0] + j * bst[1]);
          }
          store_as<double>(out.data, out.dtype, o, acc);
        }
      }
  return Error::Ok;
}

Error check_f32(KernelContext& ctx, const Tensor& t, const char* what) {
  return check_dtype(ctx, t, ScalarType::Float32, what);
}

// mm.out(self [M,K], mat2 [K,N], out)
Error mm_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 3));
  Tensor *a, *b, *out;
  WICK_TRY(get_tensor(ctx, args, 0, &a));
  WICK_TRY(get_tensor(ctx, args, 1, &b));
  WICK_TRY(get_tensor(ctx, args, 2, &out));
  WICK_TRY(check_rank(ctx, *a, 2, 2, "self"));
  WICK_TRY(check_rank(ctx, *b, 2, 2, "mat2"));
  const int64_t M = a->sizes[0], K = a->sizes[1], N = b->sizes[1];
  if (b->sizes[0] != K) {
    return fail(Error::InvalidArgument, "%s: self and mat2 shapes cannot be multiplied (%s and %s)", ctx.op_name,
                shape_str(*a), shape_str(*b));
  }
  const int64_t sizes[2] = {M, N};
  WICK_TRY(resize(ctx, *out, sizes, 2));
  if (a->dtype != ScalarType::Float32) return matmul_reference(ctx, nullptr, nullptr, nullptr, *a, *b, *out);
  WICK_TRY(check_f32(ctx, *b, "mat2"));
  WICK_TRY(check_f32(ctx, *out, "out"));
  gemm(M, N, K, 1.0f, a->data_as<const float>(), K, b->data_as<const float>(), N, 0.0f, out->data_as<float>(), N,
       ctx.scratch, ctx.scratch_bytes);
  return Error::Ok;
}

size_t mm_scratch(Value* const* args, int num_args) {
  Tensor* a = tensor_or_null(args, num_args, 0);
  Tensor* b = tensor_or_null(args, num_args, 1);
  if (a == nullptr || b == nullptr || a->dim != 2 || b->dim != 2) return 0;
  return gemm_scratch_bytes(a->sizes[0], b->sizes[1], a->sizes[1]);
}

// bmm.out(self [B,M,K], mat2 [B,K,N], out)
Error bmm_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 3));
  Tensor *a, *b, *out;
  WICK_TRY(get_tensor(ctx, args, 0, &a));
  WICK_TRY(get_tensor(ctx, args, 1, &b));
  WICK_TRY(get_tensor(ctx, args, 2, &out));
  WICK_TRY(check_rank(ctx, *a, 3, 3, "self"));
  WICK_TRY(check_rank(ctx, *b, 3, 3, "mat2"));
  const int64_t B = a->sizes[0], M = a->sizes[1], K = a->sizes[2], N = b->sizes[2];
  if (b->sizes[0] != B || b->sizes[1] != K) {
    return fail(Error::InvalidArgument, "%s: batch shapes %s and %s cannot be multiplied", ctx.op_name,
                shape_str(*a), shape_str(*b));
  }
  const int64_t sizes[3] = {B, M, N};
  WICK_TRY(resize(ctx, *out, sizes, 3));
  if (a->dtype != ScalarType::Float32) return matmul_reference(ctx, nullptr, nullptr, nullptr, *a, *b, *out);
  WICK_TRY(check_f32(ctx, *b, "mat2"));
  WICK_TRY(check_f32(ctx, *out, "out"));
  const float* pa = a->data_as<const float>();
  const float* pb = b->data_as<const float>();
  float* po = out->data_as<float>();
  for (int64_t i = 0; i < B; ++i) {
    gemm(M, N, K, 1.0f, pa + i * M * K, K, pb + i * K * N, N, 0.0f, po + i * M * N, N, ctx.scratch,
         ctx.scratch_bytes);
  }
  return Error::Ok;
}

size_t bmm_scratch(Value* const* args, int num_args) {
  Tensor* a = tensor_or_null(args, num_args, 0);
  Tensor* b = tensor_or_null(args, num_args, 1);
  if (a == nullptr || b == nullptr || a->dim != 3 || b->dim != 3) return 0;
  return gemm_scratch_bytes(a->sizes[1], b->sizes[2], a->sizes[2]);
}

// addmm.out(self, mat1 [M,K], mat2 [K,N], beta, alpha, out): beta*self + alpha*mat1@mat2
Error addmm_out(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 6));
  Tensor *self, *a, *b, *out;
  const Value *beta_v, *alpha_v;
  WICK_TRY(get_tensor(ctx, args, 0, &self));
  WICK_TRY(get_tensor(ctx, args, 1, &a));
  WICK_TRY(get_tensor(ctx, args, 2, &b));
  WICK_TRY(get_scalar(ctx, args, 3, &beta_v));
  WICK_TRY(get_scalar(ctx, args, 4, &alpha_v));
  WICK_TRY(get_tensor(ctx, args, 5, &out));
  WICK_TRY(check_rank(ctx, *a, 2, 2, "mat1"));
  WICK_TRY(check_rank(ctx, *b, 2, 2, "mat2"));
  WICK_TRY(check_rank(ctx, *self, 0, 2, "self"));
  const int64_t M = a->sizes[0], K = a->sizes[1], N = b->sizes[1];
  if (b->sizes[0] != K) {
    return fail(Error::InvalidArgument, "%s: mat1 and mat2 shapes cannot be multiplied (%s and %s)", ctx.op_name,
                shape_str(*a), shape_str(*b));
  }
  const int64_t sizes[2] = {M, N};
  // self must broadcast to [M, N]
  for (int d = 0; d < self->dim; ++d) {
    const int64_t want = sizes[2 - self->dim + d];
    if (self->sizes[d] != 1 && self->sizes[d] != want) {
      return fail(Error::InvalidArgument, "%s: self of shape %s cannot be broadcast to [%lld, %lld]", ctx.op_name,
                  shape_str(*self), static_cast<long long>(M), static_cast<long long>(N));
    }
  }
  WICK_TRY(resize(ctx, *out, sizes, 2));
  if (a->dtype != ScalarType::Float32) return matmul_reference(ctx, self, beta_v, alpha_v, *a, *b, *out);
  WICK_TRY(check_f32(ctx, *self, "self"));
  WICK_TRY(check_f32(ctx, *b, "mat2"));
  WICK_TRY(check_f32(ctx, *out, "out"));
  const float beta = static_cast<float>(beta_v->scalar_as_double());
  const float alpha = static_cast<float>(alpha_v->scalar_as_double());
  float* po = out->data_as<float>();
  if (beta != 0.0f && M * N > 0) {
    int64_t st[kMaxDims];
    broadcast_strides(self->sizes, self->dim, sizes, 2, st);
    const float* s = self->data_as<const float>();
    if (self->data != out->data) {
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) po[i * N + j] = s[i * st[0] + j * st[1]];
    }
  }
  gemm(M, N, K, alpha, a->data_as<const float>(), K, b->data_as<const float>(), N, beta, po, N, ctx.scratch,
       ctx.scratch_bytes);
  return Error::Ok;
}

size_t addmm_scratch(Value* const* args, int num_args) {
  Tensor* a = tensor_or_null(args, num_args, 1);
  Tensor* b = tensor_or_null(args, num_args, 2);
  if (a == nullptr || b == nullptr || a->dim != 2 || b->dim != 2) return 0;
  return gemm_scratch_bytes(a->sizes[0], b->sizes[1], a->sizes[1]);
}

}  // namespace
}  // namespace portable
}  // namespace wick

using namespace wick::portable;

namespace {
constexpr uint32_t kMatmulDtypes = kAllDtypes;
}  // namespace

WICK_REGISTER_KERNELS(matmul,
                      {"aten::mm.out", kMatmulDtypes, &mm_out, &mm_scratch},
                      {"aten::bmm.out", kMatmulDtypes, &bmm_out, &bmm_scratch},
                      {"aten::addmm.out", kMatmulDtypes, &addmm_out, &addmm_scratch})
