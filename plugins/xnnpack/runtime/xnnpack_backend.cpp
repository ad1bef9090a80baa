// Runtime half of the 'xnnpack' backend: the C ABI of wick/backend.h over
// XNNPACK's subgraph API (Debian's libxnnpack 0.0~git20220216).
//
// init():    verify the blob (flatbuffers Verifier: a bad blob is an error,
//            not a crash), define the XNNPACK subgraph, create the runtime
//            (weights are packed here, once), bind every external value to a
//            buffer owned by the handle and call xnn_setup_runtime once.
// execute(): copy inputs into those buffers (NCHW -> NHWC where the binding
//            says so), xnn_invoke_runtime, copy outputs out (NHWC -> NCHW).
//            No allocation, no setup: pointers never change after init.
//
// Threads: one pool per thread count (thread_pool.cpp, this plugin's own
// pthreadpool, which also keeps subnormals as PyTorch does), shared by all
// handles of the process (parallel calls are serialized), sized by the
// compile spec "threads", else the environment variable
// WICK_XNNPACK_THREADS, else the number of CPUs this process may run on.
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>

#include <pthreadpool.h>
#include <xnnpack.h>

#include "thread_pool.h"
#include "wick/backend.h"
#include "xnnpack_graph_generated.h"

namespace {

namespace fb = wick_xnnpack::fb;

constexpr size_t kMaxThreads = kWickXnnpackMaxPoolThreads;
constexpr size_t kMaxDims = 6;  // XNN_MAX_TENSOR_DIMS of this XNNPACK

// ---- shared thread pools -------------------------------------------------

struct SharedPool {
  pthreadpool_t pool = nullptr;
  size_t users = 0;
};
std::mutex g_pool_mutex;
SharedPool g_pools[kMaxThreads + 1];

pthreadpool_t acquire_pool(size_t threads) {
  std::lock_guard<std::mutex> lock(g_pool_mutex);
  SharedPool& p = g_pools[threads];
  if (p.pool == nullptr) p.pool = wick_xnnpack_pool_create(threads);
  if (p.pool != nullptr) ++p.users;
  return p.pool;
}

void release_pool(size_t threads) {
  std::lock_guard<std::mutex> lock(g_pool_mutex);
  SharedPool& p = g_pools[threads];
  if (p.users > 0 && --p.users == 0) {
    wick_xnnpack_pool_destroy(p.pool);
    p.pool = nullptr;
  }
}

size_t default_threads() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return static_cast<size_t>(n);
  }
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<size_t>(n) : 1;
}

// ---- the handle ----------------------------------------------------------

// One delegate argument bound to an XNNPACK external value.
struct Binding {
  uint32_t value;
  int32_t dim;
  int64_t sizes[kMaxDims];
  size_t numel;
  bool nchw;            // argument NCHW, buffer NHWC
  bool ignored;         // an argument the subgraph does not read (a weight already in the blob)
  int32_t dtype;        // WICK_DTYPE_FLOAT32, or WICK_DTYPE_INT8 for a QInt8 value (int8 across a delegate edge)
  size_t elem_size;     // 4 or 1
  void* buffer;         // the value's data: owned buffer, or constant data in the blob
};

struct Delegate {
  xnn_runtime_t runtime = nullptr;
  pthreadpool_t pool = nullptr;
  size_t threads = 0;
  size_t num_inputs = 0, num_outputs = 0;
  Binding* inputs = nullptr;
  Binding* outputs = nullptr;
  void** owned = nullptr;  // buffers of external values
  size_t num_owned = 0;
};

// ---- helpers -------------------------------------------------------------

WickStatus fail(char* error, size_t error_size, WickStatus status, const char* fmt, ...)
    __attribute__((format(printf, 4, 5)));

WickStatus fail(char* error, size_t error_size, WickStatus status, const char* fmt, ...) {
  if (error != nullptr && error_size > 0) {
    int n = std::snprintf(error, error_size, "xnnpack: ");
    va_list args;
    va_start(args, fmt);
    if (n >= 0 && static_cast<size_t>(n) < error_size) std::vsnprintf(error + n, error_size - n, fmt, args);
    va_end(args);
  }
  return status;
}

const char* status_name(xnn_status s) {
  switch (s) {
    case xnn_status_success: return "success";
    case xnn_status_uninitialized: return "uninitialized";
    case xnn_status_invalid_parameter: return "invalid parameter";
    case xnn_status_invalid_state: return "invalid state";
    case xnn_status_unsupported_parameter: return "unsupported parameter";
    case xnn_status_unsupported_hardware: return "unsupported hardware";
    case xnn_status_out_of_memory: return "out of memory";
  }
  return "unknown status";
}

