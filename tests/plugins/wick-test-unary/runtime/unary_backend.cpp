// Runtime half of the test_unary backend, in C++ behind the C ABI -- ABI 1:
// built against the frozen v1 header (tests/abi_v1), it is the backend that
// proves an ABI 2 runtime still loads and runs ABI 1 binaries.
// Blob: "UNRY", u32 opcode (1 relu, 2 hardtanh, 3 neg), f32 lo, f32 hi.
// Compile spec "fail_init" = "1" makes init fail (to test that path).
#include <cmath>
#include <cstdio>
#include <cstring>

#include "wick/backend.h"

namespace {

struct Unary {
  uint32_t opcode;
  float lo, hi;
};

int is_available(char*, size_t) { return 1; }

WickStatus init(const uint8_t* blob, size_t size, const WickCompileSpec* specs, size_t num_specs,
                const WickHostAllocator* alloc, void** handle, char* error, size_t error_size) {
  for (size_t i = 0; i < num_specs; ++i) {
    if (std::strcmp(specs[i].key, "fail_init") == 0 && specs[i].value_size == 1 && specs[i].value[0] == '1') {
      std::snprintf(error, error_size, "init refused because compile spec fail_init=1");
      return WICK_STATUS_ERROR;
    }
  }
  if (size != 16 || std::memcmp(blob, "UNRY", 4) != 0) {
    std::snprintf(error, error_size, "blob of %zu bytes is not a UNRY blob", size);
    return WICK_STATUS_INVALID_ARGUMENT;
  }
  auto* u = static_cast<Unary*>(alloc->allocate(alloc->context, sizeof(Unary), alignof(Unary)));
  if (u == nullptr) return WICK_STATUS_OUT_OF_MEMORY;
  std::memcpy(&u->opcode, blob + 4, 4);
  std::memcpy(&u->lo, blob + 8, 4);
  std::memcpy(&u->hi, blob + 12, 4);
  if (u->opcode < 1 || u->opcode > 3) {
    std::snprintf(error, error_size, "unknown opcode %u", u->opcode);
    return WICK_STATUS_INVALID_ARGUMENT;
  }
  *handle = u;
  return WICK_STATUS_OK;
}

WickStatus execute(void* handle, WickTensorArg* args, size_t num_args, char* error, size_t error_size) {
  const Unary& u = *static_cast<Unary*>(handle);
  if (num_args != 2 || args[0].dtype != WICK_DTYPE_FLOAT32 || args[1].dtype != WICK_DTYPE_FLOAT32) {
    std::snprintf(error, error_size, "expected one float32 input and one float32 output");
    return WICK_STATUS_INVALID_ARGUMENT;
  }
  size_t n = 1;
  for (int32_t d = 0; d < args[0].dim; ++d) n *= static_cast<size_t>(args[0].sizes[d]);
  if (n * sizeof(float) > args[1].capacity) {
    std::snprintf(error, error_size, "output too small");
    return WICK_STATUS_INVALID_ARGUMENT;
  }
  // The output takes the input's shape (dynamic shapes resize here).
  args[1].dim = args[0].dim;
  for (int32_t d = 0; d < args[0].dim; ++d) args[1].sizes[d] = args[0].sizes[d];
  const float* x = static_cast<const float*>(args[0].data);
  float* y = static_cast<float*>(args[1].data);
  for (size_t i = 0; i < n; ++i) {
    float v = x[i];
    switch (u.opcode) {
      case 1: y[i] = std::isnan(v) ? v : (v > 0.f ? v : 0.f); break;
      case 2: y[i] = std::isnan(v) ? v : std::fmin(std::fmax(v, u.lo), u.hi); break;
      case 3: y[i] = -v; break;
    }
  }
  return WICK_STATUS_OK;
}

void destroy(void*) {}

const WickBackend kBackend = {WICK_BACKEND_ABI_VERSION, "test_unary", is_available, init, execute, destroy, nullptr};

}  // namespace

extern "C" __attribute__((visibility("default"))) const WickBackend* wick_backend_entry() { return &kBackend; }
