// Runtime half of the 'xnnpack' backend: backend ABI 2 (wick/backend.h,
// WickBackend2 exported as wick_backend_entry2) over XNNPACK's subgraph API
// (XNNPACK 2026-08-21, linked in statically).
//
// validate_blob() compares the blob's compatibility string (written by
// preprocess.py: plugin version, XNNPACK commit, blob version) with this
// build's before init() reads a byte of the blob.
//
// init() runs in stages, each filling the one Loader that owns everything
// made so far; a failing stage returns, and one function (Loader's release)
// frees what exists:
//   parse_options   threads from the compile specs / options / environment
//   open_blob       flatbuffers Verifier, identifier, version
//   check_graph     every count, index, parameter and shape (graph_check.cpp)
//   define_subgraph values and nodes, in XNNPACK's terms
//   create_runtime  weights packed here, once; the shared thread pool
//   bind_externals  buffers of the delegate's arguments, reshape (XNNPACK's
//                   own shapes must equal the checked ones), setup, once
// execute(): check every argument, copy inputs into those buffers (NCHW ->
// NHWC where the binding says so), xnn_invoke_runtime, copy outputs out; each
// of the three is a traced event (copy_in, invoke, copy_out) when a profiler
// listens. No allocation, no setup.
//
// Threads: upstream pthreadpool, one pool per thread count shared by all
// handles of the process, sized by the compile spec or load-time option
// "threads", else WICK_XNNPACK_THREADS, else the CPUs this process may use.
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>

#include <pthreadpool.h>
#include <xnnpack.h>

#include "graph_check.h"
#include "wick/backend.h"
#include "xnnpack_graph_generated.h"

namespace {

namespace fb = wick_xnnpack::fb;
using wick_xnnpack::kMaxDims;

constexpr size_t kMaxThreads = 256;
constexpr uint32_t kBlobVersion = 1;  // the Graph.version this runtime reads (schema/xnnpack_graph.fbs)

#ifndef WICK_XNNPACK_VERSION
#define WICK_XNNPACK_VERSION "unknown"
#endif
#ifndef WICK_XNNPACK_LIBRARY_COMMIT
#define WICK_XNNPACK_LIBRARY_COMMIT "unknown"
#endif

// What preprocess.py writes as the blob's compatibility string for this very
// build (preprocess.compatibility()); anything else is refused by validate_blob.
constexpr const char kCompatibility[] = "wick-xnnpack " WICK_XNNPACK_VERSION "; XNNPACK " WICK_XNNPACK_LIBRARY_COMMIT
                                        "; blob WXNN 1";
static_assert(kBlobVersion == 1, "kCompatibility names the blob version");
constexpr const char kBackendName[] = "xnnpack";

// The host services, received at registration (attach); null before.
const WickHostServices* g_host = nullptr;
static_assert(kMaxDims == XNN_MAX_TENSOR_DIMS, "graph_check.h must use XNNPACK's rank limit");

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
  if (p.pool == nullptr) p.pool = pthreadpool_create(threads);
  if (p.pool != nullptr) ++p.users;
  return p.pool;
}