const char* kind_name(fb::OpKind k) { return fb::EnumNameOpKind(k); }

// NCHW -> NHWC (to_nhwc) or back, in blocks of pixels: each task moves every
// channel of kPixelBlock pixels of one image, so one side is read or written
// as a contiguous block of kPixelBlock * C elements and the other as C short
// contiguous runs. (One task per channel plane made a 3-channel input image a
// strided store over 50k pixels on at most 3 threads.)
constexpr size_t kPixelBlock = 64;

struct TransposeTask {
  const void* src;
  void* dst;
  size_t c, hw, blocks_per_image;
  bool to_nhwc;
};

template <typename E>
void transpose_block(void* context, size_t task) {
  const TransposeTask& t = *static_cast<const TransposeTask*>(context);
  const size_t n = task / t.blocks_per_image;
  const size_t p0 = (task % t.blocks_per_image) * kPixelBlock;
  const size_t pixels = t.hw - p0 < kPixelBlock ? t.hw - p0 : kPixelBlock;
  const size_t image = t.c * t.hw;
  const E* src = static_cast<const E*>(t.src) + n * image;
  E* dst = static_cast<E*>(t.dst) + n * image;
  for (size_t ch = 0; ch < t.c; ++ch) {
    if (t.to_nhwc) {
      const E* s = src + ch * t.hw + p0;
      E* d = dst + p0 * t.c + ch;
      for (size_t p = 0; p < pixels; ++p) d[p * t.c] = s[p];
    } else {
      const E* s = src + p0 * t.c + ch;
      E* d = dst + ch * t.hw + p0;
      for (size_t p = 0; p < pixels; ++p) d[p] = s[p * t.c];
    }
  }
}

void convert_layout(pthreadpool_t pool, const Binding& b, const void* src, void* dst, bool to_nhwc) {
  const size_t hw = static_cast<size_t>(b.sizes[2] * b.sizes[3]);
  const size_t blocks = (hw + kPixelBlock - 1) / kPixelBlock;
  TransposeTask t{src, dst, static_cast<size_t>(b.sizes[1]), hw, blocks, to_nhwc};
  pthreadpool_parallelize_1d(pool, b.elem_size == 1 ? transpose_block<int8_t> : transpose_block<float>, &t,
                             static_cast<size_t>(b.sizes[0]) * blocks, 0);
}

bool bad_range(uint32_t id, size_t count) { return id >= count; }

// ---- subgraph definition -------------------------------------------------

xnn_datatype to_xnn(fb::DType d) {
  switch (d) {
    case fb::DType::Float32: return xnn_datatype_fp32;
    case fb::DType::QInt8: return xnn_datatype_qint8;
    case fb::DType::QInt32: return xnn_datatype_qint32;
    case fb::DType::QCInt8: return xnn_datatype_qcint8;
    case fb::DType::QCInt32: return xnn_datatype_qcint32;
  }
  return xnn_datatype_invalid;
}

size_t element_size(fb::DType d) {
  switch (d) {
    case fb::DType::Float32: case fb::DType::QInt32: case fb::DType::QCInt32: return 4;
    case fb::DType::QInt8: case fb::DType::QCInt8: return 1;
  }
  return 0;
}

// Number of integer params each op kind carries (-1: variable).
int expected_params(fb::OpKind k) {
  switch (k) {
    case fb::OpKind::Convolution2d: return 13;
    case fb::OpKind::DepthwiseConvolution2d: return 12;
    case fb::OpKind::Deconvolution2d: return 15;
    case fb::OpKind::MaxPooling2d: return 10;
    case fb::OpKind::AveragePooling2d: return 8;
    case fb::OpKind::StaticReshape: return -1;
    case fb::OpKind::StaticConstantPad: return -1;
    case fb::OpKind::StaticResizeBilinear2d: return 2;
    case fb::OpKind::DepthToSpace: return 1;
    default: return 0;
  }
}

int expected_arity(fb::OpKind k) {  // inputs; every op has one output
  switch (k) {
    case fb::OpKind::Convolution2d: case fb::OpKind::DepthwiseConvolution2d: case fb::OpKind::Deconvolution2d:
    case fb::OpKind::FullyConnected: return 3;
    case fb::OpKind::Add: case fb::OpKind::Subtract: case fb::OpKind::Multiply: case fb::OpKind::Divide:
    case fb::OpKind::Maximum: case fb::OpKind::Minimum: case fb::OpKind::SquaredDifference:
    case fb::OpKind::Prelu: return 2;
    default: return 1;
  }
}

