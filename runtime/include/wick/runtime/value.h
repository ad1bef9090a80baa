// A Value is one slot of a method's value table: a tensor, a scalar, a list
// or nothing. Kernels receive their arguments as Value pointers, in the order
// of the operator's schema followed by its outputs.
#pragma once

#include <cstdint>

#include "wick/runtime/tensor.h"

namespace wick {

enum class ValueTag : uint8_t {
  Null,
  Int,
  Double,
  Bool,
  String,
  Tensor,
  IntList,
  DoubleList,
  BoolList,
  TensorList,
};

const char* value_tag_name(ValueTag tag);

struct Value {
  ValueTag tag = ValueTag::Null;
  union {
    int64_t i;
    double d;
    bool b;
    struct { const char* data; uint32_t size; } str;
    Tensor* tensor;
    // Current items; symbolic items are refreshed before each kernel call.
    struct { int64_t* data; int32_t size; } ints;
    struct { const double* data; int32_t size; } doubles;
    struct { const bool* data; int32_t size; } bools;
    // Items may be null (an absent optional tensor).
    struct { Tensor* const* data; int32_t size; } tensors;
  };

  Value() : i(0) {}

  bool is_null() const { return tag == ValueTag::Null; }
  bool is_tensor() const { return tag == ValueTag::Tensor; }
  // A Scalar argument (schema type "Scalar") arrives as Int, Double or Bool.
  bool is_scalar() const { return tag == ValueTag::Int || tag == ValueTag::Double || tag == ValueTag::Bool; }
  double scalar_as_double() const {
    return tag == ValueTag::Double ? d : tag == ValueTag::Int ? static_cast<double>(i) : (b ? 1.0 : 0.0);
  }
  int64_t scalar_as_int() const {
    return tag == ValueTag::Int ? i : tag == ValueTag::Double ? static_cast<int64_t>(d) : (b ? 1 : 0);
  }
};

}  // namespace wick
