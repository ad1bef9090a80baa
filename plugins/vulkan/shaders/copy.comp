#version 450
// Strided copy of elements (32-bit words, or halves in the float16 variant): permute, expand (broadcast), slice, select,
// cat (one dispatch per input, into an offset of the output), split.
// p[0..5] iteration sizes (6-D, leading 1s), p[6..11] input strides,
// p[12..17] output strides (in elements), p[18] input offset,
// p[19] output offset, p[20] total elements.
// bindings: 0 output, 1 input.
#include "common.glsl"
layout(local_size_x = 256) in;
layout(set = 0, binding = 0) writeonly buffer Out { WORD y[]; };
layout(set = 0, binding = 1) readonly buffer In { WORD x[]; };

void main() {
  uint i = flat_id();
  if (i >= uint(pc.p[20])) return;
  int r = int(i);
  int io = pc.p[18];
  int oo = pc.p[19];
  for (int d = 5; d >= 0; --d) {
    int s = pc.p[d];
    int c = r % s;
    r /= s;
    io += c * pc.p[6 + d];
    oo += c * pc.p[12 + d];
  }
  y[oo] = x[io];
}
