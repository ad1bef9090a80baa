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
  ComplexFloat = 10,   // complex64, (real, imag) float pairs
  ComplexDouble = 11,  // complex128, (real, imag) double pairs
};

constexpr int kNumScalarTypes = 12;
// The real dtypes are codes 0..9; kernels that know nothing of complex
// numbers accept only those (see Kernel::complex_dtypes).
constexpr int kNumRealScalarTypes = 10;

// Bit for a dtype in a kernel's set of supported dtypes.
constexpr uint32_t dtype_bit(ScalarType t) { return 1u << static_cast<int>(t); }

size_t element_size(ScalarType t);
const char* scalar_type_name(ScalarType t);
// Real floating types only (like torch.is_floating_point: complex is not).
bool is_floating(ScalarType t);
bool is_complex(ScalarType t);

}  // namespace wick
