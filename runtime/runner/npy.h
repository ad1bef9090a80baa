// Minimal .npy (NumPy format 1.0, 2.0, 3.0) reading and writing for the
// runner: little-endian, C-order arrays of the dtypes Wick knows. Every
// malformed file gets a message naming the problem; nothing here throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "wick/runtime/scalar_type.h"

namespace wick_runner {

struct NpyArray {
  wick::ScalarType dtype = wick::ScalarType::Float32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;  // over-aligned copy is not needed: vector data is 16-byte aligned
};

// Returns an empty string on success, else the reason (naming the file).
std::string read_npy(const std::string& path, NpyArray* out);
// The same from bytes in memory; `name` is used in messages. The fuzz
// harness (fuzz/npy_reader.cpp) drives this.
std::string parse_npy(const uint8_t* bytes, size_t size, const std::string& name, NpyArray* out);
std::string write_npy(const std::string& path, const NpyArray& array);

}  // namespace wick_runner
