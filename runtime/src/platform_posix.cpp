// POSIX defaults of the platform layer. Weak, so a port overrides any of them
// by defining the same function.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "wick/runtime/platform.h"

#define WICK_WEAK __attribute__((weak))

namespace wick {

WICK_WEAK void pal_log(LogLevel level, const char* message) {
  const char* tag = level == LogLevel::Error ? "E" : level == LogLevel::Info ? "I" : "D";
  std::fprintf(stderr, "[wick %s] %s\n", tag, message);
}

WICK_WEAK uint64_t pal_time_ns() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

WICK_WEAK void pal_abort(const char* reason) {
  pal_log(LogLevel::Error, reason);
  std::abort();
}

WICK_WEAK Error pal_map_file(const char* path, MappedFile* out) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(Error::IoError, "cannot open '%s': %s", path, std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    return fail(Error::IoError, "cannot stat '%s': %s", path, std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return fail(Error::IoError, "'%s' is not a regular file", path);
  }
  size_t size = static_cast<size_t>(st.st_size);
  if (size == 0) {
    ::close(fd);
    return fail(Error::InvalidProgram, "'%s' is empty, not a Wick program", path);
  }
  void* data = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  int e = errno;
  ::close(fd);
  if (data == MAP_FAILED) return fail(Error::IoError, "cannot map '%s': %s", path, std::strerror(e));
  out->data = static_cast<const uint8_t*>(data);
  out->size = size;
  out->handle = data;
  return Error::Ok;
}

WICK_WEAK void pal_unmap_file(MappedFile* file) {
  if (file->handle != nullptr) ::munmap(file->handle, file->size);
  *file = MappedFile{};
}

}  // namespace wick
