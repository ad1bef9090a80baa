#version 450
// (log-)softmax over the middle axis of an [outer, R, inner] view, one row
// per invocation: max, sum of exp(x - max), then the outputs.
// p[0] outer, p[1] R, p[2] inner, p[3] 1 for log_softmax, p[4] rows (outer * inner).
// bindings: 0 output, 1 input.
#include "common.glsl"
layout(local_size_x = 64) in;
layout(set = 0, binding = 0) writeonly buffer Out { VALUE y[]; };
layout(set = 0, binding = 1) readonly buffer In { VALUE x[]; };

void main() {
  uint i = flat_id();
  if (i >= uint(pc.p[4])) return;
  int R = pc.p[1], inner = pc.p[2];
  int base = (int(i) / inner) * R * inner + int(i) % inner;
  float m = -1.0 / 0.0;
  for (int r = 0; r < R; ++r) m = max(m, float(x[base + r * inner]));
  if (isinf(m) && m < 0.0) m = 0.0;  // a fully masked row: exp(-inf) = 0 everywhere
  float s = 0.0;
  for (int r = 0; r < R; ++r) s += exp(float(x[base + r * inner]) - m);
  if (pc.p[3] != 0) {
    float ls = log(s);
    for (int r = 0; r < R; ++r) y[base + r * inner] = VALUE(float(x[base + r * inner]) - m - ls);
  } else {
    float inv = 1.0 / s;
    for (int r = 0; r < R; ++r) y[base + r * inner] = VALUE(exp(float(x[base + r * inner]) - m) * inv);
  }
}
