// The kernel contract. A kernel implements one operator's out-variant
// ("aten::add.out") for a set of dtypes. The executor hands it the operator's
// schema arguments followed by its outputs, all as Value pointers whose kinds
// the program verifier has NOT checked against the schema: a kernel validates
// what it reads and returns an Error (never crashes) on a mismatch.
//
// A kernel must not allocate. If it needs temporary memory it declares the
// bytes through `scratch_bytes` (called once at method load, with tensors at
// their planned sizes) and receives that much in KernelContext::scratch.
#pragma once

#include <cstddef>
#include <cstdint>

#include "wick/runtime/error.h"
#include "wick/runtime/value.h"

namespace wick {

struct KernelContext {
  void* scratch = nullptr;      // borrowed; valid during this call only
  size_t scratch_bytes = 0;
  const char* op_name = "";     // for error messages
};

using KernelFn = Error (*)(KernelContext& ctx, Value* const* args, int num_args);
using ScratchFn = size_t (*)(Value* const* args, int num_args);

struct Kernel {
  const char* op_name;      // out-variant name, e.g. "aten::convolution.out"
  uint32_t dtypes;          // OR of dtype_bit(...) this kernel is dispatched on
  KernelFn fn;
  ScratchFn scratch_bytes;  // may be null: no scratch needed
  // Complex dtypes the kernel handles in arguments other than the one it is
  // dispatched on (aten::_fft_r2c.out: a float input, a complex64 out). The
  // method loader refuses a call with a complex tensor argument whose dtype
  // is in neither set, so kernels written for real numbers never see one.
  uint32_t complex_dtypes = 0;
};

// Adds kernels to the process-wide registry (fixed capacity, no allocation).
// A second kernel for an (op, dtype) already present is refused.
Error register_kernels(const Kernel* kernels, size_t count);

// Finds the kernel for `op_name` accepting `dtype`; null if none.
const Kernel* find_kernel(const char* op_name, ScalarType dtype);

// Whether any kernel is registered under `op_name` (for error messages).
bool has_kernel_for_op(const char* op_name);

size_t registered_kernel_count();
const Kernel& registered_kernel(size_t index);

// The dtype a kernel call is dispatched on: that of the first tensor among its
// arguments (inputs first, then outputs). Float32 when there is none.
ScalarType dispatch_dtype(Value* const* args, int num_args);

}  // namespace wick

// Registers kernels at static-initialization time from a kernel source file.
// The kernel library is linked as an object library so these are never dropped.
#define WICK_REGISTER_KERNELS(ident, ...)                                           \
  namespace {                                                                       \
  const ::wick::Kernel ident##_table[] = {__VA_ARGS__};                             \
  const bool ident##_registered = (::wick::register_kernels(                        \
      ident##_table, sizeof(ident##_table) / sizeof(ident##_table[0])), true);      \
  }
