/*
 * arm_ethos runtime half for processes without Python (wick-run, an app
 * embedding Wick's C++ runtime on a host).
 *
 * On a host the Ethos-U delegate runs on the TOSA reference model, which
 * ships only as a Python extension (tosa-tools), so it is reached through
 * Wick's Python bridge. This library exists so that wick-run, given
 * `--backend-lib libwick_arm_ethos_stub.so`, says *why* it cannot run the
 * program instead of only "not registered". A device port replaces it with a
 * real runtime half over Arm's Ethos-U driver (see the README).
 */
#include <stdio.h>

#include "wick/backend.h"

#if defined(_WIN32)
#define EXPORT __declspec(dllexport)
#else
#define EXPORT __attribute__((visibility("default")))
#endif

static const char kWhy[] =
    "TOSA reference model needs Python (run this program from Python with wick-arm-ethos installed); "
    "Ethos-U NPU not present";

static int is_available(void* self, char* reason, size_t reason_size) {
  (void)self;
  snprintf(reason, reason_size, "%s", kWhy);
  return 0;
}

static WickStatus init(void* self, const WickInitArgs* args, void** handle, char* error, size_t error_size) {
  (void)self, (void)args;
  *handle = NULL;
  snprintf(error, error_size, "arm_ethos: %s", kWhy);
  return WICK_STATUS_UNSUPPORTED;
}

static WickStatus execute(void* self, void* handle, WickTensorArg* args, size_t num_args, char* error,
                          size_t error_size) {
  (void)self, (void)handle, (void)args, (void)num_args;
  snprintf(error, error_size, "arm_ethos: %s", kWhy);
  return WICK_STATUS_UNSUPPORTED;
}

static WickStatus device_info(void* self, WickDeviceInfo* info) {
  (void)self;
  info->device = "arm_ethos stub: TOSA reference model (host) needs Python; Ethos-U NPU (not present)";
  return WICK_STATUS_OK;
}

/* Backend ABI 2; runs on any 2.x host. */
static const WickBackend2 kBackend = {
    WICK_STRUCT_HEADER(WickBackend2), 0, 0, "arm_ethos", NULL, NULL, is_available, NULL, init, execute, NULL,
    device_info,
};

EXPORT const WickBackend2* wick_backend_entry2(void) { return &kBackend; }