xnn_status define_node(xnn_subgraph_t g, const fb::Node* n) {
  const auto* in = n->inputs();
  uint32_t x = in->Get(0);
  uint32_t y = in->size() > 1 ? in->Get(1) : XNN_INVALID_VALUE_ID;
  uint32_t z = in->size() > 2 ? in->Get(2) : XNN_INVALID_VALUE_ID;
  uint32_t out = n->outputs()->Get(0);
  const auto* pv = n->params();
  auto P = [pv](uint32_t i) { return static_cast<uint32_t>(pv->Get(i)); };
  float lo = n->output_min(), hi = n->output_max();
  uint32_t flags = n->flags();
  switch (n->kind()) {
    case fb::OpKind::Convolution2d:
      return xnn_define_convolution_2d(g, P(0), P(1), P(2), P(3), P(4), P(5), P(6), P(7), P(8), P(9), P(10),
                                       P(11), P(12), lo, hi, x, y, z, out, flags);
    case fb::OpKind::DepthwiseConvolution2d:
      return xnn_define_depthwise_convolution_2d(g, P(0), P(1), P(2), P(3), P(4), P(5), P(6), P(7), P(8), P(9),
                                                 P(10), P(11), lo, hi, x, y, z, out, flags);
    case fb::OpKind::Deconvolution2d:
      return xnn_define_deconvolution_2d(g, P(0), P(1), P(2), P(3), P(4), P(5), P(6), P(7), P(8), P(9), P(10),
                                         P(11), P(12), P(13), P(14), lo, hi, x, y, z, out, flags);
    case fb::OpKind::FullyConnected: return xnn_define_fully_connected(g, lo, hi, x, y, z, out, flags);
    case fb::OpKind::MaxPooling2d:
      return xnn_define_max_pooling_2d(g, P(0), P(1), P(2), P(3), P(4), P(5), P(6), P(7), P(8), P(9), lo, hi, x,
                                       out, flags);
    case fb::OpKind::AveragePooling2d:
      return xnn_define_average_pooling_2d(g, P(0), P(1), P(2), P(3), P(4), P(5), P(6), P(7), lo, hi, x, out, flags);
    case fb::OpKind::GlobalAveragePooling2d: return xnn_define_global_average_pooling_2d(g, lo, hi, x, out, flags);
    case fb::OpKind::Add: return xnn_define_add2(g, lo, hi, x, y, out, flags);
    case fb::OpKind::Subtract: return xnn_define_subtract(g, lo, hi, x, y, out, flags);
    case fb::OpKind::Multiply: return xnn_define_multiply2(g, lo, hi, x, y, out, flags);
    case fb::OpKind::Divide: return xnn_define_divide(g, lo, hi, x, y, out, flags);
    case fb::OpKind::Maximum: return xnn_define_maximum2(g, x, y, out, flags);
    case fb::OpKind::Minimum: return xnn_define_minimum2(g, x, y, out, flags);
    case fb::OpKind::SquaredDifference: return xnn_define_squared_difference(g, x, y, out, flags);
    case fb::OpKind::Clamp: return xnn_define_clamp(g, lo, hi, x, out, flags);
    case fb::OpKind::Abs: return xnn_define_abs(g, x, out, flags);
    case fb::OpKind::Negate: return xnn_define_negate(g, x, out, flags);
    case fb::OpKind::Floor: return xnn_define_floor(g, x, out, flags);
    case fb::OpKind::Ceiling: return xnn_define_ceiling(g, x, out, flags);
    case fb::OpKind::SquareRoot: return xnn_define_square_root(g, x, out, flags);
    case fb::OpKind::Square: return xnn_define_square(g, x, out, flags);
    case fb::OpKind::Sigmoid: return xnn_define_sigmoid(g, x, out, flags);
    case fb::OpKind::Softmax: return xnn_define_softmax(g, x, out, flags);
    case fb::OpKind::HardSwish: return xnn_define_hardswish(g, x, out, flags);
    case fb::OpKind::LeakyRelu: return xnn_define_leaky_relu(g, n->alpha(), x, out, flags);
    case fb::OpKind::Elu: return xnn_define_elu(g, n->alpha(), x, out, flags);
    case fb::OpKind::Prelu: return xnn_define_prelu(g, x, y, out, flags);
    case fb::OpKind::BankersRounding: return xnn_define_bankers_rounding(g, x, out, flags);
    case fb::OpKind::StaticReshape: {
      size_t shape[kMaxDims];
      for (uint32_t i = 0; i < pv->size(); ++i) shape[i] = static_cast<size_t>(pv->Get(i));
      return xnn_define_static_reshape(g, pv->size(), shape, x, out, flags);
    }
    case fb::OpKind::StaticConstantPad: {
      size_t pre[kMaxDims], post[kMaxDims];
      uint32_t r = pv->size() / 2;
      for (uint32_t i = 0; i < r; ++i) {
        pre[i] = static_cast<size_t>(pv->Get(i));
        post[i] = static_cast<size_t>(pv->Get(r + i));
      }
      return xnn_define_static_constant_pad(g, pre, post, n->alpha(), x, out, flags);
    }
    case fb::OpKind::StaticResizeBilinear2d:
      return xnn_define_static_resize_bilinear_2d(g, P(0), P(1), x, out, flags);
    case fb::OpKind::DepthToSpace: return xnn_define_depth_to_space(g, x, out, P(0), flags);
    case fb::OpKind::Convert: return xnn_define_convert(g, x, out, flags);
  }
  return xnn_status_invalid_parameter;
}

