// Scalar kernels on symbolic values (dynamic shapes): wick::sym_size.int reads
// a tensor's current size; wick::_local_scalar_dense reads a one-element
// tensor's value (Tensor.item()); _operator::{add,sub,mul,floordiv} do int
// arithmetic (floordiv rounds toward negative infinity like Python). Each
// writes its result into a scalar value that later arguments read at call time.
#include <cstdint>

#include "portable/util.h"

namespace wick {
namespace portable {
namespace {

Error get_int_out(KernelContext& ctx, Value* const* args, int i, Value** out) {
  if (args == nullptr || args[i] == nullptr || args[i]->tag != ValueTag::Int) {
    return fail(Error::InvalidArgument, "%s: output argument %d must be an int value, got %s", ctx.op_name, i,
                args == nullptr || args[i] == nullptr ? "nothing" : value_tag_name(args[i]->tag));
  }
  *out = args[i];
  return Error::Ok;
}

// (self, dim, out)
Error sym_size(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 3));
  Tensor* self;
  int64_t dim_arg;
  Value* out = nullptr;
  if (args[0] == nullptr || args[0]->tag != ValueTag::Tensor || args[0]->tensor == nullptr) {
    return fail(Error::InvalidArgument, "%s: argument 0 must be a Tensor", ctx.op_name);
  }
  self = args[0]->tensor;  // any dim order: only its sizes are read
  if (self->dim < 0 || self->dim > kMaxDims) {
    return fail(Error::InvalidArgument, "%s: tensor has invalid rank %d", ctx.op_name, self->dim);
  }
  WICK_TRY(get_int(ctx, args, 1, &dim_arg));
  WICK_TRY(get_int_out(ctx, args, 2, &out));
  if (self->dim == 0) {
    return fail(Error::InvalidArgument, "%s: a 0-dim tensor has no dimension %lld", ctx.op_name,
                static_cast<long long>(dim_arg));
  }
  int dim;
  WICK_TRY(normalize_dim(ctx, dim_arg, self->dim, &dim));
  out->i = self->sizes[dim];
  return Error::Ok;
}

// (self, out): out is Int for integer tensors, Double for floating ones and
// Bool for bool ones, as torch.export types the result (SymInt / SymFloat /
// SymBool); the program builder emits it that way, so a mismatch is a bad program.
Error local_scalar_dense(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 2));
  Tensor* t;
  WICK_TRY(get_tensor_any_order(ctx, args, 0, &t));  // one element: its dim order does not matter
  const Tensor& self = *t;
  if (self.numel() != 1) {
    return fail(Error::InvalidArgument,
                "%s: a Tensor with %lld elements (shape %s) cannot be converted to a scalar; Tensor.item() needs "
                "exactly one element",
                ctx.op_name, static_cast<long long>(self.numel()), shape_str(self));
  }
  if (self.data == nullptr) return fail(Error::InvalidArgument, "%s: tensor has no data", ctx.op_name);
  Value* out = args[1];
  ValueTag want = self.dtype == ScalarType::Bool ? ValueTag::Bool
                  : is_floating(self.dtype)       ? ValueTag::Double
                                                  : ValueTag::Int;
  if (out == nullptr || out->tag != want) {
    return fail(Error::InvalidArgument, "%s: the output of a %s tensor must be of kind %s, got %s", ctx.op_name,
                scalar_type_name(self.dtype), value_tag_name(want),
                out == nullptr ? "nothing" : value_tag_name(out->tag));
  }
  switch (want) {
    case ValueTag::Bool: out->b = load_as<int64_t>(self.data, self.dtype, 0) != 0; break;
    case ValueTag::Double: out->d = load_as<double>(self.data, self.dtype, 0); break;
    default: out->i = load_as<int64_t>(self.data, self.dtype, 0); break;
  }
  return Error::Ok;
}

enum class SymOp { Add, Sub, Mul, FloorDiv };

Error sym_binary(KernelContext& ctx, Value* const* args, int num_args, SymOp op) {
  WICK_TRY(check_num_args(ctx, num_args, 3));
  int64_t a, b;
  Value* out = nullptr;
  WICK_TRY(get_int(ctx, args, 0, &a));
  WICK_TRY(get_int(ctx, args, 1, &b));
  WICK_TRY(get_int_out(ctx, args, 2, &out));
  switch (op) {
    case SymOp::Add: out->i = static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b)); break;
    case SymOp::Sub: out->i = static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b)); break;
    case SymOp::Mul: out->i = static_cast<int64_t>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b)); break;
    case SymOp::FloorDiv: {
      if (b == 0) return fail(Error::InvalidArgument, "%s: integer division by zero", ctx.op_name);
      if (a == INT64_MIN && b == -1) {
        return fail(Error::InvalidArgument, "%s: integer overflow in floor division", ctx.op_name);
      }
      int64_t q = a / b;
      if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
      out->i = q;
      break;
    }
  }
  return Error::Ok;
}

Error sym_add(KernelContext& ctx, Value* const* args, int n) { return sym_binary(ctx, args, n, SymOp::Add); }
Error sym_sub(KernelContext& ctx, Value* const* args, int n) { return sym_binary(ctx, args, n, SymOp::Sub); }
Error sym_mul(KernelContext& ctx, Value* const* args, int n) { return sym_binary(ctx, args, n, SymOp::Mul); }
Error sym_floordiv(KernelContext& ctx, Value* const* args, int n) { return sym_binary(ctx, args, n, SymOp::FloorDiv); }

}  // namespace
}  // namespace portable
}  // namespace wick

using namespace wick::portable;

WICK_REGISTER_KERNELS(sym_ops,
                      {"wick::sym_size.int", kAllDtypes, &sym_size, nullptr},
                      {"wick::_local_scalar_dense", kAllDtypes, &local_scalar_dense, nullptr},
                      {"_operator::add", kAllDtypes, &sym_add, nullptr},
                      {"_operator::sub", kAllDtypes, &sym_sub, nullptr},
                      {"_operator::mul", kAllDtypes, &sym_mul, nullptr},
                      {"_operator::floordiv", kAllDtypes, &sym_floordiv, nullptr})
