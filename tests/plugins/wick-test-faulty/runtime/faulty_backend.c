/* Runtime half of the test_faulty backend: a deliberately wrong backend that
 * the conformance suite must catch, op by op.
 *
 * Blob: "FLTY", u32 opcode (1 add, 2 mul, 3 relu, 4 sigmoid, 5 neg).
 * Known faults (on purpose):
 *   - sigmoid uses x/(1+|x|) as an approximation: off by up to ~0.07;
 *   - relu is `x > 0 ? x : 0`, so NaN becomes 0 instead of staying NaN.
 * add, mul and neg are exact. Compile specs make it misbehave on request,
 * to test the suite's isolation (value = op name, e.g. crash_on=neg):
 *   crash_on  raise SIGSEGV in execute;  abort_on  abort() in execute;
 *   hang_on   spin forever in execute. */
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wick/backend.h"

#define EXPORT __attribute__((visibility("default")))

enum { OP_ADD = 1, OP_MUL, OP_RELU, OP_SIGMOID, OP_NEG };
enum { MISBEHAVE_NONE = 0, MISBEHAVE_CRASH, MISBEHAVE_ABORT, MISBEHAVE_HANG };

static const char* const kNames[] = {"", "add", "mul", "relu", "sigmoid", "neg"};

typedef struct Faulty {
  uint32_t opcode;
  int misbehave;
} Faulty;

static int is_available(char* reason, size_t size) {
  (void)reason;
  (void)size;
  return 1;
}

static int spec_names(const WickCompileSpec* s, const char* key, uint32_t opcode) {
  size_t n = strlen(kNames[opcode]);
  return strcmp(s->key, key) == 0 && s->value_size == n && memcmp(s->value, kNames[opcode], n) == 0;
}

static WickStatus init(const uint8_t* blob, size_t size, const WickCompileSpec* specs, size_t num_specs,
                       const WickHostAllocator* alloc, void** handle, char* error, size_t error_size) {
  Faulty* f;
  uint32_t opcode;
  size_t i;
  if (size != 8 || memcmp(blob, "FLTY", 4) != 0) {
    snprintf(error, error_size, "blob of %zu bytes is not a FLTY blob", size);
    return WICK_STATUS_INVALID_ARGUMENT;
  }
  memcpy(&opcode, blob + 4, 4);
  if (opcode < OP_ADD || opcode > OP_NEG) {
    snprintf(error, error_size, "unknown opcode %u", (unsigned)opcode);
    return WICK_STATUS_INVALID_ARGUMENT;
  }
  f = (Faulty*)alloc->allocate(alloc->context, sizeof(Faulty), sizeof(void*));
  if (f == NULL) return WICK_STATUS_OUT_OF_MEMORY;
  f->opcode = opcode;
  f->misbehave = MISBEHAVE_NONE;
  for (i = 0; i < num_specs; ++i) {
    if (spec_names(&specs[i], "crash_on", opcode)) f->misbehave = MISBEHAVE_CRASH;
    if (spec_names(&specs[i], "abort_on", opcode)) f->misbehave = MISBEHAVE_ABORT;
    if (spec_names(&specs[i], "hang_on", opcode)) f->misbehave = MISBEHAVE_HANG;
  }
  *handle = f;
  return WICK_STATUS_OK;
}

static size_t numel(const WickTensorArg* t) {
  size_t n = 1;
  int32_t d;
  for (d = 0; d < t->dim; ++d) n *= (size_t)t->sizes[d];
  return n;
}

static WickStatus execute(void* handle, WickTensorArg* args, size_t num_args, char* error, size_t error_size) {
  const Faulty* f = (const Faulty*)handle;
  size_t num_inputs = (f->opcode == OP_ADD || f->opcode == OP_MUL) ? 2 : 1;
  size_t n, k, a;
  int32_t d;
  const float* x;
  const float* y;
  float* z;
  if (f->misbehave == MISBEHAVE_CRASH) raise(SIGSEGV);
  if (f->misbehave == MISBEHAVE_ABORT) abort();
  if (f->misbehave == MISBEHAVE_HANG) {
    volatile unsigned long spin = 0;
    for (;;) ++spin;
  }
  if (num_args != num_inputs + 1) {
    snprintf(error, error_size, "%s: expected %zu arguments, got %zu", kNames[f->opcode], num_inputs + 1, num_args);
    return WICK_STATUS_INVALID_ARGUMENT;
  }
  for (a = 0; a < num_args; ++a) {
    if (args[a].dtype != WICK_DTYPE_FLOAT32) {
      snprintf(error, error_size, "%s: float32 only", kNames[f->opcode]);
      return WICK_STATUS_UNSUPPORTED;
    }
  }
  n = numel(&args[0]);
  if (n * sizeof(float) > args[num_inputs].capacity) {
    snprintf(error, error_size, "%s: output too small", kNames[f->opcode]);
    return WICK_STATUS_INVALID_ARGUMENT;
  }
  args[num_inputs].dim = args[0].dim;
  for (d = 0; d < args[0].dim; ++d) args[num_inputs].sizes[d] = args[0].sizes[d];
  x = (const float*)args[0].data;
  y = num_inputs == 2 ? (const float*)args[1].data : NULL;
  z = (float*)args[num_inputs].data;
  for (k = 0; k < n; ++k) {
    switch (f->opcode) {
      case OP_ADD: z[k] = x[k] + y[k]; break;
      case OP_MUL: z[k] = x[k] * y[k]; break;
      case OP_RELU: z[k] = x[k] > 0.0f ? x[k] : 0.0f; break;                       /* fault: NaN -> 0 */
      case OP_SIGMOID: z[k] = 0.5f + 0.5f * x[k] / (1.0f + fabsf(x[k])); break;  /* fault: crude */
      case OP_NEG: z[k] = -x[k]; break;
    }
  }
  return WICK_STATUS_OK;
}

static void destroy(void* handle) { (void)handle; /* memory belongs to the host allocator */ }

static const char* info(void) { return "test_faulty: deliberately wrong C backend (conformance self-test)"; }

static const WickBackend kBackend = {WICK_BACKEND_ABI_VERSION, "test_faulty", is_available, init, execute, destroy,
                                     info};

EXPORT const WickBackend* wick_backend_entry(void) { return &kBackend; }
