#include "wick/runtime/value.h"

namespace wick {

const char* value_tag_name(ValueTag tag) {
  switch (tag) {
    case ValueTag::Null: return "None";
    case ValueTag::Int: return "int";
    case ValueTag::Double: return "float";
    case ValueTag::Bool: return "bool";
    case ValueTag::String: return "str";
    case ValueTag::Tensor: return "Tensor";
    case ValueTag::IntList: return "int[]";
    case ValueTag::DoubleList: return "float[]";
    case ValueTag::BoolList: return "bool[]";
    case ValueTag::TensorList: return "Tensor[]";
  }
  return "unknown";
}

}  // namespace wick
