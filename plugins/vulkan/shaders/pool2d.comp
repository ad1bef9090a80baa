#version 450
// 2-D max or average pooling, NCHW, one output element per invocation,
// following PyTorch's window rules (ceil_mode windows that start in the
// right padding are already excluded by the output size the plan passes).
// p[0] N*C, p[1] H, p[2] W, p[3] OH, p[4] OW, p[5] KH, p[6] KW,
// p[7] stride h, p[8] stride w, p[9] pad h, p[10] pad w, p[11] dilation h,
// p[12] dilation w, p[13] mode (0 max, 1 average), p[14] count_include_pad,
// p[15] divisor override (0: none), p[16] total output elements.
// bindings: 0 output, 1 input.
#include "common.glsl"
layout(local_size_x = 256) in;
layout(set = 0, binding = 0) writeonly buffer Out { VALUE y[]; };
layout(set = 0, binding = 1) readonly buffer In { VALUE x[]; };

void main() {
  uint i = flat_id();
  if (i >= uint(pc.p[16])) return;
  int H = pc.p[1], W = pc.p[2], OH = pc.p[3], OW = pc.p[4];
  int r = int(i);
  int ow = r % OW; r /= OW;
  int oh = r % OH;
  int nc = r / OH;
  int hs = oh * pc.p[7] - pc.p[9], ws = ow * pc.p[8] - pc.p[10];
  int base = nc * H * W;
  if (pc.p[13] == 0) {
    float m = -1.0 / 0.0;
    for (int kh = 0; kh < pc.p[5]; ++kh) {
      int ih = hs + kh * pc.p[11];
      if (ih < 0 || ih >= H) continue;
      for (int kw = 0; kw < pc.p[6]; ++kw) {
        int iw = ws + kw * pc.p[12];
        if (iw < 0 || iw >= W) continue;
        float v = float(x[base + ih * W + iw]);
        if (v > m || isnan(v)) m = v;
      }
    }
    y[i] = VALUE(m);
  } else {
    int he = min(hs + pc.p[5], H + pc.p[9]), we = min(ws + pc.p[6], W + pc.p[10]);
    int padded = (he - hs) * (we - ws);
    int h0 = max(hs, 0), w0 = max(ws, 0), h1 = min(he, H), w1 = min(we, W);
    float s = 0.0;
    for (int ih = h0; ih < h1; ++ih)
      for (int iw = w0; iw < w1; ++iw) s += float(x[base + ih * W + iw]);
    int div = pc.p[15] != 0 ? pc.p[15] : (pc.p[14] != 0 ? padded : (h1 - h0) * (w1 - w0));
    y[i] = VALUE(s / float(div));
  }
}