void release_pool(size_t threads) {
  std::lock_guard<std::mutex> lock(g_pool_mutex);
  SharedPool& p = g_pools[threads];
  if (p.users > 0 && --p.users == 0) {
    pthreadpool_destroy(p.pool);
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
  bool ignored;         // an argument the subgraph does not read (a weight in the blob: wick-xnnpack 0.1 blobs)
  int32_t dtype;        // WICK_DTYPE_FLOAT32, or WICK_DTYPE_INT8 for a QInt8 value
  size_t elem_size;     // 4 or 1
  void* buffer;         // owned by the Delegate
};

struct Delegate {
  xnn_runtime_t runtime;
  pthreadpool_t pool;
  size_t threads;
  size_t num_inputs, num_outputs;
  Binding* inputs;
  Binding* outputs;
  void** owned;  // buffers of external values
  size_t num_owned;
};

void destroy_delegate(void* handle) {
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

// Everything init() makes; release() frees what exists (the Delegate too,
// unless init succeeded and handed it out).
struct Loader {
  const fb::Graph* graph = nullptr;
  size_t threads = 0;
  wick_xnnpack::CheckedGraph checked;
  xnn_subgraph_t subgraph = nullptr;
  Delegate* d = nullptr;
  char* error = nullptr;
  size_t error_size = 0;

  void release(bool keep_delegate) {
    if (subgraph != nullptr) xnn_delete_subgraph(subgraph);  // the runtime keeps what it needs
    wick_xnnpack::free_checked_graph(&checked);
    if (!keep_delegate) destroy_delegate(d);
    subgraph = nullptr;
    d = nullptr;
  }
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
    case xnn_status_reallocation_required: return "reallocation required";
    case xnn_status_deprecated: return "deprecated";
  }
  return "unknown status";
}

// NCHW -> NHWC (to_nhwc) or back, in blocks of pixels: each task moves every
// channel of kPixelBlock pixels of one image, so one side is read or written
// as a contiguous block of kPixelBlock * C elements.
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

// ---- stage: options ------------------------------------------------------

WickStatus parse_options(Loader& l, const WickCompileSpec* specs, size_t num_specs) {
  size_t threads = 0;
  for (size_t i = 0; i < num_specs; ++i) {
    if (std::strcmp(specs[i].key, "threads") != 0) {
      // A typo in a load-time option (wick-run --backend-option) must not pass silently.
      return fail(l.error, l.error_size, WICK_STATUS_INVALID_ARGUMENT,
                  "unknown compile spec or option '%s' (this backend takes: threads)", specs[i].key);
    }
    char text[32] = {0};
    std::memcpy(text, specs[i].value, specs[i].value_size < 31 ? specs[i].value_size : 31);
    char* end = nullptr;
    long v = std::strtol(text, &end, 10);
    if (end == text || *end != '\0' || v < 0 || v > static_cast<long>(kMaxThreads)) {
      return fail(l.error, l.error_size, WICK_STATUS_INVALID_ARGUMENT,
                  "compile spec threads='%s' is not a thread count in 0..%zu (0 = all cores)", text, kMaxThreads);
    }
    threads = static_cast<size_t>(v);
  }
  if (threads == 0) {
    const char* env = std::getenv("WICK_XNNPACK_THREADS");
    if (env != nullptr && *env != '\0') {
      char* end = nullptr;
      long v = std::strtol(env, &end, 10);
      if (end != env && *end == '\0' && v > 0 && v <= static_cast<long>(kMaxThreads)) {
        threads = static_cast<size_t>(v);
      } else {
        char line[160];
        std::snprintf(line, sizeof(line), "WICK_XNNPACK_THREADS='%.32s' is not a thread count in 1..%zu; ignored",
                      env, kMaxThreads);
        wick_log(g_host, kBackendName, WICK_LOG_WARNING, line);
      }
    }
  }
  if (threads == 0) threads = default_threads();
  l.threads = threads > kMaxThreads ? kMaxThreads : threads;
  return WICK_STATUS_OK;
}

// ---- stage: blob ---------------------------------------------------------

WickStatus open_blob(Loader& l, const uint8_t* blob, size_t size) {
  flatbuffers::Verifier verifier(blob, size);
  if (size < 8 || !fb::GraphBufferHasIdentifier(blob) || !fb::VerifyGraphBuffer(verifier)) {
    return fail(l.error, l.error_size, WICK_STATUS_INVALID_ARGUMENT,
                "the delegate blob (%zu bytes) is not a valid WXNN graph; re-export the program with this "
                "wick-xnnpack", size);
  }
  l.graph = fb::GetGraph(blob);
  if (l.graph->version() != kBlobVersion) {
    return fail(l.error, l.error_size, WICK_STATUS_UNSUPPORTED, "blob version %u, this runtime reads version %u",
                l.graph->version(), kBlobVersion);
  }
  return WICK_STATUS_OK;
}

// ---- stage: subgraph -----------------------------------------------------

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

// Defines the blob's value `i` (or, for `external_id` XNN_INVALID_VALUE_ID, an
// internal value of the same type and shape: the unclamped result of an op
// whose clamp XNNPACK cannot fuse). Returns its id in `id`.
xnn_status define_value(Loader& l, uint32_t i, uint32_t external_id, uint32_t flags, uint32_t* id) {
  const fb::Value* v = l.graph->values()->Get(i);
  size_t dims[kMaxDims];
  for (uint32_t k = 0; k < v->dims()->size(); ++k) dims[k] = static_cast<size_t>(v->dims()->Get(k));
  const void* data = external_id == XNN_INVALID_VALUE_ID ? nullptr : l.checked.constant[i];
  switch (v->dtype()) {
    case fb::DType::Float32:
      return xnn_define_tensor_value(l.subgraph, xnn_datatype_fp32, v->dims()->size(), dims, data, external_id,
                                     flags, id);
    case fb::DType::QInt8:
    case fb::DType::QInt32:
      return xnn_define_quantized_tensor_value(l.subgraph, to_xnn(v->dtype()), v->zero_point(), v->scale(),
                                               v->dims()->size(), dims, data, external_id, flags, id);
    case fb::DType::QCInt8:
    case fb::DType::QCInt32:
      return xnn_define_channelwise_quantized_tensor_value(l.subgraph, to_xnn(v->dtype()), v->channel_scales()->data(),
                                                           v->dims()->size(), v->channel_dim(), dims, data,
                                                           external_id, flags, id);
  }
  return xnn_status_invalid_parameter;
}

bool has_range(const fb::Node* n) { return !(std::isinf(n->output_min()) && n->output_min() < 0 &&
                                              std::isinf(n->output_max()) && n->output_max() > 0); }

xnn_status define_unary(xnn_subgraph_t g, xnn_unary_operator op, const fb::Node* n, uint32_t x, uint32_t out) {
  xnn_unary_params p;
  std::memset(&p, 0, sizeof(p));
  if (op == xnn_unary_clamp) {
    p.clamp.min = n->output_min();
    p.clamp.max = n->output_max();
  } else if (op == xnn_unary_elu) {
    p.elu.alpha = n->alpha();
  } else if (op == xnn_unary_leaky_relu) {
    p.leaky_relu.negative_slope = n->alpha();
  }
  return xnn_define_unary(g, op, &p, x, out, n->flags());
}

bool unary_of(fb::OpKind k, xnn_unary_operator* op) {
  switch (k) {
    case fb::OpKind::Abs: *op = xnn_unary_abs; return true;
    case fb::OpKind::Negate: *op = xnn_unary_negate; return true;
    case fb::OpKind::Floor: *op = xnn_unary_floor; return true;
    case fb::OpKind::Ceiling: *op = xnn_unary_ceiling; return true;
    case fb::OpKind::SquareRoot: *op = xnn_unary_square_root; return true;
    case fb::OpKind::ReciprocalSquareRoot: *op = xnn_unary_reciprocal_square_root; return true;
    case fb::OpKind::Square: *op = xnn_unary_square; return true;
    case fb::OpKind::Sigmoid: *op = xnn_unary_sigmoid; return true;
    case fb::OpKind::HardSwish: *op = xnn_unary_hardswish; return true;
    case fb::OpKind::LeakyRelu: *op = xnn_unary_leaky_relu; return true;
    case fb::OpKind::Elu: *op = xnn_unary_elu; return true;
    case fb::OpKind::BankersRounding: *op = xnn_unary_bankers_rounding; return true;
    case fb::OpKind::Tanh: *op = xnn_unary_tanh; return true;
    case fb::OpKind::Gelu: *op = xnn_unary_gelu; return true;
    case fb::OpKind::Exp: *op = xnn_unary_exp; return true;
    case fb::OpKind::Log: *op = xnn_unary_log; return true;
    case fb::OpKind::Convert: *op = xnn_unary_convert; return true;
    case fb::OpKind::Clamp: *op = xnn_unary_clamp; return true;
    default: return false;
  }
}

bool binary_of(fb::OpKind k, xnn_binary_operator* op) {
  switch (k) {
    case fb::OpKind::Add: *op = xnn_binary_add; return true;
    case fb::OpKind::Subtract: *op = xnn_binary_subtract; return true;
    case fb::OpKind::Multiply: *op = xnn_binary_multiply; return true;
    case fb::OpKind::Divide: *op = xnn_binary_divide; return true;
    case fb::OpKind::Maximum: *op = xnn_binary_maximum; return true;
    case fb::OpKind::Minimum: *op = xnn_binary_minimum; return true;
    case fb::OpKind::SquaredDifference: *op = xnn_binary_squared_difference; return true;
    case fb::OpKind::Prelu: *op = xnn_binary_prelu; return true;
    default: return false;
  }
}

// Ops that take their output range as a parameter; others get a clamp node
// after them when the blob gives one.
bool takes_range(fb::OpKind k) {
  switch (k) {
    case fb::OpKind::Convolution2d: case fb::OpKind::DepthwiseConvolution2d: case fb::OpKind::Deconvolution2d:
    case fb::OpKind::FullyConnected: case fb::OpKind::MaxPooling2d: case fb::OpKind::AveragePooling2d:
    case fb::OpKind::Clamp: return true;
    default: { xnn_binary_operator b; return binary_of(k, &b); }
  }
}

xnn_status define_op(Loader& l, const fb::Node* n, uint32_t out) {
  xnn_subgraph_t g = l.subgraph;
  const auto* in = n->inputs();
  uint32_t x = in->Get(0);
  uint32_t y = in->size() > 1 ? in->Get(1) : XNN_INVALID_VALUE_ID;
  uint32_t z = in->size() > 2 ? in->Get(2) : XNN_INVALID_VALUE_ID;
  const auto* pv = n->params();
  auto P = [pv](uint32_t i) { return static_cast<uint32_t>(pv->Get(i)); };
  float lo = n->output_min(), hi = n->output_max();
  uint32_t flags = n->flags();
  size_t list[kMaxDims * 2];
  auto params_as_sizes = [&]() {
    for (uint32_t i = 0; i < pv->size(); ++i) list[i] = static_cast<size_t>(pv->Get(i));
    return list;
  };
  xnn_unary_operator unary;
  xnn_binary_operator binary;
  if (unary_of(n->kind(), &unary)) return define_unary(g, unary, n, x, out);
  if (binary_of(n->kind(), &binary)) {
    xnn_binary_params p{lo, hi};
    return xnn_define_binary(g, binary, has_range(n) ? &p : nullptr, x, y, out, flags);
  }
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
    case fb::OpKind::GlobalAveragePooling2d: {
      const size_t axes[2] = {1, 2};
      uint32_t keep = l.graph->values()->Get(n->outputs()->Get(0))->dims()->size() == 4 ? XNN_FLAG_KEEP_DIMS : 0;
      return xnn_define_static_reduce(g, xnn_reduce_mean, 2, axes, x, out, keep);
    }
    case fb::OpKind::Softmax: return xnn_define_softmax(g, x, out, flags);
    case fb::OpKind::StaticReshape: return xnn_define_static_reshape(g, pv->size(), params_as_sizes(), x, out, flags);
    case fb::OpKind::StaticConstantPad: {
      params_as_sizes();
      return xnn_define_static_constant_pad(g, list, list + pv->size() / 2, n->alpha(), x, out, flags);
    }
    case fb::OpKind::StaticResizeBilinear2d:
      return xnn_define_static_resize_bilinear_2d(g, P(0), P(1), x, out, flags);
    case fb::OpKind::DepthToSpace: return xnn_define_depth_to_space_2d(g, P(0), x, out, flags);
    case fb::OpKind::StaticTranspose:
      return xnn_define_static_transpose(g, pv->size(), params_as_sizes(), x, out, flags);
    case fb::OpKind::Concatenate: {
      uint32_t ids[64];
      for (uint32_t i = 0; i < in->size(); ++i) ids[i] = in->Get(i);
      return xnn_define_concatenate(g, static_cast<int32_t>(pv->Get(0)), in->size(), ids, out, flags);
    }
    case fb::OpKind::StaticSlice: {
      params_as_sizes();
      size_t r = pv->size() / 2;
      return xnn_define_static_slice(g, r, list, list + r, x, out, flags);
    }
    case fb::OpKind::BatchMatrixMultiply: return xnn_define_batch_matrix_multiply(g, x, y, out, flags);
    case fb::OpKind::ReduceSum: case fb::OpKind::ReduceMean: case fb::OpKind::ReduceMax: {
      xnn_reduce_operator op = n->kind() == fb::OpKind::ReduceSum    ? xnn_reduce_sum
                               : n->kind() == fb::OpKind::ReduceMean ? xnn_reduce_mean
                                                                     : xnn_reduce_max;
      return xnn_define_static_reduce(g, op, pv->size(), params_as_sizes(), x, out, flags);
    }
    case fb::OpKind::Copy: return xnn_define_copy(g, x, out, flags);
    default: return xnn_status_invalid_parameter;
  }
}

