#version 450
// Elementwise f(x) with up to two float parameters.
// p[0] op: 0 clamp(x, p2, p3) (relu, relu6, hardtanh, clamp), 1 sigmoid,
//          2 tanh, 3 gelu (erf), 4 gelu (tanh approximation), 5 silu,
//          6 rsqrt, 7 sqrt, 8 exp, 9 neg, 10 pow(x, p2), 11 x + p2,
//          12 x * p2, 13 x / p2, 14 abs, 15 log, 16 hardswish,
//          17 hardsigmoid, 18 reciprocal, 19 p2 - x (rsub)
// p[1] total elements; p[2], p[3] float parameters.
// bindings: 0 output, 1 input.
#include "common.glsl"
layout(local_size_x = 256) in;
layout(set = 0, binding = 0) writeonly buffer Out { VALUE y[]; };
layout(set = 0, binding = 1) readonly buffer In { VALUE x[]; };

// erf with |error| < 1.2e-7 (Numerical Recipes' erfc, Chebyshev fit): GLSL
// has no erf, and exact GELU needs one.
float erf_(float v) {
  float z = abs(v);
  float t = 1.0 / (1.0 + 0.5 * z);
  float r = t * exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
            t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
            t * (-0.82215223 + t * 0.17087277)))))))));
  return v >= 0.0 ? 1.0 - r : r - 1.0;
}

// exp to a few ULP over the whole float range. GLSL's exp() may be computed
// as exp2(x * log2(e)), whose rounding of the product costs ~|x| ULP near the
// overflow bound (exp(88.5) was 12 ULP off on lavapipe). Cody-Waite range
// reduction: x = n ln2 + r with |r| <= ln2/2, a degree-7 Taylor polynomial
// for exp(r), then the exact scaling by 2^n in two halves (2^128 alone would
// overflow before the product comes back in range), each power of two built
// from its bits: ldexp() may itself go through an approximate exp2().
float exp_(float v) {
  if (isnan(v)) return v;
  if (v > 88.72283935546875) return intBitsToFloat(0x7f800000);  // +inf, like expf
  if (v < -103.972076416015625) return 0.0;
  // `precise`: the driver's compiler must not reassociate the reduction.
  float n = round(v * 1.4426950408889634);
  precise float r = (v - n * 0.693145751953125) - n * 1.428606765330187e-06;  // ln2 = hi + lo, hi exact in 16 bits
  precise float q = 1.0 + r * (1.0 + r * (0.5 + r * (0.16666667 + r * (0.041666668 + r * (0.008333334 +
            r * (0.0013888889 + r * 0.0001984127))))));
  int k = int(n), k1 = k / 2;
  return q * intBitsToFloat((k1 + 127) << 23) * intBitsToFloat((k - k1 + 127) << 23);
}

// tanh that saturates instead of overflowing exp() for large |v|.
float tanh_(float v) { return abs(v) > 9.0 ? sign(v) : tanh(v); }

float sigmoid_(float v) { return 1.0 / (1.0 + exp(-v)); }

// pow(x, scalar) as PyTorch computes it: exponents 0.5, 2, 3, -0.5, -1, -2
// are sqrt / products / reciprocals (so pow(-inf, 0.5) is NaN and
// pow(-0, 0.5) is -0, unlike C's powf); any other exponent is powf.
float pow_scalar(float v, float e) {
  if (e == 0.5) return sqrt(v);
  if (e == 2.0) return v * v;
  if (e == 3.0) return v * v * v;
  if (e == -0.5) return 1.0 / sqrt(v);
  if (e == -1.0) return 1.0 / v;
  if (e == -2.0) return 1.0 / (v * v);
  return pow_c(v, e);
}

// log that keeps subnormal inputs: the driver's log may read only the
// exponent field of a subnormal (log(1e-40) came out as -88.0, not -92.1).
// A subnormal is m * 2^-149 with an integer m < 2^23, exact as a float.
float log_(float v) {
  if (v > 0.0 && v < 1.17549435e-38) return log(float(floatBitsToInt(v))) - 149.0 * 0.6931471805599453;
  return log(v);
}

void main() {
  uint i = flat_id();
  if (i >= uint(pc.p[1])) return;
  float v = float(x[i]), p2 = pf(2), p3 = pf(3), o;
  switch (pc.p[0]) {
    case 0: o = act(v, p2, p3); break;
    case 1: o = sigmoid_(v); break;
    case 2: o = tanh_(v); break;
    case 3: o = 0.5 * v * (1.0 + erf_(v * 0.70710678118654752)); break;
    case 4: o = 0.5 * v * (1.0 + tanh_(0.79788456080286536 * (v + 0.044715 * v * v * v))); break;
    case 5: o = v * sigmoid_(v); break;
    case 6: o = inversesqrt(v); break;
    case 7: o = sqrt(v); break;
    case 8: o = exp_(v); break;
    case 9: o = -v; break;
    case 10: o = pow_scalar(v, p2); break;
    case 11: o = v + p2; break;
    case 12: o = v * p2; break;
    case 13: o = v / p2; break;
    case 14: o = abs(v); break;
    case 15: o = log_(v); break;
    case 16: o = v * clamp(v + 3.0, 0.0, 6.0) / 6.0; break;
    case 17: o = clamp(v + 3.0, 0.0, 6.0) / 6.0; break;
    case 18: o = 1.0 / v; break;
    default: o = p2 - v; break;
  }
  y[i] = VALUE(o);
}
