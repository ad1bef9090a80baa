// The platform layer: the few services the runtime core needs from an OS.
// Each function has a POSIX default (src/platform_posix.cpp) defined as a weak
// symbol, so a port to a target without an OS replaces just these.
#pragma once

#include <cstddef>
#include <cstdint>

#include "wick/runtime/error.h"

namespace wick {

enum class LogLevel { Debug, Info, Error };

void pal_log(LogLevel level, const char* message);
// Monotonic time in nanoseconds.
uint64_t pal_time_ns();
[[noreturn]] void pal_abort(const char* reason);

// A read-only mapping of a whole file. `handle` is opaque platform state.
struct MappedFile {
  const uint8_t* data = nullptr;
  size_t size = 0;
  void* handle = nullptr;
};

Error pal_map_file(const char* path, MappedFile* out);
void pal_unmap_file(MappedFile* file);

}  // namespace wick
