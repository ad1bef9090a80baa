#include "wick/runtime/scalar_type.h"

namespace wick {

size_t element_size(ScalarType t) {
  switch (t) {
    case ScalarType::ComplexDouble: return 16;
    case ScalarType::ComplexFloat:
    case ScalarType::Float64:
    case ScalarType::Int64: return 8;
    case ScalarType::Float32:
    case ScalarType::Int32: return 4;
    case ScalarType::Float16:
    case ScalarType::BFloat16:
    case ScalarType::Int16: return 2;
    case ScalarType::Int8:
    case ScalarType::UInt8:
    case ScalarType::Bool: return 1;
  }
  return 0;
}

const char* scalar_type_name(ScalarType t) {
  switch (t) {
    case ScalarType::Float32: return "float32";
    case ScalarType::Float64: return "float64";
    case ScalarType::Float16: return "float16";
    case ScalarType::BFloat16: return "bfloat16";
    case ScalarType::Int8: return "int8";
    case ScalarType::Int16: return "int16";
    case ScalarType::Int32: return "int32";
    case ScalarType::Int64: return "int64";
    case ScalarType::UInt8: return "uint8";
    case ScalarType::Bool: return "bool";
    case ScalarType::ComplexFloat: return "complex64";
    case ScalarType::ComplexDouble: return "complex128";
  }
  return "unknown";
}

bool is_floating(ScalarType t) {
  return t == ScalarType::Float32 || t == ScalarType::Float64 || t == ScalarType::Float16 ||
         t == ScalarType::BFloat16;
}

bool is_complex(ScalarType t) { return t == ScalarType::ComplexFloat || t == ScalarType::ComplexDouble; }

}  // namespace wick
