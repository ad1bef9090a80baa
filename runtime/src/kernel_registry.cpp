#include <cstring>

#include "wick/runtime/kernel.h"

namespace wick {
namespace {
// Fixed capacity: registration happens at static-init time on targets where
// heap use may be forbidden. Raise it if a kernel library grows past it.
constexpr size_t kMaxKernels = 1024;
// "= {}" makes this constant initialization (done before any dynamic
// initializer): kernel files register from their own static initializers,
// and a default-constructed array, initialized in its turn, would reset
// Kernel's defaulted fields after some kernels had registered.
Kernel g_kernels[kMaxKernels] = {};
size_t g_kernel_count = 0;
}  // namespace

Error register_kernels(const Kernel* kernels, size_t count) {
  for (size_t k = 0; k < count; ++k) {
    const Kernel& kernel = kernels[k];
    for (size_t i = 0; i < g_kernel_count; ++i) {
      if (std::strcmp(g_kernels[i].op_name, kernel.op_name) == 0 && (g_kernels[i].dtypes & kernel.dtypes) != 0) {
        return fail(Error::InvalidArgument, "a kernel for %s is already registered for an overlapping set of dtypes",
                    kernel.op_name);
      }
    }
    if (g_kernel_count == kMaxKernels) {
      return fail(Error::OutOfMemory, "kernel registry is full (%zu kernels); cannot add %s", kMaxKernels,
                  kernel.op_name);
    }
    g_kernels[g_kernel_count++] = kernel;
  }
  return Error::Ok;
}

const Kernel* find_kernel(const char* op_name, ScalarType dtype) {
  for (size_t i = 0; i < g_kernel_count; ++i) {
    if ((g_kernels[i].dtypes & dtype_bit(dtype)) != 0 && std::strcmp(g_kernels[i].op_name, op_name) == 0) {
      return &g_kernels[i];
    }
  }
  return nullptr;
}

bool has_kernel_for_op(const char* op_name) {
  for (size_t i = 0; i < g_kernel_count; ++i) {
    if (std::strcmp(g_kernels[i].op_name, op_name) == 0) return true;
  }
  return false;
}

size_t registered_kernel_count() { return g_kernel_count; }
const Kernel& registered_kernel(size_t index) { return g_kernels[index]; }

ScalarType dispatch_dtype(Value* const* args, int num_args) {
  for (int i = 0; i < num_args; ++i) {
    if (args[i] != nullptr && args[i]->tag == ValueTag::Tensor && args[i]->tensor != nullptr) {
      return args[i]->tensor->dtype;
    }
  }
  return ScalarType::Float32;
}

}  // namespace wick
