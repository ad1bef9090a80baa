#include "wick/runtime/backend_registry.h"

#include <cstring>

namespace wick {
namespace {
constexpr size_t kMaxBackends = 32;
struct Entry {
  const WickBackend* backend;
  char source[256];
};
Entry g_backends[kMaxBackends];
size_t g_backend_count = 0;
}  // namespace

Error register_backend(const WickBackend* backend, const char* source) {
  if (backend == nullptr) return fail(Error::InvalidArgument, "backend from %s is null", source);
  if (backend->abi_version != WICK_BACKEND_ABI_VERSION) {
    return fail(Error::NotSupported,
                "backend from %s was built for Wick backend ABI version %u, but this runtime implements version %u; "
                "rebuild the plugin against this Wick",
                source, backend->abi_version, static_cast<unsigned>(WICK_BACKEND_ABI_VERSION));
  }
  if (backend->name == nullptr || backend->init == nullptr || backend->execute == nullptr) {
    return fail(Error::InvalidArgument, "backend from %s lacks a name, init or execute function", source);
  }
  for (size_t i = 0; i < g_backend_count; ++i) {
    if (std::strcmp(g_backends[i].backend->name, backend->name) == 0) {
      if (g_backends[i].backend == backend) {
        return fail(Error::InvalidArgument, "backend '%s' from %s is already registered", backend->name, source);
      }
      return fail(Error::InvalidArgument, "backend name '%s' from %s clashes with the one already registered from %s",
                  backend->name, source, g_backends[i].source);
    }
  }
  if (g_backend_count == kMaxBackends) {
    return fail(Error::OutOfMemory, "backend registry is full (%zu backends); cannot add '%s'", kMaxBackends, backend->name);
  }
  Entry& e = g_backends[g_backend_count++];
  e.backend = backend;
  std::strncpy(e.source, source, sizeof(e.source) - 1);
  e.source[sizeof(e.source) - 1] = '\0';
  return Error::Ok;
}

const WickBackend* find_backend(const char* name) {
  for (size_t i = 0; i < g_backend_count; ++i) {
    if (std::strcmp(g_backends[i].backend->name, name) == 0) return g_backends[i].backend;
  }
  return nullptr;
}

size_t registered_backend_count() { return g_backend_count; }
const WickBackend* registered_backend(size_t index) { return g_backends[index].backend; }
const char* registered_backend_source(size_t index) { return g_backends[index].source; }

}  // namespace wick
