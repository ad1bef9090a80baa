// NumPy dtype names for Wick's element types, shared by the module and the
// Python bridge. NumPy has no bfloat16: such tensors travel as their raw bits
// in uint16 arrays (wick/runtime.py views them as torch.bfloat16).
#pragma once

#include "wick/runtime/scalar_type.h"

namespace wick_python {

inline const char* numpy_dtype(wick::ScalarType t) {
  switch (t) {
    case wick::ScalarType::Float32: return "float32";
    case wick::ScalarType::Float64: return "float64";
    case wick::ScalarType::Float16: return "float16";
    case wick::ScalarType::BFloat16: return "uint16";
    case wick::ScalarType::Int8: return "int8";
    case wick::ScalarType::Int16: return "int16";
    case wick::ScalarType::Int32: return "int32";
    case wick::ScalarType::Int64: return "int64";
    case wick::ScalarType::UInt8: return "uint8";
    case wick::ScalarType::Bool: return "bool";
    case wick::ScalarType::ComplexFloat: return "complex64";
    case wick::ScalarType::ComplexDouble: return "complex128";
  }
  return nullptr;
}

}  // namespace wick_python
