/* An ABI 2 backend for the version tests: runs test_unary's blobs ("UNRY",
 * u32 opcode 1 relu / 2 hardtanh / 3 neg, f32 lo, f32 hi) through the 2.0
 * entries only. Compiled twice into one test binary:
 *   plain                         -> "test_unary", built against 2.0, needs 2.0
 *   -DWICK_ABI_TEST_NEXT_MINOR    -> "needs_21", built against 2.1, min_host_minor 1,
 *      -DBACKEND_NEEDS_21            calls the 2.1 host service at attach
 * ENTRY names the entry function (two copies cannot share one symbol). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "wick/backend.h"

#ifdef BACKEND_NEEDS_21
#define NAME "needs_21"
#define MIN_HOST_MINOR 1
#else
#define NAME "test_unary"
#define MIN_HOST_MINOR 0
#endif

typedef struct Unary {
  uint32_t opcode;
  float lo, hi;
} Unary;

static const WickHostServices* g_host;

static WickStatus attach(void* self, const WickHostServices* host, char* error, size_t error_size) {
  (void)self;
  g_host = host;
  printf("%s attached: host services %u bytes, ABI %u.%u\n", NAME, host->header.size, host->header.abi_major,
         host->header.abi_minor);
#ifdef BACKEND_NEEDS_21
  /* A backend needing 2.1 may call 2.1 services; a guard keeps it honest. */
  if (!WICK_HAS_FIELD(host, WickHostServices, test_next_minor)) {
    snprintf(error, error_size, "host services lack the 2.1 entry");
    return WICK_STATUS_UNSUPPORTED;
  }
  printf("%s: 2.1 service returned %d\n", NAME, host->test_next_minor(host->host));
#else
  (void)error;
  (void)error_size;
#endif
  return WICK_STATUS_OK;
}

static WickStatus init(void* self, const WickInitArgs* args, void** handle, char* error, size_t error_size) {
  (void)self;
  if (args->blob_size != 16 || memcmp(args->blob, "UNRY", 4) != 0) {
    snprintf(error, error_size, "not a UNRY blob");
    return WICK_STATUS_INVALID_ARGUMENT;
  }
  Unary* u = (Unary*)args->allocator->allocate(args->allocator->context, sizeof(Unary), 16);
  if (u == NULL) return WICK_STATUS_OUT_OF_MEMORY;
  memcpy(&u->opcode, args->blob + 4, 4);
  memcpy(&u->lo, args->blob + 8, 4);
  memcpy(&u->hi, args->blob + 12, 4);
  printf("%s init: args %u bytes, method %s, delegate %u\n", NAME, args->header.size, args->method_name,
         args->delegate_index);
  *handle = u;
  return WICK_STATUS_OK;
}

static WickStatus execute(void* self, void* handle, WickTensorArg* args, size_t num_args, char* error,
                          size_t error_size) {
  const Unary* u = (const Unary*)handle;
  (void)self;
  if (num_args != 2) {
    snprintf(error, error_size, "expected 2 arguments");
    return WICK_STATUS_INVALID_ARGUMENT;
  }
  size_t n = 1;
  for (int32_t d = 0; d < args[0].dim; ++d) n *= (size_t)args[0].sizes[d];
  const float* x = (const float*)args[0].data;
  float* y = (float*)args[1].data;
  for (size_t i = 0; i < n; ++i) {
    float v = x[i];
    y[i] = u->opcode == 1 ? (v > 0.f ? v : 0.f) : u->opcode == 2 ? fminf(fmaxf(v, u->lo), u->hi) : -v;
  }
  return WICK_STATUS_OK;
}

static const WickBackend2 kBackend = {
    WICK_STRUCT_HEADER(WickBackend2), MIN_HOST_MINOR, 0, NAME, NULL, attach, NULL, NULL, init, execute, NULL, NULL,
#ifdef WICK_ABI_TEST_NEXT_MINOR
    NULL, /* the 2.1 entry: optional, not provided */
#endif
};

const WickBackend2* ENTRY(void) { return &kBackend; }