// Checks everything define_node() will index, so that a hostile blob is an
// error message rather than an out-of-bounds read.
bool check_node(const fb::Node* n, size_t num_values, char* error, size_t error_size, uint32_t index) {
  auto kind = n->kind();
  if (kind < fb::OpKind::MIN || kind > fb::OpKind::MAX) {
    fail(error, error_size, WICK_STATUS_INVALID_ARGUMENT, "node %u has unknown kind %d", index, int(kind));
    return false;
  }
  int arity = expected_arity(kind);
  if (n->inputs() == nullptr || n->outputs() == nullptr || n->inputs()->size() != static_cast<uint32_t>(arity) ||
      n->outputs()->size() != 1) {
    fail(error, error_size, WICK_STATUS_INVALID_ARGUMENT, "node %u (%s) has the wrong number of operands", index,
         kind_name(kind));
    return false;
  }
  for (uint32_t i = 0; i < n->inputs()->size(); ++i) {
    uint32_t id = n->inputs()->Get(i);
    bool optional_bias = i == 2 && id == XNN_INVALID_VALUE_ID;
    if (!optional_bias && bad_range(id, num_values)) {
      fail(error, error_size, WICK_STATUS_INVALID_ARGUMENT, "node %u (%s) reads value %u of %zu", index,
           kind_name(kind), id, num_values);
      return false;
    }
  }
  if (bad_range(n->outputs()->Get(0), num_values)) {
    fail(error, error_size, WICK_STATUS_INVALID_ARGUMENT, "node %u (%s) writes a value out of range", index,
         kind_name(kind));
    return false;
  }
  int want = expected_params(kind);
  uint32_t have = n->params() ? n->params()->size() : 0;
  bool ok = want >= 0 ? have == static_cast<uint32_t>(want)
                      : (kind == fb::OpKind::StaticReshape ? have >= 1 && have <= kMaxDims
                                                           : have >= 2 && have % 2 == 0 && have <= 2 * kMaxDims);
  for (uint32_t i = 0; ok && i < have; ++i) ok = n->params()->Get(i) >= 0 && n->params()->Get(i) <= (1ll << 31);
  if (!ok) {
    fail(error, error_size, WICK_STATUS_INVALID_ARGUMENT, "node %u (%s) has %u bad params", index, kind_name(kind),
         have);
    return false;
  }
  return true;
}

void destroy(void* handle);

