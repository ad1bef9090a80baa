// A loaded, verified program file. The Program borrows the file's bytes (a
// memory mapping or a caller buffer) and must not outlive them.
#pragma once

#include <cstddef>
#include <cstdint>

#include "wick/runtime/error.h"

namespace wick {
namespace fb {
struct Program;
struct Method;
}  // namespace fb

// Version of the program schema this runtime reads; see runtime/schema/program.fbs.
constexpr uint32_t kSchemaVersion = 1;

class Program {
 public:
  // Verifies `data` (flatbuffer structure plus every index, size and segment)
  // and fills `out`. On failure `out` is left unusable and the Error says why.
  static Error load(const void* data, size_t size, Program* out);

  size_t num_methods() const;
  const char* method_name(size_t index) const;
  Error find_method(const char* name, size_t* index) const;
  // The distinct backend names of all methods' delegate calls, in order of
  // first use: writes them to `names` and returns their number when it is at
  // most `capacity`; otherwise a larger number to call again with.
  size_t delegate_backends(const char** names, size_t capacity) const;

  // Bytes of segment `index` (bounds already verified at load).
  const uint8_t* segment(uint32_t index, size_t* size) const;

  const fb::Program* flatbuffer() const { return program_; }
  const fb::Method* method(size_t index) const;
  size_t file_size() const { return size_; }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  const fb::Program* program_ = nullptr;
};

// Semantic verification, after the flatbuffers structural check (verifier.cpp).
Error verify_program(const fb::Program* program, size_t file_size);

}  // namespace wick
