#version 450
// 2-D convolution, NCHW, each invocation computing 4 output channels x 4
// output pixels (register blocking: every input value loaded feeds 4 FMAs,
// every weight 4). Taken when C/groups and OC/groups allow it (the plan
// checks OC/groups % 4 == 0). Same push constants and bindings as conv2d.comp.
// Workgroups: x over pixel blocks (OH*OW/4), y over channel blocks (OC/4), z = N.
#include "common.glsl"
layout(local_size_x = 32, local_size_y = 2) in;
layout(set = 0, binding = 0) writeonly buffer Out { VALUE y[]; };
layout(set = 0, binding = 1) readonly buffer X { VALUE x[]; };
layout(set = 0, binding = 2) readonly buffer Wt { VALUE w[]; };
layout(set = 0, binding = 3) readonly buffer Bias { VALUE bias[]; };

void main() {
  int C = pc.p[1], H = pc.p[2], W = pc.p[3], OC = pc.p[4], OH = pc.p[5], OW = pc.p[6];
  int KH = pc.p[7], KW = pc.p[8];
  int P = OH * OW;
  int p0 = int(gl_GlobalInvocationID.x) * 4;
  int oc0 = int(gl_GlobalInvocationID.y) * 4;
  int n = int(gl_GlobalInvocationID.z);
  if (p0 >= P || oc0 >= OC) return;
  int cg = C / pc.p[15];
  int ic0 = (oc0 / (OC / pc.p[15])) * cg;
  int ih0[4], iw0[4];
  for (int j = 0; j < 4; ++j) {
    int p = min(p0 + j, P - 1);
    ih0[j] = (p / OW) * pc.p[9] - pc.p[11];
    iw0[j] = (p % OW) * pc.p[10] - pc.p[12];
  }
  vec4 acc[4];
  for (int o = 0; o < 4; ++o) acc[o] = vec4(pc.p[16] != 0 ? float(bias[oc0 + o]) : 0.0);
  int wstride = cg * KH * KW;
  for (int c = 0; c < cg; ++c) {
    int xbase = (n * C + ic0 + c) * H;
    for (int kh = 0; kh < KH; ++kh) {
      for (int kw = 0; kw < KW; ++kw) {
        vec4 xv;
        for (int j = 0; j < 4; ++j) {
          int ih = ih0[j] + kh * pc.p[13], iw = iw0[j] + kw * pc.p[14];
          bool ok = ih >= 0 && ih < H && iw >= 0 && iw < W;
          xv[j] = ok ? float(x[(xbase + ih) * W + iw]) : 0.0;
        }
        int wi = (oc0 * cg + c) * KH * KW + kh * KW + kw;
        acc[0] += float(w[wi]) * xv;
        acc[1] += float(w[wi + wstride]) * xv;
        acc[2] += float(w[wi + 2 * wstride]) * xv;
        acc[3] += float(w[wi + 3 * wstride]) * xv;
      }
    }
  }
  float lo = pf(17), hi = pf(18);
  for (int o = 0; o < 4; ++o) {
    int base = (n * OC + oc0 + o) * P;
    for (int j = 0; j < 4; ++j)
      if (p0 + j < P) y[base + p0 + j] = VALUE(act(acc[o][j], lo, hi));
  }
}