WickStatus define_subgraph(Loader& l) {
  const size_t num_values = l.checked.num_values;
  xnn_status st = xnn_create_subgraph(static_cast<uint32_t>(num_values), 0, &l.subgraph);
  if (st != xnn_status_success) {
    return fail(l.error, l.error_size, WICK_STATUS_ERROR, "xnn_create_subgraph failed: %s", status_name(st));
  }
  // External flags: what the bindings name (check_graph made sure they are consistent).
  uint8_t* role = new (std::nothrow) uint8_t[num_values + 1]();
  if (role == nullptr) return WICK_STATUS_OUT_OF_MEMORY;
  for (uint32_t i = 0; i < l.graph->inputs()->size(); ++i) {
    uint32_t v = l.graph->inputs()->Get(i)->value();
    if (v != XNN_INVALID_VALUE_ID) role[v] |= 1;
  }
  for (uint32_t i = 0; i < l.graph->outputs()->size(); ++i) role[l.graph->outputs()->Get(i)->value()] |= 2;
  for (uint32_t i = 0; i < num_values && st == xnn_status_success; ++i) {
    uint32_t flags = ((role[i] & 1) ? XNN_VALUE_FLAG_EXTERNAL_INPUT : 0) |
                     ((role[i] & 2) ? XNN_VALUE_FLAG_EXTERNAL_OUTPUT : 0);
    uint32_t id = 0;
    st = define_value(l, i, i, flags, &id);
    if (st != xnn_status_success) {
      delete[] role;
      return fail(l.error, l.error_size, WICK_STATUS_ERROR, "defining value %u failed: %s", i, status_name(st));
    }
  }
  delete[] role;
  for (uint32_t i = 0; i < l.graph->nodes()->size(); ++i) {
    const fb::Node* n = l.graph->nodes()->Get(i);
    uint32_t out = n->outputs()->Get(0);
    bool extra_clamp = has_range(n) && !takes_range(n->kind());
    uint32_t result = out;
    if (extra_clamp) st = define_value(l, out, XNN_INVALID_VALUE_ID, 0, &result);
    if (st == xnn_status_success) st = define_op(l, n, result);
    if (st == xnn_status_success && extra_clamp) st = define_unary(l.subgraph, xnn_unary_clamp, n, result, out);
    if (st != xnn_status_success) {
      return fail(l.error, l.error_size, WICK_STATUS_ERROR, "XNNPACK refused node %u (%s): %s", i,
                  fb::EnumNameOpKind(n->kind()), status_name(st));
    }
  }
  return WICK_STATUS_OK;
}

