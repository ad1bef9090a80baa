// Minimal .npy (NumPy format 1.0/2.0) reading and writing for the runner:
// little-endian, C-order arrays of the dtypes Wick knows.
#pragma once

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

// Returns an empty string on success, else the reason.
std::string read_npy(const std::string& path, NpyArray* out);
std::string write_npy(const std::string& path, const NpyArray& array);

}  // namespace wick_runner
