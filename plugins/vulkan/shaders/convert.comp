#version 450
// Float type conversion (`_to_copy` between float32 and float16): widening
// is exact, narrowing rounds to the nearest half (ties to even), overflowing
// to +-inf, like PyTorch. Both bindings are declared in both types (Vulkan
// lets descriptors alias); the plan binds float32 and float16 regions and
// always runs the float16 variant, the only one built (CMakeLists.txt).
// p[0] direction: 0 float16 -> float32, 1 float32 -> float16; p[1] total elements.
// bindings: 0 output, 1 input.
#include "common.glsl"
#ifndef STORAGE_F16
#error "convert.comp is built with -DSTORAGE_F16 only"
#endif
layout(local_size_x = 256) in;
layout(set = 0, binding = 0) writeonly buffer OutF { float yf[]; };
layout(set = 0, binding = 0) writeonly buffer OutH { float16_t yh[]; };
layout(set = 0, binding = 1) readonly buffer InF { float xf[]; };
layout(set = 0, binding = 1) readonly buffer InH { float16_t xh[]; };

void main() {
  uint i = flat_id();
  if (i >= uint(pc.p[1])) return;
  if (pc.p[0] == 0) yf[i] = float(xh[i]);
  else yh[i] = float16_t(xf[i]);
}
