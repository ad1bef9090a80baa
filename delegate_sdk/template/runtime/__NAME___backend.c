/* Runtime half of the '__NAME__' backend: pure C99 against wick/backend.h
 * (backend ABI 2). Checks the blob's compatibility string (validate_blob),
 * parses the blob written by backend.py at init (every count and index
 * checked: a bad blob is an error, not a crash), then runs same-shape float32
 * add/sub/mul/relu, one traced event per op. All memory comes from the host
 * allocator at init; execute allocates nothing. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "wick/backend.h"

#define EXPORT __attribute__((visibility("default")))

/* Must equal what backend.py writes (COMPATIBILITY there): this build's
 * version, blob format and target. A blob made for anything else is refused
 * at load by validate_blob, not misread. */
#define COMPATIBILITY "__NAME__ 0.1.0; blob WKTB 1; target host-cpu"

/* The host services, received at registration (attach). */
static const WickHostServices* g_host = NULL;

enum { KIND_INPUT = 0, KIND_OUTPUT = 1, KIND_INTERMEDIATE = 2, KIND_CONSTANT = 3 };

typedef struct Op {
  uint32_t opcode, a, b, out;
} Op;

typedef struct Delegate {
  uint32_t num_tensors, num_inputs, num_outputs, num_ops;
  uint32_t* kinds;
  uint32_t* positions;
  uint64_t* numels;
  float** data; /* per tensor: constant/intermediate storage, or bound per execute */
  Op* ops;
} Delegate;

