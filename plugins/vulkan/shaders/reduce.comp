#version 450
// Reduction over the middle axis of an [outer, R, inner] view (mean, sum,
// amax over contiguous dims), one output element per invocation.
// p[0] outer, p[1] R, p[2] inner, p[3] op (0 sum, 1 mean, 2 max, 3 min),
// p[4] total outputs (outer * inner).
// bindings: 0 output [outer, inner], 1 input.
#include "common.glsl"
layout(local_size_x = 64) in;
layout(set = 0, binding = 0) writeonly buffer Out { VALUE y[]; };
layout(set = 0, binding = 1) readonly buffer In { VALUE x[]; };

void main() {
  uint i = flat_id();
  if (i >= uint(pc.p[4])) return;
  int R = pc.p[1], inner = pc.p[2], op = pc.p[3];
  int o = int(i) / inner, in_ = int(i) % inner;
  int base = o * R * inner + in_;
  float acc = op == 2 ? -1.0 / 0.0 : (op == 3 ? 1.0 / 0.0 : 0.0);
  for (int r = 0; r < R; ++r) {
    float v = float(x[base + r * inner]);
    if (op <= 1) acc += v;
    else if (isnan(v)) acc = v;
    else if (!isnan(acc)) acc = op == 2 ? max(acc, v) : min(acc, v);
  }
  y[i] = VALUE(op == 1 ? acc / float(R) : acc);
}
