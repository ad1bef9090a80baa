// Element types of tensors. The numbering matches wick.fb.ScalarType in the
// program schema, so a value read from a file maps directly (after a range check).
#pragma once

#include <cstddef>
#include <cstdint>

namespace wick {

enum class ScalarType : int8_t {
  Float32 = 0,
  Float64 = 1,
  Float16 = 2,
  BFloat16 = 3,
  Int8 = 4,
  Int16 = 5,
  Int32 = 6,
  Int64 = 7,
  UInt8 = 8,
  Bool = 9,
};

constexpr int kNumScalarTypes = 10;

// Bit for a dtype in a kernel's set of supported dtypes.
constexpr uint32_t dtype_bit(ScalarType t) { return 1u << static_cast<int>(t); }

size_t element_size(ScalarType t);
const char* scalar_type_name(ScalarType t);
bool is_floating(ScalarType t);

}  // namespace wick