// ---- stage: runtime ------------------------------------------------------

WickStatus create_runtime(Loader& l) {
  Delegate* d = l.d;
  d->threads = l.threads;
  d->pool = l.threads > 1 ? acquire_pool(l.threads) : nullptr;
  if (l.threads > 1 && d->pool == nullptr) {
    return fail(l.error, l.error_size, WICK_STATUS_OUT_OF_MEMORY, "cannot create a pool of %zu threads", l.threads);
  }
  xnn_status st = xnn_create_runtime_v2(l.subgraph, d->pool, 0, &d->runtime);
  if (st != xnn_status_success) {
    return fail(l.error, l.error_size, WICK_STATUS_ERROR, "xnn_create_runtime_v2 failed: %s", status_name(st));
  }
  return WICK_STATUS_OK;
}

// ---- stage: external values ----------------------------------------------

WickStatus bind(Loader& l, const fb::Binding* fbb, Binding& b) {
  b.ignored = fbb->value() == XNN_INVALID_VALUE_ID;
  b.value = b.ignored ? 0 : fbb->value();
  b.nchw = fbb->nchw();
  b.dim = fbb->dims() ? static_cast<int32_t>(fbb->dims()->size()) : 0;
  b.numel = 0;
  b.elem_size = 0;
  b.buffer = nullptr;
  b.dtype = WICK_DTYPE_FLOAT32;
  if (b.ignored) return WICK_STATUS_OK;
  for (int32_t k = 0; k < b.dim; ++k) b.sizes[k] = fbb->dims()->Get(k);
  b.numel = l.checked.numels[b.value];
  bool is_float = l.graph->values()->Get(b.value)->dtype() == fb::DType::Float32;
  b.dtype = is_float ? WICK_DTYPE_FLOAT32 : WICK_DTYPE_INT8;
  b.elem_size = is_float ? sizeof(float) : 1;
  // XNN_EXTRA_BYTES of slack: XNNPACK may read past the end of an input.
  size_t bytes = (b.numel * b.elem_size + XNN_EXTRA_BYTES + 63) / 64 * 64;
  b.buffer = std::aligned_alloc(64, bytes);
  if (b.buffer == nullptr) {
    return fail(l.error, l.error_size, WICK_STATUS_OUT_OF_MEMORY, "cannot allocate %zu bytes for value %u", bytes,
                b.value);
  }
  std::memset(b.buffer, 0, bytes);
  l.d->owned[l.d->num_owned++] = b.buffer;
  return WICK_STATUS_OK;
}