static uint32_t read_u32(const uint8_t* p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

static uint64_t read_u64(const uint8_t* p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

static WickStatus attach(void* self, const WickHostServices* host, char* error, size_t error_size) {
  (void)self;
  (void)error;
  (void)error_size;
  g_host = host;
  wick_log(host, "__NAME__", WICK_LOG_DEBUG, "attached (" COMPATIBILITY ")");
  return WICK_STATUS_OK;
}

static int is_available(void* self, char* reason, size_t reason_size) {
  (void)self;
  (void)reason;
  (void)reason_size;
  return 1; /* plain C on the host CPU: always */
}

static WickStatus fail(char* error, size_t error_size, const char* message) {
  snprintf(error, error_size, "__NAME__: %s", message);
  return WICK_STATUS_INVALID_ARGUMENT;
}

static WickStatus validate_blob(void* self, const uint8_t* blob, size_t size, const char* compatibility,
                                char* error, size_t error_size) {
  (void)self;
  (void)blob;
  (void)size;
  if (strcmp(compatibility, COMPATIBILITY) == 0) return WICK_STATUS_OK;
  snprintf(error, error_size, "the blob was made for \"%s\", but this runtime is \"%s\"; re-export the model "
           "with the installed plugin", compatibility[0] ? compatibility : "(no compatibility string)", COMPATIBILITY);
  return WICK_STATUS_INCOMPATIBLE_BLOB;
}

static WickStatus init(void* self, const WickInitArgs* args, void** handle, char* error, size_t error_size) {
  const uint8_t* blob = args->blob;
  const size_t size = args->blob_size;
  const WickCompileSpec* specs = args->specs;
  const size_t num_specs = args->num_specs;
  const WickHostAllocator* alloc = args->allocator;
  (void)self;
  /* This backend reads no compile spec or load-time option: name one rather than ignore it
     (a vendor backend checks its keys here, and lists them under runtime_options). */
  if (num_specs > 0) {
    snprintf(error, error_size, "__NAME__: unknown compile spec or option '%s' (this backend takes none)",
             specs[0].key);
    return WICK_STATUS_INVALID_ARGUMENT;
  }
  if (size < 32 || memcmp(blob, "WKTB", 4) != 0) return fail(error, error_size, "blob is not a WKTB blob");
  if (read_u32(blob + 4) != 1) return fail(error, error_size, "unsupported blob version");
  Delegate* d = (Delegate*)alloc->allocate(alloc->context, sizeof(Delegate), 16);
  if (d == NULL) return WICK_STATUS_OUT_OF_MEMORY;
  d->num_tensors = read_u32(blob + 8);
  d->num_inputs = read_u32(blob + 12);
  d->num_outputs = read_u32(blob + 16);
  d->num_ops = read_u32(blob + 20);
  uint64_t data_offset = read_u64(blob + 24);
  if (d->num_tensors > (1u << 20) || d->num_ops > (1u << 20)) return fail(error, error_size, "blob counts too large");
  uint64_t table_end = 32 + 24ull * d->num_tensors + 16ull * d->num_ops;
  if (table_end > size || data_offset > size || data_offset < table_end) {
    return fail(error, error_size, "blob tables extend past its end");
  }
  size_t n = d->num_tensors ? d->num_tensors : 1;
  d->kinds = (uint32_t*)alloc->allocate(alloc->context, n * sizeof(uint32_t), 16);
  d->positions = (uint32_t*)alloc->allocate(alloc->context, n * sizeof(uint32_t), 16);
  d->numels = (uint64_t*)alloc->allocate(alloc->context, n * sizeof(uint64_t), 16);
  d->data = (float**)alloc->allocate(alloc->context, n * sizeof(float*), 16);
  d->ops = (Op*)alloc->allocate(alloc->context, (d->num_ops ? d->num_ops : 1) * sizeof(Op), 16);
  if (!d->kinds || !d->positions || !d->numels || !d->data || !d->ops) return WICK_STATUS_OUT_OF_MEMORY;
  const uint8_t* p = blob + 32;
  for (uint32_t i = 0; i < d->num_tensors; ++i, p += 24) {
    d->kinds[i] = read_u32(p);
    d->positions[i] = read_u32(p + 4);
    d->numels[i] = read_u64(p + 8);
    uint64_t offset = read_u64(p + 16);
    d->data[i] = NULL;
    if (d->numels[i] > (1ull << 32)) return fail(error, error_size, "tensor too large");
    switch (d->kinds[i]) {
      case KIND_INPUT:
        if (d->positions[i] >= d->num_inputs) return fail(error, error_size, "input position out of range");
        break;
      case KIND_OUTPUT:
        if (d->positions[i] >= d->num_outputs) return fail(error, error_size, "output position out of range");
        break;
      case KIND_CONSTANT:
        if (offset % 16 != 0 || data_offset + offset + d->numels[i] * 4 > size) {
          return fail(error, error_size, "constant outside the blob");
        }
        /* the blob outlives the handle; it is 16-byte aligned in the program */
        d->data[i] = (float*)(blob + data_offset + offset);
        break;
      case KIND_INTERMEDIATE:
        d->data[i] = (float*)alloc->allocate(alloc->context, (size_t)(d->numels[i] ? d->numels[i] : 1) * 4, 64);
        if (d->data[i] == NULL) return WICK_STATUS_OUT_OF_MEMORY;
        break;
      default:
        return fail(error, error_size, "unknown tensor kind");
    }
  }
  for (uint32_t i = 0; i < d->num_ops; ++i, p += 16) {
    Op op = {read_u32(p), read_u32(p + 4), read_u32(p + 8), read_u32(p + 12)};
    if (op.opcode < 1 || op.opcode > 4) return fail(error, error_size, "unknown opcode");
    if (op.a >= d->num_tensors || op.b >= d->num_tensors || op.out >= d->num_tensors) {
      return fail(error, error_size, "op refers to a tensor out of range");
    }
    uint64_t numel = d->numels[op.out];
    if (d->numels[op.a] != numel || (op.opcode != 4 && d->numels[op.b] != numel)) {
      return fail(error, error_size, "op operands differ in size");
    }
    if (d->kinds[op.out] == KIND_INPUT || d->kinds[op.out] == KIND_CONSTANT) {
      return fail(error, error_size, "op writes an input or constant");
    }
    d->ops[i] = op;
  }
  *handle = d;
  return WICK_STATUS_OK;
}

static const char* const OP_NAMES[] = {"", "add", "sub", "mul", "relu"};

static WickStatus execute(void* self, void* handle, WickTensorArg* args, size_t num_args, char* error,
                          size_t error_size) {
  Delegate* d = (Delegate*)handle;
  (void)self;
  if (num_args != (size_t)d->num_inputs + d->num_outputs) return fail(error, error_size, "wrong argument count");
  for (uint32_t i = 0; i < d->num_tensors; ++i) {
    if (d->kinds[i] != KIND_INPUT && d->kinds[i] != KIND_OUTPUT) continue;
    WickTensorArg* a = &args[d->kinds[i] == KIND_INPUT ? d->positions[i] : d->num_inputs + d->positions[i]];
    uint64_t numel = 1;
    for (int32_t k = 0; k < a->dim; ++k) numel *= (uint64_t)a->sizes[k];
    if (a->dtype != WICK_DTYPE_FLOAT32 || numel != d->numels[i]) {
      return fail(error, error_size, "argument dtype or size differs from the compiled subgraph");
    }
    d->data[i] = (float*)a->data;
  }
  for (uint32_t i = 0; i < d->num_ops; ++i) {
    const Op* op = &d->ops[i];
    const float* x = d->data[op->a];
    const float* y = d->data[op->b];
    float* z = d->data[op->out];
    uint64_t n = d->numels[op->out];
    /* A no-op unless a profiler listens (wick.runtime.trace()). */
    uint64_t event = wick_event_begin(g_host, OP_NAMES[op->opcode]);
    switch (op->opcode) {
      case 1: for (uint64_t k = 0; k < n; ++k) z[k] = x[k] + y[k]; break;
      case 2: for (uint64_t k = 0; k < n; ++k) z[k] = x[k] - y[k]; break;
      case 3: for (uint64_t k = 0; k < n; ++k) z[k] = x[k] * y[k]; break;
      case 4: for (uint64_t k = 0; k < n; ++k) z[k] = x[k] > 0.0f ? x[k] : (x[k] != x[k] ? x[k] : 0.0f); break;
    }
    if (event != 0) {
      WickEventCounter elements = {"elements", (int64_t)n};
      wick_event_end(g_host, event, &elements, 1);
    }
  }
  return WICK_STATUS_OK;
}

static void destroy(void* self, void* handle) {
  (void)self;
  (void)handle; /* memory belongs to the host allocator */
}

static WickStatus device_info(void* self, WickDeviceInfo* info) {
  (void)self;
  info->device = "host CPU (C reference)";
  info->backend_version = "__NAME__ 0.1.0";
  return WICK_STATUS_OK;
}

static const WickBackend2 kBackend = {
    WICK_STRUCT_HEADER(WickBackend2),
    0, /* min_host_minor: runs on any ABI 2.x host */
    0,
    "__NAME__",
    NULL, /* self: no per-backend state */
    attach,
    is_available,
    validate_blob,
    init,
    execute,
    destroy,
    device_info,
};

EXPORT const WickBackend2* wick_backend_entry2(void) { return &kBackend; }
