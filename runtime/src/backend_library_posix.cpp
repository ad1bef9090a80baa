// Loading a backend from a shared library by path (dlopen). Kept apart from
// the registry so targets without dynamic loading leave this file out.
#include <dlfcn.h>

#include <cstring>

#include "wick/runtime/backend_registry.h"

namespace wick {
namespace {
constexpr size_t kMaxLibraries = 32;
char g_loaded_paths[kMaxLibraries][256];
size_t g_loaded_count = 0;
}  // namespace

Error load_backend_library(const char* path, Registration* result) {
  if (result) *result = Registration::LoadFailed;
  char resolved[256];
  std::strncpy(resolved, path, sizeof(resolved) - 1);
  resolved[sizeof(resolved) - 1] = '\0';
  for (size_t i = 0; i < g_loaded_count; ++i) {
    if (std::strcmp(g_loaded_paths[i], resolved) == 0) {
      if (result) *result = Registration::AlreadyLoaded;
      return fail(Error::InvalidArgument, "backend library '%s' is already loaded", path);
    }
  }
  void* library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    const char* why = dlerror();
    return fail(Error::IoError, "cannot load backend library '%s': %s", path, why ? why : "unknown error");
  }
  // ABI 2 first; a library built for ABI 1 exports only the old entry.
  Error err = Error::Ok;
  if (void* entry2 = dlsym(library, WICK_BACKEND_ENTRY2_SYMBOL)) {
    err = register_backend(reinterpret_cast<WickBackendEntry2Fn>(entry2)(), path, result);
  } else if (void* entry1 = dlsym(library, WICK_BACKEND_ENTRY_SYMBOL)) {
    err = register_backend(reinterpret_cast<WickBackendEntryFn>(entry1)(), path, result);
  } else {
    dlclose(library);
    return fail(Error::NotFound, "'%s' is not a Wick backend library: it exports neither '%s' (ABI 2) nor '%s' (ABI 1)",
                path, WICK_BACKEND_ENTRY2_SYMBOL, WICK_BACKEND_ENTRY_SYMBOL);
  }
  if (err != Error::Ok) {
    dlclose(library);
    return err;
  }
  if (g_loaded_count < kMaxLibraries) std::strcpy(g_loaded_paths[g_loaded_count++], resolved);
  return Error::Ok;
}

}  // namespace wick
