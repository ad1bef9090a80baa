// Branch-free float32 math that the compiler can vectorize (no libm calls in
// the loop body), for the hot elementwise kernels. Accuracy is that of a
// vectorized libm (about 1 ulp), which is what PyTorch's own CPU kernels use.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>

namespace wick {
namespace portable {

// exp(x): x = n*ln2 + r with |r| <= ln2/2 (Cody-Waite, two-part ln2),
// e^r by its degree-7 Taylor polynomial (truncation < 6e-9 relative), scaled
// by 2^(n-1) * 2 built from the exponent bits. exp(x) = +inf above
// 88.7228..., 0 below -86 (where the true value is < 4.5e-38, a subnormal).
// NaN stays NaN.
#if defined(__GNUC__)
#define WICK_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define WICK_ALWAYS_INLINE inline
#endif

// cond ? a : b as bit operations: a select GCC keeps out of control flow (a
// ?: on computed floats becomes a branch under -ftrapping-math, which stops
// vectorization).
WICK_ALWAYS_INLINE float select_f32(bool cond, float a, float b) {
  const int32_t m = -static_cast<int32_t>(cond);
  int32_t ia, ib;
  std::memcpy(&ia, &a, sizeof(ia));
  std::memcpy(&ib, &b, sizeof(ib));
  const int32_t r = (ia & m) | (ib & ~m);
  float f;
  std::memcpy(&f, &r, sizeof(f));
  return f;
}

WICK_ALWAYS_INLINE float exp_f32(float x) {
  float xc = select_f32(x > 88.72283935546875f, 88.72283935546875f, x);  // NaN stays NaN
  xc = select_f32(xc < -86.0f, -86.0f, xc);
  // n = round(xc / ln2): adding 1.5 * 2^23 leaves n in the low mantissa bits.
  const float shifted = xc * 1.44269504088896341f + 12582912.0f;
  const float n = shifted - 12582912.0f;
  int32_t shifted_bits;
  std::memcpy(&shifted_bits, &shifted, sizeof(shifted_bits));
  const int32_t ni = shifted_bits - 0x4B400000;  // n as an integer, |n| <= 128
  float r = xc - n * 0.693145751953125f;          // ln2, high part (exact product)
  r = r - n * 1.428606765330187045e-06f;          // ln2, low part
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  // 2^(n-1): n - 1 in [-125, 127]. Shifted unsigned: for a NaN input ni is
  // garbage (the result is NaN either way) and may be negative.
  const int32_t scale_bits = static_cast<int32_t>(static_cast<uint32_t>(ni + 126) << 23);
  float scale;
  std::memcpy(&scale, &scale_bits, sizeof(scale));
  float e = p * scale * 2.0f;
  e = select_f32(x > 88.72283935546875f, std::numeric_limits<float>::infinity(), e);
  e = select_f32(x < -86.0f, 0.0f, e);
  return e;
}

}  // namespace portable
}  // namespace wick
