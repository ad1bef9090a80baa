// Validation of a whole WXNN graph before any of it reaches XNNPACK, which
// trusts its caller: a crafted blob must be an error message, never an
// out-of-bounds access, an assertion or a multi-gigabyte allocation.
#pragma once

#include <cstddef>
#include <cstdint>

#include "xnnpack_graph_generated.h"

namespace wick_xnnpack {

constexpr size_t kMaxDims = 6;                           // XNN_MAX_TENSOR_DIMS
constexpr uint32_t kMaxValues = 1u << 20;
constexpr uint32_t kMaxNodes = 1u << 20;
constexpr uint64_t kMaxValueBytes = 1ull << 30;          // one tensor
constexpr uint64_t kMaxActivationBytes = 4ull << 30;     // all non-constant tensors together
constexpr int64_t kMaxWindow = 1 << 16;                  // kernel, stride, dilation, padding, block sizes

size_t element_size(fb::DType d);

// The graph as check_graph() found it: what init() needs next.
struct CheckedGraph {
  size_t num_values = 0;
  size_t* numels = nullptr;          // per value
  const void** constant = nullptr;   // per value: its data in the blob, or nullptr
};

// Checks, in order: the counts against the limits above; every value (rank,
// dtype, size, constant data present and large enough, per-channel scales);
// every node (operand and parameter counts, ids in range, parameters in
// range) and that its operands' shapes agree with each other and with its
// output's, as XNNPACK will compute them. Fills `out` (arrays owned by the
// caller through free_checked_graph). Returns false with a message.
bool check_graph(const fb::Graph* graph, CheckedGraph* out, char* error, size_t error_size);
void free_checked_graph(CheckedGraph* g);

}  // namespace wick_xnnpack