WickStatus bind_externals(Loader& l) {
  Delegate* d = l.d;
  for (uint32_t i = 0; i < d->num_inputs; ++i) {
    WickStatus s = bind(l, l.graph->inputs()->Get(i), d->inputs[i]);
    if (s != WICK_STATUS_OK) return s;
  }
  for (uint32_t i = 0; i < d->num_outputs; ++i) {
    WickStatus s = bind(l, l.graph->outputs()->Get(i), d->outputs[i]);
    if (s != WICK_STATUS_OK) return s;
  }
  xnn_status st = xnn_reshape_runtime(d->runtime);
  if (st != xnn_status_success) {
    return fail(l.error, l.error_size, WICK_STATUS_ERROR, "xnn_reshape_runtime failed: %s", status_name(st));
  }
  // The shapes XNNPACK derived must be the ones the blob declared (and the
  // output buffers were sized for).
  for (uint32_t i = 0; i < d->num_outputs; ++i) {
    size_t rank = 0, dims[XNN_MAX_TENSOR_DIMS];
    st = xnn_get_external_value_shape(d->runtime, d->outputs[i].value, &rank, dims);
    const fb::Value* v = l.graph->values()->Get(d->outputs[i].value);
    bool agree = st == xnn_status_success && rank == v->dims()->size();
    for (size_t k = 0; agree && k < rank; ++k) agree = dims[k] == v->dims()->Get(k);
    if (!agree) {
      return fail(l.error, l.error_size, WICK_STATUS_INVALID_ARGUMENT,
                  "output %u: XNNPACK computes another shape than the blob declares", i);
    }
  }
  xnn_external_value* externals = new (std::nothrow) xnn_external_value[d->num_inputs + d->num_outputs + 1];
  if (externals == nullptr) return WICK_STATUS_OUT_OF_MEMORY;
  size_t n = 0;
  for (uint32_t i = 0; i < d->num_inputs; ++i) {
    if (!d->inputs[i].ignored) externals[n++] = xnn_external_value{d->inputs[i].value, d->inputs[i].buffer};
  }
  for (uint32_t i = 0; i < d->num_outputs; ++i) externals[n++] = xnn_external_value{d->outputs[i].value,
                                                                                    d->outputs[i].buffer};
  st = xnn_setup_runtime_v2(d->runtime, n, externals);
  delete[] externals;
  if (st != xnn_status_success) {
    return fail(l.error, l.error_size, WICK_STATUS_ERROR, "xnn_setup_runtime_v2 failed: %s", status_name(st));
  }
  return WICK_STATUS_OK;
}

