#include "wick/runtime/error.h"

#include <cstdarg>
#include <cstdio>

namespace wick {
namespace {
// One message per thread, fixed size, so recording a failure never allocates.
thread_local char g_last_message[1024] = "";
}  // namespace

const char* error_name(Error error) {
  switch (error) {
    case Error::Ok: return "Ok";
    case Error::InvalidProgram: return "InvalidProgram";
    case Error::InvalidArgument: return "InvalidArgument";
    case Error::NotFound: return "NotFound";
    case Error::OutOfMemory: return "OutOfMemory";
    case Error::KernelNotFound: return "KernelNotFound";
    case Error::BackendNotFound: return "BackendNotFound";
    case Error::BackendFailed: return "BackendFailed";
    case Error::NotSupported: return "NotSupported";
    case Error::ShapeMismatch: return "ShapeMismatch";
    case Error::IoError: return "IoError";
    case Error::Internal: return "Internal";
  }
  return "Unknown";
}

const char* last_error_message() { return g_last_message; }

Error fail(Error error, const char* format, ...) {
  va_list args;
  va_start(args, format);
  std::vsnprintf(g_last_message, sizeof(g_last_message), format, args);
  va_end(args);
  return error;
}

}  // namespace wick
