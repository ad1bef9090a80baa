#include "portable/gemm.h"

#include <cstring>

namespace wick {
namespace portable {
namespace {

// Register tile (MR x NR accumulators) and cache blocks. The portable tile is
// 6 x 8 (12 SSE vectors of accumulators). On x86-64 with GCC/Clang a second
// copy of the inner kernel is compiled for AVX2+FMA (6 x 16, 12 YMM
// accumulators) and chosen at run time when the CPU has it; it is the same
// plain C++ loop, only vectorized wider by the compiler.
constexpr int64_t kMRPortable = 6;
constexpr int64_t kMRAvx2 = 5;  // 10 accumulators + 2 B vectors + 1 broadcast: no spills
constexpr int64_t kNRMax = 16;
constexpr int64_t kKC = 256;   // depth of a packed panel
constexpr int64_t kMC = 120;   // rows of A packed at once (MC x KC = 120 KiB, L2); multiple of both MRs
constexpr int64_t kNC = 1024;  // columns of B packed at once (KC x NC ~ 1 MiB)

inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
inline int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

// Ap: for each MR-row strip, kc columns of MR values (zero padded).
template <int64_t kMR>
void pack_a(const float* A, int64_t lda, int64_t mc, int64_t kc, float* Ap) {
  for (int64_t i0 = 0; i0 < mc; i0 += kMR) {
    const int64_t mr = min64(kMR, mc - i0);
    if (mr == kMR) {
      const float* r = A + i0 * lda;
      for (int64_t k = 0; k < kc; ++k) {
        for (int64_t i = 0; i < kMR; ++i) Ap[i] = r[i * lda + k];
        Ap += kMR;
      }
    } else {
      for (int64_t k = 0; k < kc; ++k) {
        for (int64_t i = 0; i < kMR; ++i) Ap[i] = i < mr ? A[(i0 + i) * lda + k] : 0.0f;
        Ap += kMR;
      }
    }
  }
}

// Bp: for each NR-column strip, kc rows of NR values (zero padded). B is read
// in bands of kBand rows, each band left to right: a few sequential streams
// that the hardware prefetcher follows (weights usually come from memory),
// written as contiguous kBand x NR blocks of each strip.
template <int64_t kNR>
void pack_b(const float* B, int64_t ldb, int64_t kc, int64_t nc, float* Bp) {
  constexpr int64_t kBand = 16;
  const int64_t full = nc / kNR;
  const int64_t rem = nc - full * kNR;
  for (int64_t k0 = 0; k0 < kc; k0 += kBand) {
    const int64_t kb = min64(kBand, kc - k0);
    for (int64_t s = 0; s < full; ++s) {
      const float* __restrict b = B + k0 * ldb + s * kNR;
      float* __restrict d = Bp + s * kNR * kc + k0 * kNR;
      for (int64_t k = 0; k < kb; ++k) {
        for (int64_t j = 0; j < kNR; ++j) d[j] = b[j];
        b += ldb;
        d += kNR;
      }
    }
    if (rem != 0) {
      const float* b = B + k0 * ldb + full * kNR;
      float* d = Bp + full * kNR * kc + k0 * kNR;
      for (int64_t k = 0; k < kb; ++k) {
        for (int64_t j = 0; j < kNR; ++j) d[j] = j < rem ? b[j] : 0.0f;
        b += ldb;
        d += kNR;
      }
    }
  }
}

// acc[MR][NR] = sum_k a[k][:] (outer) b[k][:]
template <int64_t kMR, int64_t kNR, bool kFma>
inline __attribute__((always_inline)) void micro_kernel_t(int64_t kc, const float* __restrict a,
                                                          const float* __restrict b, float* __restrict acc) {
  float c[kMR * kNR];
  for (int64_t t = 0; t < kMR * kNR; ++t) c[t] = 0.0f;
  for (int64_t k = 0; k < kc; ++k) {
#pragma GCC unroll 6
    for (int64_t i = 0; i < kMR; ++i) {
      const float av = a[i];
#pragma GCC unroll 16
      for (int64_t j = 0; j < kNR; ++j) {
        if (kFma) {
          c[i * kNR + j] = __builtin_fmaf(av, b[j], c[i * kNR + j]);
        } else {
          c[i * kNR + j] += av * b[j];
        }
      }
    }
    a += kMR;
    b += kNR;
  }
  for (int64_t t = 0; t < kMR * kNR; ++t) acc[t] = c[t];
}

using MicroKernel = void (*)(int64_t, const float*, const float*, float*);

void micro_kernel_portable(int64_t kc, const float* a, const float* b, float* acc) {
  micro_kernel_t<kMRPortable, 8, false>(kc, a, b, acc);
}

#if defined(__GNUC__) && defined(__x86_64__) && !defined(WICK_GEMM_PORTABLE_ONLY)
#define WICK_GEMM_X86_AVX2 1
__attribute__((target("avx2,fma"))) void micro_kernel_avx2(int64_t kc, const float* a, const float* b,
                                                            float* acc) {
  micro_kernel_t<kMRAvx2, 16, true>(kc, a, b, acc);
}

bool cpu_has_avx2_fma() {
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }();
  return has;
}
#endif

// C tile (mr x nr) = alpha * acc + beta * C   (beta == 0: C not read)
template <int64_t kMR, int64_t kNR>
inline void store_tile(const float* acc, int64_t mr, int64_t nr, float alpha, float beta, float* C, int64_t ldc) {
  for (int64_t i = 0; i < mr; ++i) {
    float* c = C + i * ldc;
    const float* s = acc + i * kNR;
    if (beta == 0.0f) {
      for (int64_t j = 0; j < nr; ++j) c[j] = alpha * s[j];
    } else if (beta == 1.0f) {
      for (int64_t j = 0; j < nr; ++j) c[j] += alpha * s[j];
    } else {
      for (int64_t j = 0; j < nr; ++j) c[j] = alpha * s[j] + beta * c[j];
    }
  }
}

void scale_c(int64_t M, int64_t N, float beta, float* C, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i) {
    float* c = C + i * ldc;
    if (beta == 0.0f) {
      for (int64_t j = 0; j < N; ++j) c[j] = 0.0f;
    } else if (beta != 1.0f) {
      for (int64_t j = 0; j < N; ++j) c[j] *= beta;
    }
  }
}

// Few rows (or no scratch): stream B once per row of A, vectorized over N.
void gemm_rows(int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, const float* B,
               int64_t ldb, float beta, float* C, int64_t ldc) {
  scale_c(M, N, beta, C, ldc);
  for (int64_t i = 0; i < M; ++i) {
    float* __restrict c = C + i * ldc;
    const float* a = A + i * lda;
    int64_t k = 0;
    for (; k + 4 <= K; k += 4) {
      const float a0 = alpha * a[k], a1 = alpha * a[k + 1], a2 = alpha * a[k + 2], a3 = alpha * a[k + 3];
      const float* __restrict b0 = B + k * ldb;
      const float* __restrict b1 = b0 + ldb;
      const float* __restrict b2 = b1 + ldb;
      const float* __restrict b3 = b2 + ldb;
      for (int64_t j = 0; j < N; ++j) c[j] += a0 * b0[j] + a1 * b1[j] + a2 * b2[j] + a3 * b3[j];
    }
    for (; k < K; ++k) {
      const float a0 = alpha * a[k];
      const float* __restrict b0 = B + k * ldb;
      for (int64_t j = 0; j < N; ++j) c[j] += a0 * b0[j];
    }
  }
}

}  // namespace