WickStatus new_delegate(Loader& l) {
  Delegate* d = new (std::nothrow) Delegate();
  if (d == nullptr) return WICK_STATUS_OUT_OF_MEMORY;
  l.d = d;
  d->num_inputs = l.graph->inputs()->size();
  d->num_outputs = l.graph->outputs()->size();
  d->inputs = new (std::nothrow) Binding[d->num_inputs + 1];
  d->outputs = new (std::nothrow) Binding[d->num_outputs + 1];
  d->owned = new (std::nothrow) void*[d->num_inputs + d->num_outputs + 1];
  if (d->inputs == nullptr || d->outputs == nullptr || d->owned == nullptr) return WICK_STATUS_OUT_OF_MEMORY;
  return WICK_STATUS_OK;
}

WickStatus run_stages(Loader& l, const uint8_t* blob, size_t size, const WickCompileSpec* specs, size_t num_specs) {
  WickStatus s = parse_options(l, specs, num_specs);
  if (s == WICK_STATUS_OK) s = open_blob(l, blob, size);
  if (s == WICK_STATUS_OK && !wick_xnnpack::check_graph(l.graph, &l.checked, l.error, l.error_size)) {
    s = WICK_STATUS_INVALID_ARGUMENT;
  }
  if (s == WICK_STATUS_OK) {
    xnn_status st = xnn_initialize(nullptr);
    if (st != xnn_status_success) {
      s = fail(l.error, l.error_size, WICK_STATUS_UNSUPPORTED, "xnn_initialize failed: %s", status_name(st));
    }
  }
  if (s == WICK_STATUS_OK) s = define_subgraph(l);
  if (s == WICK_STATUS_OK) s = new_delegate(l);
  if (s == WICK_STATUS_OK) s = create_runtime(l);
  if (s == WICK_STATUS_OK) s = bind_externals(l);
  return s;
}

