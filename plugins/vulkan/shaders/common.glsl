// Shared by every shader: 32 push-constant words (ints, or floats by their
// bits) whose meaning each shader documents at its top, and the flat
// invocation index of a 1-D dispatch that may spill into y when it needs
// more than 65535 workgroups (the plan computes the counts).
layout(push_constant) uniform Push { int p[32]; } pc;

float pf(int i) { return intBitsToFloat(pc.p[i]); }

uint flat_id() {
  return gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x;
}

// The fused output activation of conv/matmul/binary: clamp(v, lo, hi), with
// NaN kept (PyTorch's relu/hardtanh propagate NaN).
float act(float v, float lo, float hi) { return isnan(v) ? v : min(max(v, lo), hi); }
