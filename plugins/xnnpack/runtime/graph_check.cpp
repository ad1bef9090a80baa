// Whole-graph validation of a WXNN blob (see graph_check.h): every count,
// index, parameter and shape XNNPACK will rely on, checked before it sees any.
#include "graph_check.h"

#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <new>

namespace wick_xnnpack {

namespace {

constexpr uint32_t kNone = 0xFFFFFFFFu;      // XNN_INVALID_VALUE_ID: an absent bias
constexpr uint32_t kFlagTransposeB = 0x1;    // XNN_FLAG_TRANSPOSE_WEIGHTS / XNN_FLAG_TRANSPOSE_B
constexpr uint32_t kFlagNoBroadcast = 0x1000;
constexpr uint32_t kFlagKeepDims = 0x40;

struct Shape {
  size_t rank = 0;
  uint64_t d[kMaxDims] = {};
};

bool report(char* error, size_t error_size, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
bool report(char* error, size_t error_size, const char* fmt, ...) {
  if (error != nullptr && error_size > 0) {
    int n = std::snprintf(error, error_size, "xnnpack: invalid delegate blob: ");
    va_list args;
    va_start(args, fmt);
    if (n >= 0 && static_cast<size_t>(n) < error_size) std::vsnprintf(error + n, error_size - n, fmt, args);
    va_end(args);
  }
  return false;
}

bool same(const Shape& a, const Shape& b) {
  if (a.rank != b.rank) return false;
  for (size_t i = 0; i < a.rank; ++i) {
    if (a.d[i] != b.d[i]) return false;
  }
  return true;
}

// Operand counts: exact, or at least `min` when `variadic`.
struct Arity {
  uint32_t min;
  bool variadic;
};

Arity arity(fb::OpKind k) {
  switch (k) {
    case fb::OpKind::Convolution2d: case fb::OpKind::DepthwiseConvolution2d: case fb::OpKind::Deconvolution2d:
    case fb::OpKind::FullyConnected: return {3, false};
    case fb::OpKind::Add: case fb::OpKind::Subtract: case fb::OpKind::Multiply: case fb::OpKind::Divide:
    case fb::OpKind::Maximum: case fb::OpKind::Minimum: case fb::OpKind::SquaredDifference:
    case fb::OpKind::Prelu: case fb::OpKind::BatchMatrixMultiply: return {2, false};
    case fb::OpKind::Concatenate: return {2, true};
    default: return {1, false};
  }
}

// Parameter counts: exact, or -1 where the rule depends on the input's rank.
int param_count(fb::OpKind k) {
  switch (k) {
    case fb::OpKind::Convolution2d: return 13;
    case fb::OpKind::DepthwiseConvolution2d: return 12;
    case fb::OpKind::Deconvolution2d: return 15;
    case fb::OpKind::MaxPooling2d: return 10;
    case fb::OpKind::AveragePooling2d: return 8;
    case fb::OpKind::StaticResizeBilinear2d: return 2;
    case fb::OpKind::DepthToSpace: return 1;
    case fb::OpKind::Concatenate: return 1;
    case fb::OpKind::StaticReshape: case fb::OpKind::StaticConstantPad: case fb::OpKind::StaticTranspose:
    case fb::OpKind::StaticSlice: case fb::OpKind::ReduceSum: case fb::OpKind::ReduceMean:
    case fb::OpKind::ReduceMax: return -1;
    default: return 0;
  }
}

// Output extent of a window sliding over `in` (convolution, pooling), as
// XNNPACK computes it; 0 when the padded input is smaller than the window.
uint64_t window_out(uint64_t in, int64_t pad, int64_t kernel, int64_t dilation, int64_t stride) {
  uint64_t padded = in + static_cast<uint64_t>(pad);
  uint64_t effective = static_cast<uint64_t>((kernel - 1) * dilation + 1);
  if (padded < effective) return 0;
  return (padded - effective) / static_cast<uint64_t>(stride) + 1;
}

class NodeChecker {
 public:
  NodeChecker(const fb::Node* n, uint32_t index, const Shape* shapes, char* error, size_t error_size)
      : n_(n), index_(index), shapes_(shapes), error_(error), error_size_(error_size) {}

  bool check() {
    const auto* p = n_->params();
    num_params_ = p ? p->size() : 0;
    for (uint32_t i = 0; i < num_params_; ++i) params_[i < kMaxParams ? i : kMaxParams - 1] = p->Get(i);
    x_ = shapes_[n_->inputs()->Get(0)];
    out_ = shapes_[n_->outputs()->Get(0)];
    switch (n_->kind()) {
      case fb::OpKind::Convolution2d: return convolution();
      case fb::OpKind::DepthwiseConvolution2d: return depthwise();
      case fb::OpKind::Deconvolution2d: return deconvolution();
      case fb::OpKind::FullyConnected: return fully_connected();
      case fb::OpKind::MaxPooling2d: return pooling(true);
      case fb::OpKind::AveragePooling2d: return pooling(false);
      case fb::OpKind::GlobalAveragePooling2d: return global_pooling();
      case fb::OpKind::Add: case fb::OpKind::Subtract: case fb::OpKind::Multiply: case fb::OpKind::Divide:
      case fb::OpKind::Maximum: case fb::OpKind::Minimum: case fb::OpKind::SquaredDifference:
      case fb::OpKind::Prelu: return binary();
      case fb::OpKind::StaticReshape: return reshape();
      case fb::OpKind::StaticConstantPad: return pad();
      case fb::OpKind::StaticResizeBilinear2d: return resize();
      case fb::OpKind::DepthToSpace: return depth_to_space();
      case fb::OpKind::StaticTranspose: return transpose();
      case fb::OpKind::Concatenate: return concatenate();
      case fb::OpKind::StaticSlice: return slice();
      case fb::OpKind::BatchMatrixMultiply: return batch_matmul();
      case fb::OpKind::ReduceSum: case fb::OpKind::ReduceMean: case fb::OpKind::ReduceMax: return reduce();
      default: return elementwise();
    }
  }

 private:
  static constexpr uint32_t kMaxParams = 16;

  bool bad(const char* what) {
    return report(error_, error_size_, "node %u (%s): %s", index_, fb::EnumNameOpKind(n_->kind()), what);
  }
  const Shape& operand(uint32_t i) { return shapes_[n_->inputs()->Get(i)]; }
  bool has_bias() { return n_->inputs()->Get(2) != kNone; }
  // Parameters [first, first + count) in [lo, kMaxWindow].
  bool params_in(uint32_t first, uint32_t count, int64_t lo) {
    for (uint32_t i = first; i < first + count; ++i) {
      if (params_[i] < lo || params_[i] > kMaxWindow) return false;
    }
    return true;
  }
  bool output_is(const Shape& want) { return same(out_, want) || bad("output shape disagrees with its inputs"); }

  bool elementwise() { return output_is(x_); }

  bool convolution() {
    // pads t,r,b,l, kernel h,w, stride h,w, dilation h,w, groups, group in, group out
    if (!params_in(0, 4, 0) || !params_in(4, 9, 1)) return bad("parameter out of range");
    const Shape& f = operand(1);
    uint64_t groups = params_[10], gic = params_[11], goc = params_[12];
    if (x_.rank != 4 || x_.d[3] != groups * gic) return bad("input is not [N,H,W,groups*group_input_channels]");
    if (f.rank != 4 || f.d[0] != groups * goc || f.d[1] != static_cast<uint64_t>(params_[4]) ||
        f.d[2] != static_cast<uint64_t>(params_[5]) || f.d[3] != gic) {
      return bad("filter shape disagrees with the parameters");
    }
    if (has_bias() && (operand(2).rank != 1 || operand(2).d[0] != groups * goc)) return bad("bias shape");
    Shape want = x_;
    want.d[1] = window_out(x_.d[1], params_[0] + params_[2], params_[4], params_[8], params_[6]);
    want.d[2] = window_out(x_.d[2], params_[1] + params_[3], params_[5], params_[9], params_[7]);
    want.d[3] = groups * goc;
    if (want.d[1] == 0 || want.d[2] == 0) return bad("kernel larger than the padded input");
    return output_is(want);
  }

  bool depthwise() {
    // pads t,r,b,l, kernel h,w, stride h,w, dilation h,w, multiplier, input channels
    if (!params_in(0, 4, 0) || !params_in(4, 8, 1)) return bad("parameter out of range");
    const Shape& f = operand(1);
    uint64_t mult = params_[10], channels = params_[11];
    if (x_.rank != 4 || x_.d[3] != channels) return bad("input is not [N,H,W,input_channels]");
    if (f.rank != 4 || f.d[0] != 1 || f.d[1] != static_cast<uint64_t>(params_[4]) ||
        f.d[2] != static_cast<uint64_t>(params_[5]) || f.d[3] != channels * mult) {
      return bad("filter shape disagrees with the parameters");
    }
    if (has_bias() && (operand(2).rank != 1 || operand(2).d[0] != channels * mult)) return bad("bias shape");
    Shape want = x_;
    want.d[1] = window_out(x_.d[1], params_[0] + params_[2], params_[4], params_[8], params_[6]);
    want.d[2] = window_out(x_.d[2], params_[1] + params_[3], params_[5], params_[9], params_[7]);
    want.d[3] = channels * mult;
    if (want.d[1] == 0 || want.d[2] == 0) return bad("kernel larger than the padded input");
    return output_is(want);
  }

  bool deconvolution() {
    // pads t,r,b,l, adjustment h,w, kernel h,w, upsampling h,w, dilation h,w, groups, group in, group out
    if (!params_in(0, 6, 0) || !params_in(6, 9, 1)) return bad("parameter out of range");
    if (params_[4] >= params_[8] || params_[5] >= params_[9]) return bad("adjustment not below the upsampling");
    const Shape& f = operand(1);
    uint64_t groups = params_[12], gic = params_[13], goc = params_[14];
    if (x_.rank != 4 || x_.d[3] != groups * gic) return bad("input is not [N,H,W,groups*group_input_channels]");
    if (f.rank != 4 || f.d[0] != groups * goc || f.d[1] != static_cast<uint64_t>(params_[6]) ||
        f.d[2] != static_cast<uint64_t>(params_[7]) || f.d[3] != gic) {
      return bad("filter shape disagrees with the parameters");
    }
    if (has_bias() && (operand(2).rank != 1 || operand(2).d[0] != groups * goc)) return bad("bias shape");
    Shape want = x_;
    for (int k = 0; k < 2; ++k) {
      uint64_t in = x_.d[1 + k];
      if (in == 0) return bad("empty input");
      uint64_t full = static_cast<uint64_t>(params_[8 + k]) * (in - 1) + static_cast<uint64_t>(params_[4 + k]) +
                      static_cast<uint64_t>((params_[6 + k] - 1) * params_[10 + k] + 1);
      uint64_t pads = static_cast<uint64_t>(params_[k] + params_[k + 2]);  // t+b, then r+l
      if (full <= pads) return bad("padding removes the whole output");
      want.d[1 + k] = full - pads;
    }
    want.d[3] = groups * goc;
    return output_is(want);
  }

  bool fully_connected() {
    const Shape& f = operand(1);
    if (x_.rank < 1 || f.rank != 2) return bad("input or filter rank");
    bool transposed = (n_->flags() & kFlagTransposeB) != 0;
    uint64_t k = transposed ? f.d[0] : f.d[1], outs = transposed ? f.d[1] : f.d[0];
    if (x_.d[x_.rank - 1] != k) return bad("input channels disagree with the filter");
    if (has_bias() && (operand(2).rank != 1 || operand(2).d[0] != outs)) return bad("bias shape");
    if (n_->flags() & ~kFlagTransposeB) return bad("unsupported flags");
    Shape want = x_;
    want.d[x_.rank - 1] = outs;
    return output_is(want);
  }

  bool pooling(bool max) {
    // pads t,r,b,l, pool h,w, stride h,w[, dilation h,w]
    if (!params_in(0, 4, 0) || !params_in(4, max ? 6 : 4, 1)) return bad("parameter out of range");
    if (params_[4] * params_[5] < 2) return bad("a 1x1 pooling window");
    if (x_.rank != 4) return bad("input is not 4-D");
    int64_t dh = max ? params_[8] : 1, dw = max ? params_[9] : 1;
    Shape want = x_;
    want.d[1] = window_out(x_.d[1], params_[0] + params_[2], params_[4], dh, params_[6]);
    want.d[2] = window_out(x_.d[2], params_[1] + params_[3], params_[5], dw, params_[7]);
    if (want.d[1] == 0 || want.d[2] == 0) return bad("window larger than the padded input");
    return output_is(want);
  }

  bool global_pooling() {
    if (x_.rank != 4) return bad("input is not 4-D");
    Shape want = x_;
    want.d[1] = want.d[2] = 1;
    if (out_.rank == 2) {  // [N, C]
      want.rank = 2;
      want.d[1] = x_.d[3];
    }
    return output_is(want);
  }

  bool binary() {
    const Shape& y = operand(1);
    Shape want;
    want.rank = x_.rank > y.rank ? x_.rank : y.rank;
    for (size_t i = 0; i < want.rank; ++i) {  // numpy broadcasting, aligned at the innermost dim
      uint64_t a = i < want.rank - x_.rank ? 1 : x_.d[i - (want.rank - x_.rank)];
      uint64_t b = i < want.rank - y.rank ? 1 : y.d[i - (want.rank - y.rank)];
      if (a != b && a != 1 && b != 1) return bad("operands do not broadcast");
      want.d[i] = a == 1 ? b : a;
    }
    return output_is(want);
  }

  bool reshape() {
    if (num_params_ != out_.rank) return bad("shape parameters disagree with the output's rank");
    uint64_t numel_in = 1, numel_out = 1;
    for (size_t i = 0; i < x_.rank; ++i) numel_in *= x_.d[i];
    for (size_t i = 0; i < out_.rank; ++i) {
      if (params_[i] < 0 || static_cast<uint64_t>(params_[i]) != out_.d[i]) return bad("shape parameter");
      numel_out *= out_.d[i];
    }
    return numel_in == numel_out || bad("element count changes");
  }

  bool pad() {
    if (num_params_ != 2 * x_.rank) return bad("one pre and one post padding per dim expected");
    Shape want = x_;
    for (size_t i = 0; i < x_.rank; ++i) {
      if (!params_in(static_cast<uint32_t>(i), 1, 0) || !params_in(static_cast<uint32_t>(x_.rank + i), 1, 0)) {
        return bad("padding out of range");
      }
      want.d[i] += static_cast<uint64_t>(params_[i] + params_[x_.rank + i]);
    }
    return output_is(want);
  }

  bool resize() {
    if (!params_in(0, 2, 1) || x_.rank != 4) return bad("parameter or input rank");
    Shape want = x_;
    want.d[1] = static_cast<uint64_t>(params_[0]);
    want.d[2] = static_cast<uint64_t>(params_[1]);
    return output_is(want);
  }

  bool depth_to_space() {
    if (!params_in(0, 1, 2) || x_.rank != 4) return bad("block size or input rank");
    uint64_t b = static_cast<uint64_t>(params_[0]);
    if (x_.d[3] % (b * b) != 0) return bad("channels not a multiple of block_size^2");
    Shape want = x_;
    want.d[1] *= b;
    want.d[2] *= b;
    want.d[3] /= b * b;
    return output_is(want);
  }

  bool transpose() {
    if (num_params_ != x_.rank || x_.rank == 0) return bad("one permutation entry per dim expected");
    bool seen[kMaxDims] = {};
    Shape want = x_;
    for (size_t i = 0; i < x_.rank; ++i) {
      int64_t p = params_[i];
      if (p < 0 || static_cast<size_t>(p) >= x_.rank || seen[p]) return bad("not a permutation");
      seen[p] = true;
      want.d[i] = x_.d[p];
    }
    return output_is(want);
  }

  bool concatenate() {
    int64_t axis = params_[0];
    if (x_.rank == 0 || axis < 0 || static_cast<size_t>(axis) >= x_.rank) return bad("axis out of range");
    Shape want = x_;
    for (uint32_t i = 1; i < n_->inputs()->size(); ++i) {
      const Shape& y = operand(i);
      if (y.rank != x_.rank) return bad("inputs of different ranks");
      for (size_t k = 0; k < x_.rank; ++k) {
        if (k != static_cast<size_t>(axis) && y.d[k] != x_.d[k]) return bad("inputs disagree off the axis");
      }
      want.d[axis] += y.d[axis];
    }
    return output_is(want);
  }

  bool slice() {
    if (num_params_ != 2 * x_.rank || x_.rank == 0) return bad("one offset and one size per dim expected");
    Shape want = x_;
    for (size_t i = 0; i < x_.rank; ++i) {
      int64_t offset = params_[i], size = params_[x_.rank + i];
      if (offset < 0 || size < 1 || static_cast<uint64_t>(offset) + static_cast<uint64_t>(size) > x_.d[i]) {
        return bad("slice outside the input");
      }
      want.d[i] = static_cast<uint64_t>(size);
    }
    return output_is(want);
  }

  bool batch_matmul() {
    const Shape& y = operand(1);
    if (x_.rank < 3 || y.rank != x_.rank) return bad("operands must be at least 3-D and of one rank");
    if (n_->flags() & ~(kFlagTransposeB | kFlagNoBroadcast)) return bad("unsupported flags");
    bool tb = (n_->flags() & kFlagTransposeB) != 0;
    size_t r = x_.rank;
    uint64_t m = x_.d[r - 2], k = x_.d[r - 1];
    uint64_t yk = tb ? y.d[r - 1] : y.d[r - 2], nn = tb ? y.d[r - 2] : y.d[r - 1];
    if (k != yk) return bad("inner dimensions disagree");
    Shape want = x_;
    for (size_t i = 0; i + 2 < r; ++i) {
      if (x_.d[i] != y.d[i] && x_.d[i] != 1 && y.d[i] != 1) return bad("batch dims do not broadcast");
      want.d[i] = x_.d[i] == 1 ? y.d[i] : x_.d[i];
    }
    want.d[r - 2] = m;
    want.d[r - 1] = nn;
    return output_is(want);
  }

  bool reduce() {
    if (num_params_ < 1 || num_params_ > x_.rank) return bad("reduction axes");
    bool reduced[kMaxDims] = {};
    for (uint32_t i = 0; i < num_params_; ++i) {
      int64_t a = params_[i];
      if (a < 0 || static_cast<size_t>(a) >= x_.rank || reduced[a]) return bad("reduction axis out of range");
      reduced[a] = true;
    }
    if (n_->flags() & ~kFlagKeepDims) return bad("unsupported flags");
    bool keep = (n_->flags() & kFlagKeepDims) != 0;
    Shape want;
    for (size_t i = 0; i < x_.rank; ++i) {
      if (!reduced[i]) {
        want.d[want.rank++] = x_.d[i];
      } else if (keep) {
        want.d[want.rank++] = 1;
      }
    }
    return output_is(want);
  }

  const fb::Node* n_;
  uint32_t index_;
  const Shape* shapes_;
  char* error_;
  size_t error_size_;
  int64_t params_[kMaxParams] = {};
  uint32_t num_params_ = 0;
  Shape x_, out_;
};

bool check_values(const fb::Graph* graph, Shape* shapes, CheckedGraph* out, char* error, size_t error_size) {
  const size_t num_constants = graph->constants() ? graph->constants()->size() : 0;
  uint64_t activation_bytes = 0;
  for (uint32_t i = 0; i < out->num_values; ++i) {
    const fb::Value* v = graph->values()->Get(i);
    size_t esize = element_size(v->dtype());
    if (esize == 0) return report(error, error_size, "value %u has an unknown dtype", i);
    if (v->dims() == nullptr || v->dims()->size() > kMaxDims) {
      return report(error, error_size, "value %u has no dims or more than %zu", i, kMaxDims);
    }
    Shape& s = shapes[i];
    s.rank = v->dims()->size();
    uint64_t numel = 1;
    for (uint32_t k = 0; k < s.rank; ++k) {
      uint64_t dim = v->dims()->Get(k);
      if (dim == 0 || dim > kMaxValueBytes || numel > kMaxValueBytes / dim) {
        return report(error, error_size, "value %u has an empty or too large dim", i);
      }
      s.d[k] = dim;
      numel *= dim;
    }
    if (numel * esize > kMaxValueBytes) return report(error, error_size, "value %u is over the size limit", i);
    out->numels[i] = static_cast<size_t>(numel);
    if (v->dtype() == fb::DType::QInt8 || v->dtype() == fb::DType::QInt32) {
      if (!(std::isfinite(v->scale()) && v->scale() > 0) ||
          (v->dtype() == fb::DType::QInt8 && (v->zero_point() < -128 || v->zero_point() > 127)) ||
          (v->dtype() == fb::DType::QInt32 && v->zero_point() != 0)) {
        return report(error, error_size, "value %u has a bad scale or zero point", i);
      }
    }
    if (v->dtype() == fb::DType::QCInt8 || v->dtype() == fb::DType::QCInt32) {
      const auto* scales = v->channel_scales();
      if (scales == nullptr || v->channel_dim() >= s.rank || scales->size() != s.d[v->channel_dim()]) {
        return report(error, error_size, "value %u: per-channel scales do not match its dims", i);
      }
      for (uint32_t k = 0; k < scales->size(); ++k) {
        if (!(std::isfinite(scales->Get(k)) && scales->Get(k) > 0)) {
          return report(error, error_size, "value %u: channel scale %u is not positive", i, k);
        }
      }
    }
    if (v->constant() >= 0) {
      if (static_cast<size_t>(v->constant()) >= num_constants) {
        return report(error, error_size, "value %u names constant %d of %zu", i, v->constant(), num_constants);
      }
      const auto* data = graph->constants()->Get(v->constant())->data();
      if (data == nullptr || data->size() < numel * esize + 16 /* XNN_EXTRA_BYTES */) {
        return report(error, error_size, "the constant of value %u is smaller than its dims", i);
      }
      out->constant[i] = data->data();  // borrowed: the blob outlives the handle (ABI)
    } else {
      activation_bytes += numel * esize;
      if (activation_bytes > kMaxActivationBytes) {
        return report(error, error_size, "the graph's tensors exceed %llu bytes",
                      static_cast<unsigned long long>(kMaxActivationBytes));
      }
    }
  }
  return true;
}

// Bindings name non-constant values of their own size; an NCHW binding's
// value is the NHWC form of its dims.
// Each value is bound at most once per direction; `bound` keeps bit 1 for
// inputs, bit 2 for outputs.
bool check_bindings(const fb::Graph* graph, const Shape* shapes, const CheckedGraph* g, bool inputs,
                    uint8_t* bound, char* error, size_t error_size) {
  const auto* list = inputs ? graph->inputs() : graph->outputs();
  const char* what = inputs ? "input" : "output";
  for (uint32_t i = 0; i < list->size(); ++i) {
    const fb::Binding* b = list->Get(i);
    if (inputs && b->value() == kNone) continue;  // a weight this blob already holds
    if (b->value() >= g->num_values) return report(error, error_size, "%s %u binds value %u", what, i, b->value());
    const fb::Value* v = graph->values()->Get(b->value());
    if (v->constant() >= 0) return report(error, error_size, "%s %u binds a constant", what, i);
    const uint8_t bit = inputs ? 1 : 2;
    if (bound[b->value()] & bit) return report(error, error_size, "value %u is bound twice", b->value());
    bound[b->value()] |= bit;
    if (v->dtype() != fb::DType::Float32 && v->dtype() != fb::DType::QInt8) {
      return report(error, error_size, "%s %u is neither float32 nor per-tensor int8", what, i);
    }
    const size_t rank = b->dims() ? b->dims()->size() : 0;
    const Shape& s = shapes[b->value()];
    if (rank > kMaxDims || (b->nchw() && (rank != 4 || s.rank != 4))) {
      return report(error, error_size, "%s %u: rank", what, i);
    }
    uint64_t numel = 1;
    for (size_t k = 0; k < rank; ++k) {
      int64_t size = b->dims()->Get(k);
      // NCHW dim k is NHWC dim (0, 3, 1, 2)[k]; other bindings share the value's element order only.
      if (size < 0 || (b->nchw() && static_cast<uint64_t>(size) != s.d[k == 0 ? 0 : k == 1 ? 3 : k - 1])) {
        return report(error, error_size, "%s %u: dims disagree with value %u", what, i, b->value());
      }
      numel *= static_cast<uint64_t>(size);
      if (numel > kMaxValueBytes) return report(error, error_size, "%s %u: too large", what, i);
    }
    if (numel != g->numels[b->value()]) {
      return report(error, error_size, "%s %u: %llu elements, value %u has %zu", what, i,
                    static_cast<unsigned long long>(numel), b->value(), g->numels[b->value()]);
    }
  }
  return true;
}

}  // namespace

size_t element_size(fb::DType d) {
  switch (d) {
    case fb::DType::Float32: case fb::DType::QInt32: case fb::DType::QCInt32: return 4;
    case fb::DType::QInt8: case fb::DType::QCInt8: return 1;
  }
  return 0;
}

void free_checked_graph(CheckedGraph* g) {
  delete[] g->numels;
  delete[] g->constant;
  g->numels = nullptr;
  g->constant = nullptr;
}

bool check_graph(const fb::Graph* graph, CheckedGraph* out, char* error, size_t error_size) {
  if (!graph->values() || !graph->nodes() || !graph->inputs() || !graph->outputs()) {
    return report(error, error_size, "it lacks values, nodes or bindings");
  }
  if (graph->values()->size() > kMaxValues || graph->nodes()->size() > kMaxNodes) {
    return report(error, error_size, "more than %u values or %u nodes", kMaxValues, kMaxNodes);
  }
  out->num_values = graph->values()->size();
  out->numels = new (std::nothrow) size_t[out->num_values + 1]();
  out->constant = new (std::nothrow) const void*[out->num_values + 1]();
  Shape* shapes = new (std::nothrow) Shape[out->num_values + 1];
  uint8_t* bound = new (std::nothrow) uint8_t[out->num_values + 1]();
  uint8_t* state = new (std::nothrow) uint8_t[out->num_values + 1]();  // 1: input, 2: produced
  bool ok = out->numels != nullptr && out->constant != nullptr && shapes != nullptr && state != nullptr &&
            bound != nullptr;
  if (!ok) report(error, error_size, "out of memory checking %zu values", out->num_values);
  ok = ok && check_values(graph, shapes, out, error, error_size);
  ok = ok && check_bindings(graph, shapes, out, true, bound, error, error_size);
  ok = ok && check_bindings(graph, shapes, out, false, bound, error, error_size);
  for (size_t i = 0; ok && i < out->num_values; ++i) state[i] = bound[i] & 1;
  // Nodes in order: operands known (constant, input or produced earlier), each value produced once.
  for (uint32_t i = 0; ok && i < graph->nodes()->size(); ++i) {
    const fb::Node* n = graph->nodes()->Get(i);
    const fb::OpKind kind = n->kind();
    if (kind < fb::OpKind::MIN || kind > fb::OpKind::MAX) {
      ok = report(error, error_size, "node %u has unknown kind %d", i, static_cast<int>(kind));
      break;
    }
    Arity a = arity(kind);
    uint32_t num_in = n->inputs() ? n->inputs()->size() : 0;
    if (n->outputs() == nullptr || n->outputs()->size() != 1 ||
        (a.variadic ? (num_in < a.min || num_in > 64) : num_in != a.min)) {
      ok = report(error, error_size, "node %u (%s) has the wrong number of operands", i, fb::EnumNameOpKind(kind));
      break;
    }
    for (uint32_t k = 0; ok && k < num_in; ++k) {
      uint32_t id = n->inputs()->Get(k);
      if (k == 2 && id == kNone) continue;  // no bias
      if (id >= out->num_values || !(out->constant[id] != nullptr || state[id] != 0)) {
        ok = report(error, error_size, "node %u (%s) reads value %u, which is no constant, input or earlier result",
                    i, fb::EnumNameOpKind(kind), id);
      }
    }
    if (!ok) break;
    uint32_t result = n->outputs()->Get(0);
    if (result >= out->num_values || out->constant[result] != nullptr || state[result] != 0) {
      ok = report(error, error_size, "node %u (%s) writes value %u, which is a constant, an input or written before",
                  i, fb::EnumNameOpKind(kind), result);
      break;
    }
    int want = param_count(kind);
    uint32_t have = n->params() ? n->params()->size() : 0;
    if ((want >= 0 && have != static_cast<uint32_t>(want)) || have > 2 * kMaxDims + 4) {
      ok = report(error, error_size, "node %u (%s) has %u params", i, fb::EnumNameOpKind(kind), have);
      break;
    }
    if (!(n->output_min() <= n->output_max()) || std::isnan(n->alpha())) {
      ok = report(error, error_size, "node %u (%s): bad output range or alpha", i, fb::EnumNameOpKind(kind));
      break;
    }
    ok = NodeChecker(n, i, shapes, error, error_size).check();
    state[result] = 2;
  }
  for (uint32_t i = 0; ok && i < graph->outputs()->size(); ++i) {
    uint32_t id = graph->outputs()->Get(i)->value();
    if (state[id] != 2) ok = report(error, error_size, "output %u (value %u) is computed by no node", i, id);
  }
  delete[] shapes;
  delete[] state;
  delete[] bound;
  return ok;
}

}  // namespace wick_xnnpack
