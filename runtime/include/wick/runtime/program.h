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

struct ProgramLoadOptions {
  // Compute the CRC-32 of the metadata and of every segment and compare
  // with the file's (docs/format.md, "Integrity"). Costs one pass over the
  // file (about 0.5 ms per MB here, bench/load_checksums.py); the structural
  // checks run either way.
  bool verify_checksums = true;
};

class Program {
 public:
  // Verifies `data` (flatbuffer structure plus every index, size and segment,
  // and the checksums of a file that has them) and fills `out`. On failure
  // `out` is left unusable and the Error says why.
  static Error load(const void* data, size_t size, Program* out,
                    const ProgramLoadOptions& options = ProgramLoadOptions());

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
  // Whether the file carries checksums (false: written before they
  // existed, loaded unverified).
  bool has_checksums() const;

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  const fb::Program* program_ = nullptr;
};

// Semantic verification, after the flatbuffers structural check (verifier.cpp).
Error verify_program(const fb::Program* program, size_t file_size);

// Integrity (integrity.cpp). Before the flatbuffer is trusted: the footer's
// CRC-32 of the metadata, when the file has a footer.
Error verify_metadata_checksum(const uint8_t* bytes, size_t size, bool verify_checksums);
// After verify_program: the declared checksum kind agrees with the footer,
// padding is zero, and (when verifying) each segment matches its CRC-32.
Error verify_segment_checksums(const uint8_t* bytes, size_t size, const fb::Program* program, bool verify_checksums);

}  // namespace wick