WickStatus init(void*, const WickInitArgs* args, void** handle, char* error, size_t error_size) {
  *handle = nullptr;
  Loader l;
  l.error = error;
  l.error_size = error_size;
  WickStatus s = run_stages(l, args->blob, args->blob_size, args->specs, args->num_specs);
  if (s == WICK_STATUS_OK) {
    *handle = l.d;
    if (g_host != nullptr) {
      char line[200];
      std::snprintf(line, sizeof(line), "%s delegate %u: %u XNNPACK nodes, %zu values, %zu threads",
                    args->method_name ? args->method_name : "?", args->delegate_index, l.graph->nodes()->size(),
                    l.checked.num_values, l.threads);
      wick_log(g_host, kBackendName, WICK_LOG_DEBUG, line);
    }
  }
  l.release(/*keep_delegate=*/s == WICK_STATUS_OK);
  return s;
}

// ---- execute -------------------------------------------------------------

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

// Bytes one argument moves, for the copy events' counters.
int64_t arg_bytes(const Binding& b) { return b.ignored ? 0 : static_cast<int64_t>(b.numel * b.elem_size); }

WickStatus execute(void*, void* handle, WickTensorArg* args, size_t num_args, char* error, size_t error_size) {
  Delegate* d = static_cast<Delegate*>(handle);
  if (num_args != d->num_inputs + d->num_outputs) {
    return fail(error, error_size, WICK_STATUS_INVALID_ARGUMENT, "called with %zu arguments, the subgraph takes %zu "
                "inputs and %zu outputs", num_args, d->num_inputs, d->num_outputs);
  }
  // Every argument is checked before the first event begins, so no event is
  // left open by an error.
  for (size_t i = 0; i < d->num_inputs; ++i) {
    if (d->inputs[i].ignored) continue;
    WickStatus s = check_arg(d->inputs[i], args[i], true, i, error, error_size);
    if (s != WICK_STATUS_OK) return s;
  }
  for (size_t i = 0; i < d->num_outputs; ++i) {
    WickStatus s = check_arg(d->outputs[i], args[d->num_inputs + i], false, i, error, error_size);
    if (s != WICK_STATUS_OK) return s;
  }

  uint64_t event = wick_event_begin(g_host, "copy_in");
  int64_t bytes = 0, transposed = 0;
  for (size_t i = 0; i < d->num_inputs; ++i) {
    const Binding& b = d->inputs[i];
    if (b.ignored) continue;
    if (b.nchw) {
      convert_layout(d->pool, b, args[i].data, b.buffer, true);
      ++transposed;
    } else {
      std::memcpy(b.buffer, args[i].data, b.numel * b.elem_size);
    }
    bytes += arg_bytes(b);
  }
  if (event != 0) {
    const WickEventCounter counters[] = {{"bytes", bytes}, {"nchw_to_nhwc", transposed}};
    wick_event_end(g_host, event, counters, 2);
  }

  event = wick_event_begin(g_host, "invoke");
  xnn_status st = xnn_invoke_runtime(d->runtime);
  if (event != 0) {
    const WickEventCounter threads{"threads", static_cast<int64_t>(d->threads)};
    wick_event_end(g_host, event, &threads, 1);
  }
  if (st != xnn_status_success) {
    return fail(error, error_size, WICK_STATUS_ERROR, "xnn_invoke_runtime failed: %s", status_name(st));
  }

  event = wick_event_begin(g_host, "copy_out");
  bytes = transposed = 0;
  for (size_t i = 0; i < d->num_outputs; ++i) {
    const Binding& b = d->outputs[i];
    WickTensorArg& a = args[d->num_inputs + i];
    a.dim = b.dim;
    for (int32_t k = 0; k < b.dim; ++k) a.sizes[k] = b.sizes[k];
    if (b.nchw) {
      convert_layout(d->pool, b, b.buffer, a.data, false);
      ++transposed;
    } else {
      std::memcpy(a.data, b.buffer, b.numel * b.elem_size);
    }
    bytes += arg_bytes(b);
  }
  if (event != 0) {
    const WickEventCounter counters[] = {{"bytes", bytes}, {"nhwc_to_nchw", transposed}};
    wick_event_end(g_host, event, counters, 2);
  }
  return WICK_STATUS_OK;
}

