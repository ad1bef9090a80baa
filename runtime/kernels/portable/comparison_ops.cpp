// Comparisons (eq, ne, lt, le, gt, ge; Tensor and Scalar overloads), logical
// and/or/xor and bitwise and/or/xor. Comparisons and logical ops compare in
// the operands' promoted dtype and write 0/1 into out's dtype (bool for the
// functional ops); bitwise ops are integer/bool only and keep the promoted dtype.
#include <cstdint>

#include "portable/elementwise.h"
#include "portable/util.h"

namespace wick {
namespace portable {
namespace {

enum class Cmp { Eq, Ne, Lt, Le, Gt, Ge };

template <Cmp op>
Error compare(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 3));
  BinaryOperands o;
  WICK_TRY(read_binary(ctx, args, num_args, 0, 1, 2, o));
  WICK_TRY(finish_binary(ctx, o, o.result));
  dispatch_compute(o.result, [&](auto tag) {
    using C = typename decltype(tag)::type;
    map_binary<C>(*o.a, *o.b, *o.out, [](C x, C y) -> C {
      switch (op) {
        case Cmp::Eq: return C(x == y);
        case Cmp::Ne: return C(x != y);
        case Cmp::Lt: return C(x < y);
        case Cmp::Le: return C(x <= y);
        case Cmp::Gt: return C(x > y);
        case Cmp::Ge: return C(x >= y);
      }
      return C(0);
    });
  });
  return Error::Ok;
}

enum class Logic { And, Or, Xor };

// logical_*(self, other, out): truthiness of each operand, result in out's dtype.
template <Logic op>
Error logical(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 3));
  BinaryOperands o;
  WICK_TRY(read_binary(ctx, args, num_args, 0, 1, 2, o));
  WICK_TRY(finish_binary(ctx, o, o.result));
  dispatch_compute(o.result, [&](auto tag) {
    using C = typename decltype(tag)::type;
    map_binary<C>(*o.a, *o.b, *o.out, [](C x, C y) -> C {
      const bool p = x != C(0), q = y != C(0);
      switch (op) {
        case Logic::And: return C(p && q);
        case Logic::Or: return C(p || q);
        case Logic::Xor: return C(p != q);
      }
      return C(0);
    });
  });
  return Error::Ok;
}

// bitwise_*(self, other, out): integer and bool operands only.
template <Logic op>
Error bitwise(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 3));
  BinaryOperands o;
  WICK_TRY(read_binary(ctx, args, num_args, 0, 1, 2, o));
  if (is_floating(o.result)) {
    return fail(Error::InvalidArgument, "%s: only integer and bool operands are supported, got %s", ctx.op_name,
                scalar_type_name(o.result));
  }
  WICK_TRY(check_can_cast(ctx, o.result, o.out->dtype));
  WICK_TRY(finish_binary(ctx, o, o.result));
  map_binary<int64_t>(*o.a, *o.b, *o.out, [](int64_t x, int64_t y) -> int64_t {
    switch (op) {
      case Logic::And: return x & y;
      case Logic::Or: return x | y;
      case Logic::Xor: return x ^ y;
    }
    return 0;
  });
  return Error::Ok;
}

constexpr uint32_t kIntBool = kAllDtypes & ~(kF32 | dtype_bit(ScalarType::Float64) |
                                             dtype_bit(ScalarType::Float16) | dtype_bit(ScalarType::BFloat16));

}  // namespace
}  // namespace portable
}  // namespace wick

using namespace wick::portable;

WICK_REGISTER_KERNELS(comparison_ops,
                      {"aten::eq.Tensor_out", kAllDtypes, &compare<Cmp::Eq>, nullptr},
                      {"aten::eq.Scalar_out", kAllDtypes, &compare<Cmp::Eq>, nullptr},
                      {"aten::ne.Tensor_out", kAllDtypes, &compare<Cmp::Ne>, nullptr},
                      {"aten::ne.Scalar_out", kAllDtypes, &compare<Cmp::Ne>, nullptr},
                      {"aten::lt.Tensor_out", kAllDtypes, &compare<Cmp::Lt>, nullptr},
                      {"aten::lt.Scalar_out", kAllDtypes, &compare<Cmp::Lt>, nullptr},
                      {"aten::le.Tensor_out", kAllDtypes, &compare<Cmp::Le>, nullptr},
                      {"aten::le.Scalar_out", kAllDtypes, &compare<Cmp::Le>, nullptr},
                      {"aten::gt.Tensor_out", kAllDtypes, &compare<Cmp::Gt>, nullptr},
                      {"aten::gt.Scalar_out", kAllDtypes, &compare<Cmp::Gt>, nullptr},
                      {"aten::ge.Tensor_out", kAllDtypes, &compare<Cmp::Ge>, nullptr},
                      {"aten::ge.Scalar_out", kAllDtypes, &compare<Cmp::Ge>, nullptr},
                      {"aten::logical_and.out", kAllDtypes, &logical<Logic::And>, nullptr},
                      {"aten::logical_or.out", kAllDtypes, &logical<Logic::Or>, nullptr},
                      {"aten::logical_xor.out", kAllDtypes, &logical<Logic::Xor>, nullptr},
                      {"aten::bitwise_and.Tensor_out", kIntBool, &bitwise<Logic::And>, nullptr},
                      {"aten::bitwise_and.Scalar_out", kIntBool, &bitwise<Logic::And>, nullptr},
                      {"aten::bitwise_or.Tensor_out", kIntBool, &bitwise<Logic::Or>, nullptr},
                      {"aten::bitwise_or.Scalar_out", kIntBool, &bitwise<Logic::Or>, nullptr},
                      {"aten::bitwise_xor.Tensor_out", kIntBool, &bitwise<Logic::Xor>, nullptr},
                      {"aten::bitwise_xor.Scalar_out", kIntBool, &bitwise<Logic::Xor>, nullptr})
