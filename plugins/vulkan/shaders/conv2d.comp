#version 450
// Direct 2-D convolution, NCHW, one output element per invocation (used for
// depthwise and grouped convolutions and shapes the tiled shader does not take).
// p[0] N, p[1] C, p[2] H, p[3] W, p[4] OC, p[5] OH, p[6] OW, p[7] KH, p[8] KW,
// p[9] stride h, p[10] stride w, p[11] pad h, p[12] pad w, p[13] dilation h,
// p[14] dilation w, p[15] groups, p[16] has bias, p[17] clamp low,
// p[18] clamp high (floats), p[19] total output elements.
// bindings: 0 output [N,OC,OH,OW], 1 input [N,C,H,W], 2 weight [OC,C/g,KH,KW],
// 3 bias [OC].
#include "common.glsl"
layout(local_size_x = 256) in;
layout(set = 0, binding = 0) writeonly buffer Out { VALUE y[]; };
layout(set = 0, binding = 1) readonly buffer X { VALUE x[]; };
layout(set = 0, binding = 2) readonly buffer Wt { VALUE w[]; };
layout(set = 0, binding = 3) readonly buffer Bias { VALUE bias[]; };

void main() {
  uint i = flat_id();
  if (i >= uint(pc.p[19])) return;
  int C = pc.p[1], H = pc.p[2], W = pc.p[3], OC = pc.p[4], OH = pc.p[5], OW = pc.p[6];
  int KH = pc.p[7], KW = pc.p[8];
  int r = int(i);
  int ow = r % OW; r /= OW;
  int oh = r % OH; r /= OH;
  int oc = r % OC;
  int n = r / OC;
  int cg = C / pc.p[15];
  int ic0 = (oc / (OC / pc.p[15])) * cg;
  int ih0 = oh * pc.p[9] - pc.p[11], iw0 = ow * pc.p[10] - pc.p[12];
  float acc = pc.p[16] != 0 ? float(bias[oc]) : 0.0;
  for (int c = 0; c < cg; ++c) {
    int xbase = (n * C + ic0 + c) * H;
    int wbase = (oc * cg + c) * KH;
    for (int kh = 0; kh < KH; ++kh) {
      int ih = ih0 + kh * pc.p[13];
      if (ih < 0 || ih >= H) continue;
      for (int kw = 0; kw < KW; ++kw) {
        int iw = iw0 + kw * pc.p[14];
        if (iw < 0 || iw >= W) continue;
        acc += float(x[(xbase + ih) * W + iw]) * float(w[(wbase + kh) * KW + kw]);
      }
    }
  }
  y[i] = VALUE(act(acc, pf(17), pf(18)));
}