WickStatus init(const uint8_t* blob, size_t size, const WickCompileSpec* specs, size_t num_specs,
                const WickHostAllocator* /*alloc*/, void** handle, char* error, size_t error_size) {
  *handle = nullptr;
  // ---- threads: compile spec, environment, machine
  size_t threads = 0;
  for (size_t i = 0; i < num_specs; ++i) {
    if (std::strcmp(specs[i].key, "threads") != 0) {
      // A typo in a load-time option (wick-run --backend-option) must not pass silently.
      return fail(error, error_size, WICK_STATUS_INVALID_ARGUMENT,
                  "unknown compile spec or option '%s' (this backend takes: threads)", specs[i].key);
    }
    char text[32] = {0};
    std::memcpy(text, specs[i].value, specs[i].value_size < 31 ? specs[i].value_size : 31);
    char* end = nullptr;
    long v = std::strtol(text, &end, 10);
    if (end == text || *end != '\0' || v < 0 || v > static_cast<long>(kMaxThreads)) {
      return fail(error, error_size, WICK_STATUS_INVALID_ARGUMENT,
                  "compile spec threads='%s' is not a thread count in 0..%zu (0 = all cores)", text, kMaxThreads);
    }
    threads = static_cast<size_t>(v);
  }
  if (threads == 0) {
    const char* env = std::getenv("WICK_XNNPACK_THREADS");
    if (env != nullptr && *env != '\0') {
      long v = std::strtol(env, nullptr, 10);
      if (v > 0 && v <= static_cast<long>(kMaxThreads)) threads = static_cast<size_t>(v);
    }
  }
  if (threads == 0) threads = default_threads();
  if (threads > kMaxThreads) threads = kMaxThreads;

  // ---- blob
  flatbuffers::Verifier verifier(blob, size);
  if (size < 8 || !fb::GraphBufferHasIdentifier(blob) || !fb::VerifyGraphBuffer(verifier)) {
    return fail(error, error_size, WICK_STATUS_INVALID_ARGUMENT,
                "the delegate blob (%zu bytes) is not a valid WXNN graph; re-export the program with this "
                "wick-xnnpack",
                size);
  }
  const fb::Graph* graph = fb::GetGraph(blob);
  if (graph->version() != 1) {
    return fail(error, error_size, WICK_STATUS_UNSUPPORTED, "blob version %u, this runtime reads version 1",
                graph->version());
  }
  if (!graph->values() || !graph->nodes() || !graph->inputs() || !graph->outputs()) {
    return fail(error, error_size, WICK_STATUS_INVALID_ARGUMENT, "blob lacks values, nodes or bindings");
  }
  const size_t num_values = graph->values()->size();
  const size_t num_constants = graph->constants() ? graph->constants()->size() : 0;

  xnn_status st = xnn_initialize(nullptr);
  if (st != xnn_status_success) {
    return fail(error, error_size, WICK_STATUS_UNSUPPORTED, "xnn_initialize failed: %s", status_name(st));
  }

  auto* d = new (std::nothrow) Delegate();
  if (d == nullptr) return WICK_STATUS_OUT_OF_MEMORY;
  d->num_inputs = graph->inputs()->size();
  d->num_outputs = graph->outputs()->size();
  d->inputs = new (std::nothrow) Binding[d->num_inputs + 1];
  d->outputs = new (std::nothrow) Binding[d->num_outputs + 1];
  if (d->inputs == nullptr || d->outputs == nullptr) {
    destroy(d);
    return WICK_STATUS_OUT_OF_MEMORY;
  }

  // Which values are external inputs / outputs, and what each value's data is.
  const uint8_t kInput = 1, kOutput = 2, kProduced = 4;
  uint8_t* role = new (std::nothrow) uint8_t[num_values + 1]();
  const void** const_data = new (std::nothrow) const void*[num_values + 1]();
  size_t* numels = new (std::nothrow) size_t[num_values + 1]();
  struct Cleanup {
    uint8_t* r;
    const void** c;
    size_t* n;
    ~Cleanup() {
      delete[] r;
      delete[] c;
      delete[] n;
    }
  } cleanup{role, const_data, numels};
  if (role == nullptr || const_data == nullptr || numels == nullptr) {
    destroy(d);
    return WICK_STATUS_OUT_OF_MEMORY;
  }

  for (uint32_t i = 0; i < num_values; ++i) {
    const fb::Value* v = graph->values()->Get(i);
    if (v->dims() == nullptr || v->dims()->size() > kMaxDims) {
      destroy(d);
      return fail(error, error_size, WICK_STATUS_INVALID_ARGUMENT, "value %u has no dims or more than %zu", i,
                  kMaxDims);
    }
    size_t numel = 1;
    for (uint32_t k = 0; k < v->dims()->size(); ++k) {
      uint64_t dim = v->dims()->Get(k);
      if (dim > (1ull << 31) || (dim != 0 && numel > (1ull << 40) / dim)) {
        destroy(d);
        return fail(error, error_size, WICK_STATUS_INVALID_ARGUMENT, "value %u is too large", i);
      }
      numel *= dim;
    }
    numels[i] = numel;
    if (element_size(v->dtype()) == 0) {
      destroy(d);
      return fail(error, error_size, WICK_STATUS_INVALID_ARGUMENT, "value %u has an unknown dtype", i);
    }
    if (v->constant() >= 0) {
      if (static_cast<size_t>(v->constant()) >= num_constants) {
        destroy(d);
        return fail(error, error_size, WICK_STATUS_INVALID_ARGUMENT, "value %u names constant %d of %zu", i,
                    v->constant(), num_constants);
      }
      const auto* data = graph->constants()->Get(v->constant())->data();
      if (data == nullptr || data->size() < numel * element_size(v->dtype()) + XNN_EXTRA_BYTES) {
        destroy(d);
        return fail(error, error_size, WICK_STATUS_INVALID_ARGUMENT, "constant of value %u is too small", i);
      }
      const_data[i] = data->data();  // borrowed: the blob outlives the handle (ABI)
    }
  }

  // ---- bindings, and their buffers (owned; XNN_EXTRA_BYTES of slack: XNNPACK may read past the end)
  auto bind = [&](const fb::Binding* fbb, Binding& b, bool is_input, uint32_t pos) -> WickStatus {
    const char* what = is_input ? "input" : "output";
    b.ignored = false;
    if (is_input && fbb->value() == XNN_INVALID_VALUE_ID) {
      b.ignored = true;  // Wick passes a weight this blob already holds
      b.value = 0;
      b.dim = 0;
      b.numel = 0;
      b.nchw = false;
      b.dtype = WICK_DTYPE_FLOAT32;
      b.elem_size = 0;
      return WICK_STATUS_OK;
    }
    if (fbb->value() >= num_values) {
      return fail(error, error_size, WICK_STATUS_INVALID_ARGUMENT, "%s %u binds value %u of %zu", what, pos,
                  fbb->value(), num_values);
    }
    b.value = fbb->value();
    b.nchw = fbb->nchw();
    b.dim = fbb->dims() ? static_cast<int32_t>(fbb->dims()->size()) : 0;
    if (b.dim > static_cast<int32_t>(kMaxDims) || (b.nchw && b.dim != 4)) {
      return fail(error, error_size, WICK_STATUS_INVALID_ARGUMENT, "%s %u has a bad rank", what, pos);
    }
    b.numel = 1;
    for (int32_t k = 0; k < b.dim; ++k) {
      b.sizes[k] = fbb->dims()->Get(k);
      if (b.sizes[k] < 0) return fail(error, error_size, WICK_STATUS_INVALID_ARGUMENT, "%s %u: bad size", what, pos);
      b.numel *= static_cast<size_t>(b.sizes[k]);
    }
    const fb::Value* v = graph->values()->Get(b.value);
    bool float_value = v->dtype() == fb::DType::Float32;
    if (b.numel != numels[b.value] || !(float_value || v->dtype() == fb::DType::QInt8)) {
      return fail(error, error_size, WICK_STATUS_INVALID_ARGUMENT,
                  "%s %u: binding of %zu elements does not match value %u (float32 or per-tensor int8)", what, pos,
                  b.numel, b.value);
    }
    b.dtype = float_value ? WICK_DTYPE_FLOAT32 : WICK_DTYPE_INT8;
    b.elem_size = float_value ? sizeof(float) : 1;
    if (is_input) {
      if (v->constant() >= 0) {
        return fail(error, error_size, WICK_STATUS_INVALID_ARGUMENT, "input %u binds a constant", pos);
      }
      role[b.value] |= kInput;
    } else if (v->constant() < 0 && !(role[b.value] & kInput)) {
      role[b.value] |= kOutput;
    }
    return WICK_STATUS_OK;
  };
  for (uint32_t i = 0; i < d->num_inputs; ++i) {
    WickStatus s = bind(graph->inputs()->Get(i), d->inputs[i], true, i);
    if (s != WICK_STATUS_OK) {
      destroy(d);
      return s;
    }
  }
  for (uint32_t i = 0; i < d->num_outputs; ++i) {
    WickStatus s = bind(graph->outputs()->Get(i), d->outputs[i], false, i);
    if (s != WICK_STATUS_OK) {
      destroy(d);
      return s;
    }
  }

  // ---- subgraph
  xnn_subgraph_t subgraph = nullptr;
  st = xnn_create_subgraph(static_cast<uint32_t>(num_values), 0, &subgraph);
  if (st != xnn_status_success) {
    destroy(d);
    return fail(error, error_size, WICK_STATUS_ERROR, "xnn_create_subgraph failed: %s", status_name(st));
  }
  struct SubgraphGuard {
    xnn_subgraph_t s;
    ~SubgraphGuard() { xnn_delete_subgraph(s); }  // the runtime keeps what it needs
  } guard{subgraph};

  for (uint32_t i = 0; i < graph->nodes()->size(); ++i) {
    const fb::Node* n = graph->nodes()->Get(i);
    if (!check_node(n, num_values, error, error_size, i)) {
      destroy(d);
      return WICK_STATUS_INVALID_ARGUMENT;
    }
    role[n->outputs()->Get(0)] |= kProduced;
  }
  for (uint32_t i = 0; i < num_values; ++i) {
    const fb::Value* v = graph->values()->Get(i);
    size_t dims[kMaxDims];
    for (uint32_t k = 0; k < v->dims()->size(); ++k) dims[k] = static_cast<size_t>(v->dims()->Get(k));
    uint32_t flags = 0;
    if (role[i] & kInput) flags |= XNN_VALUE_FLAG_EXTERNAL_INPUT;
    if (role[i] & kOutput) flags |= XNN_VALUE_FLAG_EXTERNAL_OUTPUT;
    if ((role[i] & kOutput) && !(role[i] & kProduced)) {
      destroy(d);
      return fail(error, error_size, WICK_STATUS_INVALID_ARGUMENT, "output value %u is computed by no node", i);
    }
    uint32_t id = 0;
    switch (v->dtype()) {
      case fb::DType::Float32:
        st = xnn_define_tensor_value(subgraph, xnn_datatype_fp32, v->dims()->size(), dims, const_data[i], i, flags,
                                     &id);
        break;
      case fb::DType::QInt8:
      case fb::DType::QInt32:
        st = xnn_define_quantized_tensor_value(subgraph, to_xnn(v->dtype()), v->zero_point(), v->scale(),
                                               v->dims()->size(), dims, const_data[i], i, flags, &id);
        break;
      case fb::DType::QCInt8:
      case fb::DType::QCInt32: {
        const auto* scales = v->channel_scales();
        if (scales == nullptr || v->channel_dim() >= v->dims()->size() ||
            scales->size() != v->dims()->Get(v->channel_dim())) {
          destroy(d);
          return fail(error, error_size, WICK_STATUS_INVALID_ARGUMENT, "value %u: per-channel scales do not match",
                      i);
        }
        st = xnn_define_channelwise_quantized_tensor_value(subgraph, to_xnn(v->dtype()), scales->data(),
                                                           v->dims()->size(), v->channel_dim(), dims, const_data[i],
                                                           i, flags, &id);
        break;
      }
    }
    if (st != xnn_status_success) {
      destroy(d);
      return fail(error, error_size, WICK_STATUS_ERROR, "defining value %u failed: %s", i, status_name(st));
    }
  }
  for (uint32_t i = 0; i < graph->nodes()->size(); ++i) {
    const fb::Node* n = graph->nodes()->Get(i);
    st = define_node(subgraph, n);
    if (st != xnn_status_success) {
      destroy(d);
      return fail(error, error_size, WICK_STATUS_ERROR, "XNNPACK refused node %u (%s): %s", i, kind_name(n->kind()),
                  status_name(st));
    }
  }

  // ---- runtime: weights are packed here, once
  d->threads = threads;
  d->pool = threads > 1 ? acquire_pool(threads) : nullptr;
  if (threads > 1 && d->pool == nullptr) {
    destroy(d);
    return fail(error, error_size, WICK_STATUS_OUT_OF_MEMORY, "cannot create a pool of %zu threads", threads);
  }
  // No XNN_FLAG_YIELD_WORKERS: measured slower here (every run then starts by
  // waking sleeping workers; see README, "threads").
  st = xnn_create_runtime_v2(subgraph, d->pool, 0, &d->runtime);
  if (st != xnn_status_success) {
    destroy(d);
    return fail(error, error_size, WICK_STATUS_ERROR, "xnn_create_runtime_v2 failed: %s", status_name(st));
  }

  // ---- buffers for external values, bound once
  void** buffers = new (std::nothrow) void*[num_values + 1]();
  struct BufCleanup {
    void** b;
    ~BufCleanup() { delete[] b; }
  } buf_cleanup{buffers};
  if (buffers == nullptr) {
    destroy(d);
    return WICK_STATUS_OUT_OF_MEMORY;
  }
  xnn_external_value* externals = new (std::nothrow) xnn_external_value[num_values + 1];
  struct ExtCleanup {
    xnn_external_value* e;
    ~ExtCleanup() { delete[] e; }
  } ext_cleanup{externals};
  if (externals == nullptr) {
    destroy(d);
    return WICK_STATUS_OUT_OF_MEMORY;
  }
  size_t num_externals = 0;
  d->owned = new (std::nothrow) void*[num_values + 1];
  if (d->owned == nullptr) {
    destroy(d);
    return WICK_STATUS_OUT_OF_MEMORY;
  }
  for (uint32_t i = 0; i < num_values; ++i) {
    if (const_data[i] != nullptr) {
      buffers[i] = const_cast<void*>(const_data[i]);
      continue;
    }
    if (!(role[i] & (kInput | kOutput))) continue;
    size_t bytes = numels[i] * element_size(graph->values()->Get(i)->dtype()) + XNN_EXTRA_BYTES;
    // Owned by the handle (freed in destroy), not the host allocator: Wick sizes
    // that arena by retrying, and XNNPACK's own packed weights live outside it anyway.
    buffers[i] = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (buffers[i] == nullptr) {
      destroy(d);
      return fail(error, error_size, WICK_STATUS_OUT_OF_MEMORY, "cannot allocate %zu bytes for value %u", bytes, i);
    }
    std::memset(buffers[i], 0, bytes);
    d->owned[d->num_owned++] = buffers[i];
    externals[num_externals++] = xnn_external_value{i, buffers[i]};
  }
  for (uint32_t i = 0; i < d->num_inputs; ++i) d->inputs[i].buffer = d->inputs[i].ignored ? nullptr : buffers[d->inputs[i].value];
  for (uint32_t i = 0; i < d->num_outputs; ++i) d->outputs[i].buffer = buffers[d->outputs[i].value];
  st = xnn_setup_runtime(d->runtime, num_externals, externals);
  if (st != xnn_status_success) {
    destroy(d);
    return fail(error, error_size, WICK_STATUS_ERROR, "xnn_setup_runtime failed: %s", status_name(st));
  }
  *handle = d;
  return WICK_STATUS_OK;
}

