// aten::resize_(self, size, memory_format?): PyTorch's in-place resize, within
// the bytes planned for `self`. The call has no out argument: the result is
// `self` itself (the program builder gives both one value). No data moves, so
// elements keep their memory-order prefix; elements past the old size hold
// whatever the planned memory held (PyTorch: uninitialized; shrinking and then
// growing back returns the old values, as PyTorch's unchanged storage does).
#include <cstdint>
#include <cstdio>

#include "portable/util.h"

namespace wick {
namespace portable {
namespace {

// MemoryFormat codes of the program builder (MEMORY_FORMAT_CODES).
constexpr int64_t kContiguousFormat = 0;
constexpr int64_t kPreserveFormat = 1;
constexpr int64_t kChannelsLast = 2;

Error resize_(KernelContext& ctx, Value* const* args, int num_args) {
  WICK_TRY(check_num_args(ctx, num_args, 3));
  Tensor* t;
  WICK_TRY(get_tensor_any_order(ctx, args, 0, &t));  // any dim order: resizing restrides it
  Tensor& self = *t;
  const int64_t* sizes;
  int dim;
  int64_t fmt = kContiguousFormat;
  bool has_fmt = false;
  WICK_TRY(get_int_list(ctx, args, 1, &sizes, &dim));
  WICK_TRY(get_opt_int(ctx, args, 2, &fmt, &has_fmt));
  if (dim > kMaxDims) {
    return fail(Error::NotSupported, "%s: requested rank %d exceeds the runtime's maximum of %d", ctx.op_name, dim,
                kMaxDims);
  }
  if (has_fmt && fmt == kPreserveFormat) {
    return fail(Error::InvalidArgument, "%s: memory_format=torch.preserve_format is not allowed (as in PyTorch)",
                ctx.op_name);
  }
  if (has_fmt && fmt != kContiguousFormat && fmt != kChannelsLast) {
    return fail(Error::NotSupported, "%s: memory_format code %lld is not supported (contiguous_format or "
                "channels_last only)", ctx.op_name, static_cast<long long>(fmt));
  }
  if (has_fmt && fmt == kChannelsLast && dim != 4) {
    return fail(Error::InvalidArgument, "%s: memory_format=torch.channels_last needs 4 sizes, got %s", ctx.op_name,
                shape_str(sizes, dim));
  }
  // Element count without overflow: the capacity check below must see it.
  const int64_t available = static_cast<int64_t>(self.capacity / element_size(self.dtype));
  bool has_zero = false;
  for (int i = 0; i < dim; ++i) {
    if (sizes[i] < 0) {
      return fail(Error::InvalidArgument, "%s: negative size %lld in dimension %d of %s", ctx.op_name,
                  static_cast<long long>(sizes[i]), i, shape_str(sizes, dim));
    }
    has_zero = has_zero || sizes[i] == 0;
  }
  int64_t requested = has_zero ? 0 : 1;
  bool too_many = false;
  for (int i = 0; i < dim && requested > 0; ++i) {
    if (requested > INT64_MAX / sizes[i]) {
      too_many = true;
      break;
    }
    requested *= sizes[i];
  }
  if (too_many || requested > available) {
    return fail(Error::ShapeMismatch,
                "%s: cannot resize the tensor to %s (%s%lld elements): only %lld elements were planned for it; "
                "raise the bound its size comes from (torch._check(n <= N) or a Dim max=)",
                ctx.op_name, shape_str(sizes, dim), too_many ? "more than " : "",
                static_cast<long long>(too_many ? INT64_MAX : requested), static_cast<long long>(available));
  }
  bool same = dim == self.dim;
  for (int i = 0; same && i < dim; ++i) same = sizes[i] == self.sizes[i];
  if (!same) {
    Error e = resize_tensor(self, sizes, dim);
    if (e != Error::Ok) {
      char msg[600];
      std::snprintf(msg, sizeof(msg), "%s", last_error_message());
      return fail(e, "%s: %s", ctx.op_name, msg);
    }
  }
  // PyTorch: a new shape is contiguous; the same shape keeps its strides
  // unless a memory format is given.
  if (!same || has_fmt) {
    for (int i = 0; i < dim; ++i) self.dim_order[i] = static_cast<uint8_t>(i);
    if (has_fmt && fmt == kChannelsLast) {
      self.dim_order[1] = 2, self.dim_order[2] = 3, self.dim_order[3] = 1;
    }
  }
  if (self.data == nullptr && requested > 0) {
    return fail(Error::InvalidArgument, "%s: tensor has no data", ctx.op_name);
  }
  return Error::Ok;
}

}  // namespace
}  // namespace portable
}  // namespace wick

using namespace wick::portable;

WICK_REGISTER_KERNELS(resize_ops, {"aten::resize_", kAllDtypes, &resize_, nullptr})