size_t gemm_scratch_bytes(int64_t M, int64_t N, int64_t K) {
  if (M <= 0 || N <= 0 || K <= 0) return 0;
  const int64_t kc = min64(K, kKC);
  const int64_t mc_a = round_up(min64(M, kMC), kMRAvx2);
  const int64_t mc_p = round_up(min64(M, kMC), kMRPortable);
  const int64_t mc = mc_a > mc_p ? mc_a : mc_p;
  const int64_t nc = round_up(min64(N, kNC), kNRMax);
  return static_cast<size_t>(mc * kc + kc * nc) * sizeof(float) + 64;
}

namespace {

template <int64_t kMR, int64_t kNR>
void gemm_packed(int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, const float* B,
                 int64_t ldb, float beta, float* C, int64_t ldc, void* scratch, MicroKernel micro) {
  // 64-byte align the packing buffers.
  uintptr_t p = reinterpret_cast<uintptr_t>(scratch);
  p = (p + 63) & ~static_cast<uintptr_t>(63);
  float* Bp = reinterpret_cast<float*>(p);
  const int64_t kc_max = min64(K, kKC);
  const int64_t nc_max = round_up(min64(N, kNC), kNR);
  float* Ap = Bp + kc_max * nc_max;
  alignas(64) float acc[kMR * kNR];

  for (int64_t jc = 0; jc < N; jc += kNC) {
    const int64_t nc = min64(kNC, N - jc);
    for (int64_t pc = 0; pc < K; pc += kKC) {
      const int64_t kc = min64(kKC, K - pc);
      const float beta_eff = pc == 0 ? beta : 1.0f;
      if (M <= kMC) {
        // One block of rows (small M, e.g. a linear layer over a sequence): B
        // (typically weights, coming from memory) is packed one strip at a
        // time, just before its row tiles run, and the next strip's rows are
        // prefetched a few at a time from those tiles, so the memory traffic
        // overlaps the arithmetic instead of preceding it.
        pack_a<kMR>(A + pc, lda, M, kc, Ap);
        const float* bsrc = B + pc * ldb + jc;
        const int64_t tiles = (M + kMR - 1) / kMR;
        const int64_t rows_per_tile = (kc + tiles - 1) / tiles;
        for (int64_t jr = 0; jr < nc; jr += kNR) {
          const int64_t nr = min64(kNR, nc - jr);
          pack_b<kNR>(bsrc + jr, ldb, kc, nr, Bp);
          const bool prefetch_next = jr + kNR < nc;
          for (int64_t ir = 0, t = 0; ir < M; ir += kMR, ++t) {
            if (prefetch_next) {
              const int64_t k0 = t * rows_per_tile, k1 = min64(kc, k0 + rows_per_tile);
              for (int64_t k = k0; k < k1; ++k) {
                const float* r = bsrc + k * ldb + jr + kNR;
                __builtin_prefetch(r);
                __builtin_prefetch(r + kNR - 1);
              }
            }
            micro(kc, Ap + ir * kc, Bp, acc);
            store_tile<kMR, kNR>(acc, min64(kMR, M - ir), nr, alpha, beta_eff, C + ir * ldc + jc + jr, ldc);
          }
        }
        continue;
      }
      pack_b<kNR>(B + pc * ldb + jc, ldb, kc, nc, Bp);
      for (int64_t ic = 0; ic < M; ic += kMC) {
        const int64_t mc = min64(kMC, M - ic);
        pack_a<kMR>(A + ic * lda + pc, lda, mc, kc, Ap);
        for (int64_t jr = 0; jr < nc; jr += kNR) {
          const int64_t nr = min64(kNR, nc - jr);
          const float* bp = Bp + jr * kc;
          for (int64_t ir = 0; ir < mc; ir += kMR) {
            const int64_t mr = min64(kMR, mc - ir);
            micro(kc, Ap + ir * kc, bp, acc);
            store_tile<kMR, kNR>(acc, mr, nr, alpha, beta_eff, C + (ic + ir) * ldc + jc + jr, ldc);
          }
        }
      }
    }
  }
}

}  // namespace

void gemm(int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, const float* B, int64_t ldb,
          float beta, float* C, int64_t ldc, void* scratch, size_t scratch_bytes) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == 0.0f) {
    scale_c(M, N, beta, C, ldc);
    return;
  }
  const size_t need = gemm_scratch_bytes(M, N, K);
  if (M < 4 || scratch == nullptr || scratch_bytes < need) {
    gemm_rows(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
#ifdef WICK_GEMM_X86_AVX2
  if (cpu_has_avx2_fma()) {
    gemm_packed<kMRAvx2, 16>(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, scratch, micro_kernel_avx2);
    return;
  }
#endif
  gemm_packed<kMRPortable, 8>(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, scratch, micro_kernel_portable);
}

}  // namespace portable
}  // namespace wick