WickStatus check_arg(const Binding& b, const WickTensorArg& a, bool is_input, size_t pos, char* error,
                     size_t error_size) {
  const char* what = is_input ? "input" : "output";
  if (a.dtype != b.dtype) {
    return fail(error, error_size, WICK_STATUS_INVALID_ARGUMENT, "%s %zu has dtype %d, the compiled subgraph takes "
                "%s", what, pos, a.dtype, b.dtype == WICK_DTYPE_INT8 ? "int8" : "float32");
  }
  bool same = a.dim == b.dim;
  for (int32_t k = 0; same && k < b.dim; ++k) same = a.sizes[k] == b.sizes[k];
  if (!same && is_input) {
    return fail(error, error_size, WICK_STATUS_INVALID_ARGUMENT,
                "%s %zu has another shape than the one the subgraph was compiled for (static shapes only)", what,
                pos);
  }
  if (!is_input && a.capacity < b.numel * b.elem_size) {
    return fail(error, error_size, WICK_STATUS_INVALID_ARGUMENT, "output %zu holds %zu bytes, needs %zu", pos,
                a.capacity, b.numel * b.elem_size);
  }
  return WICK_STATUS_OK;
}

WickStatus execute(void* handle, WickTensorArg* args, size_t num_args, char* error, size_t error_size) {
  Delegate* d = static_cast<Delegate*>(handle);
  if (num_args != d->num_inputs + d->num_outputs) {
    return fail(error, error_size, WICK_STATUS_INVALID_ARGUMENT, "called with %zu arguments, the subgraph takes %zu "
                "inputs and %zu outputs", num_args, d->num_inputs, d->num_outputs);
  }
  for (size_t i = 0; i < d->num_inputs; ++i) {
    const Binding& b = d->inputs[i];
    if (b.ignored) continue;
    WickStatus s = check_arg(b, args[i], true, i, error, error_size);
    if (s != WICK_STATUS_OK) return s;
    const void* src = args[i].data;
    if (b.nchw) {
      convert_layout(d->pool, b, src, b.buffer, true);
    } else {
      std::memcpy(b.buffer, src, b.numel * b.elem_size);
    }
  }
  xnn_status st = xnn_invoke_runtime(d->runtime);
  if (st != xnn_status_success) {
    return fail(error, error_size, WICK_STATUS_ERROR, "xnn_invoke_runtime failed: %s", status_name(st));
  }
  for (size_t i = 0; i < d->num_outputs; ++i) {
    const Binding& b = d->outputs[i];
    WickTensorArg& a = args[d->num_inputs + i];
    WickStatus s = check_arg(b, a, false, i, error, error_size);
    if (s != WICK_STATUS_OK) return s;
    a.dim = b.dim;
    for (int32_t k = 0; k < b.dim; ++k) a.sizes[k] = b.sizes[k];
    void* dst = a.data;
    if (b.nchw) {
      convert_layout(d->pool, b, b.buffer, dst, false);
    } else {
      std::memcpy(dst, b.buffer, b.numel * b.elem_size);
    }
  }
  return WICK_STATUS_OK;
}

void destroy(void* handle) {
  Delegate* d = static_cast<Delegate*>(handle);
  if (d == nullptr) return;
  if (d->runtime != nullptr) xnn_delete_runtime(d->runtime);
  if (d->pool != nullptr) release_pool(d->threads);
  for (size_t i = 0; i < d->num_owned; ++i) std::free(d->owned[i]);
  delete[] d->owned;
  delete[] d->inputs;
  delete[] d->outputs;
  delete d;
}

int is_available(char* reason, size_t reason_size) {
  xnn_status st = xnn_initialize(nullptr);
  if (st != xnn_status_success) {
    std::snprintf(reason, reason_size, "xnn_initialize failed (%s): this CPU lacks what XNNPACK needs",
                  status_name(st));
    return 0;
  }
  return 1;
}

const char* info() { return "XNNPACK 0.0~git20220216 (Debian libxnnpack0) subgraph runtime on the host CPU"; }

const WickBackend kBackend = {WICK_BACKEND_ABI_VERSION, "xnnpack", is_available, init, execute, destroy, info};

}  // namespace

extern "C" __attribute__((visibility("default"))) const WickBackend* wick_backend_entry() { return &kBackend; }
