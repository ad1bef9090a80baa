// Process-wide registry of delegate backends, keyed by name. Backends arrive
// statically (register_backend from the binary that links them) or from a
// shared library loaded by path (load_backend_library).
#pragma once

#include "wick/backend.h"
#include "wick/runtime/error.h"

namespace wick {

// Registers `backend` (borrowed; must outlive the process's use of it).
// Refuses an ABI mismatch (naming both versions) and a name already taken.
Error register_backend(const WickBackend* backend, const char* source);

// Loads a backend library and registers the table its entry symbol returns.
Error load_backend_library(const char* path);

const WickBackend* find_backend(const char* name);

size_t registered_backend_count();
const WickBackend* registered_backend(size_t index);
// Where a backend came from: "static" or the library path.
const char* registered_backend_source(size_t index);

}  // namespace wick
