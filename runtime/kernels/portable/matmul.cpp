// Matrix products on the blocked GEMM: mm, bmm, addmm (float32).
#include <cstdint>

#include "portable/gemm.h"
#include "portable/util.h"

namespace wick {
namespace portable {
namespace {

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
  WICK_TRY(check_f32(ctx, *a, "self"));
  WICK_TRY(check_f32(ctx, *b, "mat2"));
  WICK_TRY(check_f32(ctx, *out, "out"));
  WICK_TRY(check_rank(ctx, *a, 2, 2, "self"));
  WICK_TRY(check_rank(ctx, *b, 2, 2, "mat2"));
  const int64_t M = a->sizes[0], K = a->sizes[1], N = b->sizes[1];
  if (b->sizes[0] != K) {
    return fail(Error::InvalidArgument, "%s: self and mat2 shapes cannot be multiplied (%s and %s)", ctx.op_name,
                shape_str(*a), shape_str(*b));
  }
  const int64_t sizes[2] = {M, N};
  WICK_TRY(resize(ctx, *out, sizes, 2));
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
  WICK_TRY(check_f32(ctx, *a, "self"));
  WICK_TRY(check_f32(ctx, *b, "mat2"));
  WICK_TRY(check_f32(ctx, *out, "out"));
  WICK_TRY(check_rank(ctx, *a, 3, 3, "self"));
  WICK_TRY(check_rank(ctx, *b, 3, 3, "mat2"));
  const int64_t B = a->sizes[0], M = a->sizes[1], K = a->sizes[2], N = b->sizes[2];
  if (b->sizes[0] != B || b->sizes[1] != K) {
    return fail(Error::InvalidArgument, "%s: batch shapes %s and %s cannot be multiplied", ctx.op_name,
                shape_str(*a), shape_str(*b));
  }
  const int64_t sizes[3] = {B, M, N};
  WICK_TRY(resize(ctx, *out, sizes, 3));
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
  WICK_TRY(check_f32(ctx, *self, "self"));
  WICK_TRY(check_f32(ctx, *a, "mat1"));
  WICK_TRY(check_f32(ctx, *b, "mat2"));
  WICK_TRY(check_f32(ctx, *out, "out"));
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

WICK_REGISTER_KERNELS(matmul,
                      {"aten::mm.out", kF32, &mm_out, &mm_scratch},
                      {"aten::bmm.out", kF32, &bmm_out, &bmm_scratch},
                      {"aten::addmm.out", kF32, &addmm_out, &addmm_scratch})
