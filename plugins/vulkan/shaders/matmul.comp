#version 450
// Batched matrix product out[b] = act(beta * bias + alpha * A[b] @ B[b]) with
// strided A and B (transposes and broadcast batches cost nothing), each
// invocation computing a 4x4 block of the output (register blocking).
// Used for mm, bmm, addmm, linear and 1x1 convolutions (A = weight,
// B = the image as [C, H*W]).
// p[0] batch, p[1] M, p[2] N, p[3] K,
// p[4] A batch stride, p[5] A m stride, p[6] A k stride,
// p[7] B batch stride, p[8] B k stride, p[9] B n stride,
// p[10] bias m stride, p[11] bias n stride, p[12] has bias,
// p[13] alpha, p[14] beta, p[15] clamp low, p[16] clamp high (floats),
// p[17] output batch stride (elements; the output is [batch, M, N] rows).
// bindings: 0 output, 1 A, 2 B, 3 bias.
// Workgroups: x over N/32, y over M/32, z = batch.
#include "common.glsl"
layout(local_size_x = 8, local_size_y = 8) in;
layout(set = 0, binding = 0) writeonly buffer Out { VALUE y[]; };
layout(set = 0, binding = 1) readonly buffer A { VALUE a[]; };
layout(set = 0, binding = 2) readonly buffer B { VALUE b[]; };
layout(set = 0, binding = 3) readonly buffer Bias { VALUE bias[]; };

void main() {
  int M = pc.p[1], N = pc.p[2], K = pc.p[3];
  int n0 = int(gl_GlobalInvocationID.x) * 4;
  int m0 = int(gl_GlobalInvocationID.y) * 4;
  int bt = int(gl_GlobalInvocationID.z);
  if (n0 >= N || m0 >= M) return;
  int ask = pc.p[6], bsk = pc.p[8], bsn = pc.p[9];
  // Rows/columns past the edge read the last valid one and are not written.
  int ar[4], bc[4];
  for (int j = 0; j < 4; ++j) {
    ar[j] = bt * pc.p[4] + min(m0 + j, M - 1) * pc.p[5];
    bc[j] = bt * pc.p[7] + min(n0 + j, N - 1) * bsn;
  }
  vec4 acc[4] = vec4[4](vec4(0.0), vec4(0.0), vec4(0.0), vec4(0.0));
  for (int k = 0; k < K; ++k) {
    int kb = k * bsk;
    vec4 bv = vec4(float(b[bc[0] + kb]), float(b[bc[1] + kb]), float(b[bc[2] + kb]), float(b[bc[3] + kb]));
    int ka = k * ask;
    acc[0] += float(a[ar[0] + ka]) * bv;
    acc[1] += float(a[ar[1] + ka]) * bv;
    acc[2] += float(a[ar[2] + ka]) * bv;
    acc[3] += float(a[ar[3] + ka]) * bv;
  }
  float alpha = pf(13), beta = pf(14), lo = pf(15), hi = pf(16);
  for (int i = 0; i < 4; ++i) {
    int m = m0 + i;
    if (m >= M) break;
    for (int j = 0; j < 4; ++j) {
      int n = n0 + j;
      if (n >= N) break;
      float v = alpha * acc[i][j];
      if (pc.p[12] != 0) v += beta * float(bias[m * pc.p[10] + n * pc.p[11]]);
      y[bt * pc.p[17] + m * N + n] = VALUE(act(v, lo, hi));
    }
  }
}