void destroy(void*, void* handle) { destroy_delegate(handle); }

WickStatus attach(void*, const WickHostServices* host, char*, size_t) {
  g_host = host;
  return WICK_STATUS_OK;
}

int is_available(void*, char* reason, size_t reason_size) {
  xnn_status st = xnn_initialize(nullptr);
  if (st != xnn_status_success) {
    std::snprintf(reason, reason_size, "xnn_initialize failed (%s): this CPU lacks what XNNPACK needs",
                  status_name(st));
    return 0;
  }
  return 1;
}

// The blob needs the XNNPACK build and the blob reader it was written for:
// another plugin version may write another graph for the same model, another
// XNNPACK may define a node differently. An empty string (a blob exported
// before compatibility strings) is left to init()'s own checks.
WickStatus validate_blob(void*, const uint8_t*, size_t, const char* compatibility, char* error, size_t error_size) {
  if (compatibility == nullptr || compatibility[0] == '\0' || std::strcmp(compatibility, kCompatibility) == 0) {
    return WICK_STATUS_OK;
  }
  return fail(error, error_size, WICK_STATUS_INCOMPATIBLE_BLOB,
              "the blob was made for \"%s\", but this runtime is \"%s\"; export the model again with the "
              "installed wick-xnnpack", compatibility, kCompatibility);
}

// "avx2 fma avx512f ...": the instruction sets cpuid reports, from which
// XNNPACK picks its microkernels at init.
const char* cpu_features() {
  static char text[160] = "";
  static std::once_flag once;
  std::call_once(once, [] {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    struct Feature {
      const char* name;
      bool present;
    };
    const Feature features[] = {
        {"sse4.1", __builtin_cpu_supports("sse4.1") != 0}, {"avx", __builtin_cpu_supports("avx") != 0},
        {"avx2", __builtin_cpu_supports("avx2") != 0},     {"fma", __builtin_cpu_supports("fma") != 0},
        {"f16c", __builtin_cpu_supports("f16c") != 0},     {"avx512f", __builtin_cpu_supports("avx512f") != 0},
        {"avx512bw", __builtin_cpu_supports("avx512bw") != 0},
        {"avx512vnni", __builtin_cpu_supports("avx512vnni") != 0},
        {"avxvnni", __builtin_cpu_supports("avxvnni") != 0},
    };
    size_t n = 0;
    for (const Feature& f : features) {
      if (!f.present) continue;
      int w = std::snprintf(text + n, sizeof(text) - n, "%s%s", n ? " " : "", f.name);
      if (w < 0 || static_cast<size_t>(w) >= sizeof(text) - n) break;
      n += static_cast<size_t>(w);
    }
#elif defined(__aarch64__)
    std::snprintf(text, sizeof(text), "aarch64 (NEON)");
#endif
  });
  return text;
}

WickStatus device_info(void*, WickDeviceInfo* info) {
  static char device[256];
  static std::once_flag once;
  std::call_once(once, [] {
    // The default pool size (no compile spec, no load-time option).
    Loader l;
    parse_options(l, nullptr, 0);
    std::snprintf(device, sizeof(device), "host CPU, %zu threads by default; %s", l.threads,
                  cpu_features()[0] ? cpu_features() : "CPU features unknown");
  });
  info->device = device;
  info->driver_version = "XNNPACK 2026-08-21 (" WICK_XNNPACK_LIBRARY_COMMIT ", linked statically)";
  info->backend_version = kCompatibility;
  return WICK_STATUS_OK;
}

const WickBackend2 kBackend = {
    WICK_STRUCT_HEADER(WickBackend2),
    0,  // min_host_minor: any ABI 2.x host
    0,       kBackendName, nullptr, attach, is_available, validate_blob, init, execute, destroy, device_info,
};

}  // namespace

extern "C" __attribute__((visibility("default"))) const WickBackend2* wick_backend_entry2() { return &kBackend; }
