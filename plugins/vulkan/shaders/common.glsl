// Every shader is compiled twice (CMakeLists.txt): VALUE, the element type
// of its floating-point buffers, is float, or with -DSTORAGE_F16 float16_t
// (VK_KHR_16bit_storage, feature storageBuffer16BitAccess). Storage only:
// loads widen to float with float(), stores narrow with VALUE(), so the
// arithmetic and every accumulator stay float32 in both variants (the
// device need not have shaderFloat16). WORD is the raw element of the copy
// shader: 32-bit words, or 16-bit halves.
#ifdef STORAGE_F16
#extension GL_EXT_shader_16bit_storage : require
#define VALUE float16_t
#define WORD uint16_t
#else
#define VALUE float
#define WORD uint
#endif

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

// C's powf, special cases included (GLSL's pow is undefined for x < 0 and
// says nothing about zeros, infinities or NaN; PyTorch follows C).
bool odd_integer(float e) { return floor(e) == e && abs(e) < 16777216.0 && mod(e, 2.0) == 1.0; }

float pow_c(float v, float e) {
  const float INF = intBitsToFloat(0x7f800000);
  if (e == 0.0 || v == 1.0) return 1.0;
  if (isnan(v) || isnan(e)) return intBitsToFloat(0x7fc00000);
  if (e == 1.0) return v;
  if (e == 2.0) return v * v;
  if (v == 0.0) {  // +-0
    bool keep_sign = odd_integer(e);
    float r = e < 0.0 ? INF : 0.0;
    return keep_sign && floatBitsToInt(v) < 0 ? -r : r;
  }
  if (isinf(e)) {
    float a = abs(v);
    if (a == 1.0) return 1.0;
    return (a < 1.0) == (e < 0.0) ? INF : 0.0;
  }
  if (isinf(v)) {
    float r = e < 0.0 ? 0.0 : INF;
    return v < 0.0 && odd_integer(e) ? -r : r;
  }
  if (e == 0.5) return sqrt(v);  // v finite and nonzero here: NaN for v < 0, like powf
  if (v > 0.0) return pow(v, e);
  if (floor(e) != e) return intBitsToFloat(0x7fc00000);
  float r = pow(-v, e);
  return odd_integer(e) ? -r : r;
}
