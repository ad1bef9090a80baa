// Process-wide registry of delegate backends, keyed by name. Backends arrive
// statically (register_backend from the binary that links them) or from a
// shared library loaded by path (load_backend_library).
//
// Every registered backend is held as a WickBackend2 of this host's size:
// an ABI 2 table is copied in up to the size its producer compiled (entries
// it predates read as NULL), an ABI 1 table is wrapped by functions that
// forward to it. The rest of the runtime sees one shape.
#pragma once

#include "wick/backend.h"
#include "wick/runtime/error.h"

namespace wick {

// What a registration attempt did (typed, so callers need not read messages).
enum class Registration : uint32_t {
  Registered = 0,         // newly registered
  AlreadyLoaded = 1,      // this library (or this very table) was registered before: nothing to do
  NameClash = 2,          // another backend of the same name is registered (registered_source_of tells whose)
  VersionRefused = 3,     // another ABI major, an unmet minimum minor, or a malformed table
  LoadFailed = 4,         // the library could not be loaded or has no entry symbol
  AttachFailed = 5,       // the backend's attach() refused the host services
  RegistryFull = 6,
};
const char* registration_name(Registration r);

// Registers an ABI 2 table (borrowed; must outlive the process's use of it).
// Refuses another major or an unmet min_host_minor (naming both versions) and
// a name already taken (naming both sources). `result` (optional) says which.
Error register_backend(const WickBackend2* backend, const char* source, Registration* result = nullptr);
// The same for a table built against ABI 1.
Error register_backend(const WickBackend* backend, const char* source, Registration* result = nullptr);

// Loads a backend library (ABI 2 entry wick_backend_entry2, else ABI 1
// wick_backend_entry) and registers its table.
Error load_backend_library(const char* path, Registration* result = nullptr);

const WickBackend2* find_backend(const char* name);

size_t registered_backend_count();
const WickBackend2* registered_backend(size_t index);
// Where a backend came from: "static" or the library path.
const char* registered_backend_source(size_t index);
// "2.0", "1" ...: the ABI the backend was built against.
const char* registered_backend_abi(size_t index);
// Source of the registered backend named `name`, or null.
const char* registered_source_of(const char* name);
// Calls the ABI 1 info() or the ABI 2 device_info() and describes the device
// in one line ("" when the backend says nothing).
void describe_backend(size_t index, char* out, size_t out_size);

// Backend log lines: by default written to stderr as
// "wick[<backend>] <LEVEL>: <message>"; a host (the Python module) may route
// them elsewhere. The sink may be called from any thread.
using BackendLogSink = void (*)(const char* backend, int32_t level, const char* message);
void set_backend_log_sink(BackendLogSink sink);

}  // namespace wick
