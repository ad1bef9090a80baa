#version 450
// Row gather: out[t, :] = weight[index[t], :]. Indices are int64 (read as
// their low word; little-endian) or int32. An index outside [0, rows) gives
// a row of NaN (PyTorch raises; a shader cannot).
// p[0] number of indices, p[1] D (row length), p[2] rows, p[3] 1 for int64
// indices, p[4] total outputs.
// bindings: 0 output, 1 weight [rows, D], 2 indices.
#include "common.glsl"
layout(local_size_x = 256) in;
layout(set = 0, binding = 0) writeonly buffer Out { VALUE y[]; };
layout(set = 0, binding = 1) readonly buffer Wt { VALUE w[]; };
layout(set = 0, binding = 2) readonly buffer Idx { int idx[]; };

void main() {
  uint i = flat_id();
  if (i >= uint(pc.p[4])) return;
  int D = pc.p[1];
  int t = int(i) / D, d = int(i) % D;
  int row;
  if (pc.p[3] != 0) {
    int hi = idx[2 * t + 1];
    row = idx[2 * t];
    if (hi != 0) row = -1;
  } else {
    row = idx[t];
  }
  y[i] = VALUE((row >= 0 && row < pc.p[2]) ? float(w[row * D + d]) : intBitsToFloat(0x7fc00000));
}
