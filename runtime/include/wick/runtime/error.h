// Error codes of the Wick runtime. The core reports every failure through an
// Error value plus a human-readable message (last_error_message()); it never
// throws and never aborts on bad input.
#pragma once

#include <cstdint>

namespace wick {

enum class Error : uint32_t {
  Ok = 0,
  InvalidProgram = 1,    // the program file is malformed or fails verification
  InvalidArgument = 2,   // a caller passed something unusable (wrong dtype, shape, index)
  NotFound = 3,          // no method, input or output of that name or index
  OutOfMemory = 4,       // an allocator or arena was too small
  KernelNotFound = 5,    // no kernel registered for (operator, dtype)
  BackendNotFound = 6,   // a delegate names a backend that is not registered
  BackendFailed = 7,     // a backend's init or execute reported failure
  NotSupported = 8,      // valid, but not implemented by this build
  ShapeMismatch = 9,     // a tensor would exceed its planned upper bound
  IoError = 10,          // the file could not be opened, read or mapped
  Internal = 11,         // an invariant of the runtime itself broke
};

// Stable, short name of an error code ("InvalidProgram").
const char* error_name(Error error);

// The message of the most recent failure on this thread. Fixed-size storage:
// setting it never allocates.
const char* last_error_message();

// Records a failure message (printf-style) and returns `error` so that call
// sites read `return fail(Error::X, "...", ...);`.
Error fail(Error error, const char* format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

}  // namespace wick

// Propagates a non-Ok Error to the caller.
#define WICK_TRY(expr)                          \
  do {                                          \
    ::wick::Error wick_try_error_ = (expr);     \
    if (wick_try_error_ != ::wick::Error::Ok) { \
      return wick_try_error_;                   \
    }                                           \
  } while (0)
