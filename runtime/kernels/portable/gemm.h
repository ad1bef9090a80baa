// Single-precision GEMM used by mm/bmm/addmm and convolution:
//   C = alpha * A @ B + beta * C
// with row-major A (M x K, row stride lda), B (K x N, ldb), C (M x N, ldc).
// Blocked for caches (B and A panels are packed into caller scratch) around a
// register-tile inner kernel written as plain loops that the compiler
// auto-vectorizes. beta == 0 never reads C (so garbage/NaN there is ignored).
#pragma once

#include <cstddef>
#include <cstdint>

namespace wick {
namespace portable {

// Scratch bytes gemm() wants for packing, for these sizes (0 when empty).
size_t gemm_scratch_bytes(int64_t M, int64_t N, int64_t K);

// `scratch` should hold gemm_scratch_bytes(M, N, K) bytes; with less (or
// null) gemm() falls back to an unpacked, slower path. Never fails.
void gemm(int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, const float* B, int64_t ldb,
          float beta, float* C, int64_t ldc, void* scratch, size_t scratch_bytes);

}  // namespace portable
}  // namespace wick
