// A Method is one loaded entry point of a Program, ready to execute: values
// resolved, kernels and delegates bound, tensors placed in the arena.
//
// Memory: everything Method needs comes from the caller's MemoryAllocator
// (bookkeeping) and arena (activations) at load time; execute() allocates
// nothing. Both must outlive the Method.
#pragma once

#include <cstddef>
#include <cstdint>

#include "wick/backend.h"
#include "wick/runtime/error.h"
#include "wick/runtime/kernel.h"
#include "wick/runtime/memory.h"
#include "wick/runtime/program.h"
#include "wick/runtime/value.h"

namespace wick {

struct Step;

// A load-time option for one backend: given to the init() of each of its
// delegates as a compile spec, replacing the program's spec of the same key
// (so a thread count, say, can be chosen when loading, without re-exporting).
// Borrowed for the duration of Method::load.
struct BackendOption {
  const char* backend;
  const char* key;
  const uint8_t* value;
  size_t value_size;
};

class Method {
 public:
  Method() = default;
  ~Method();
  Method(const Method&) = delete;
  Method& operator=(const Method&) = delete;

  // Planned activation bytes of method `index` (what `arena` must hold).
  static Error arena_bytes(const Program& program, size_t index, size_t* bytes);

  // Loads method `index` of `program`. Fails with KernelNotFound naming the
  // operator and dtype, BackendNotFound naming the backend, OutOfMemory when
  // `allocator` is too small (allocator.requested() then tells how much).
  // Each delegate's backend init() runs once, last, after all of the
  // method's own bookkeeping is allocated; its memory comes from `allocator`
  // too (a host that can give more memory sets MemoryAllocator's refill).
  Error load(const Program& program, size_t index, MemoryAllocator& allocator, void* arena, size_t arena_size,
             const BackendOption* options = nullptr, size_t num_options = 0);

  size_t num_inputs() const { return num_inputs_; }
  size_t num_outputs() const { return num_outputs_; }
  const Value& input(size_t i) const { return values_[input_ids_[i]]; }
  const Value& output(size_t i) const { return values_[output_ids_[i]]; }

  // Binds caller memory (borrowed until the next set_input or the end of
  // execute) as tensor input `i`; checks dtype, rank and planned bounds.
  Error set_input(size_t i, void* data, ScalarType dtype, const int64_t* sizes, int dim);
  // Sets a scalar input (an int, float or bool placeholder of the graph).
  Error set_scalar_input(size_t i, const Value& value);

  Error execute();

  size_t num_instructions() const { return num_steps_; }
  const char* name() const { return name_; }

 private:
  Error load_values(const Program& program, const void* method, MemoryAllocator& allocator, void* arena,
                    size_t arena_size);
  Error load_steps(const Program& program, const void* method, MemoryAllocator& allocator,
                   const BackendOption* options, size_t num_options);
  Error init_delegates(MemoryAllocator& allocator);
  void refresh_symbolic_lists(const Step& step);
  Error run_delegate(const Step& step);
  void release_delegates();

  const char* name_ = "";
  Value* values_ = nullptr;
  size_t num_values_ = 0;
  // Per value: for a symbolic IntList, the value ids of its items (-1 = literal).
  const int32_t** symbolic_refs_ = nullptr;
  const uint32_t* input_ids_ = nullptr;
  const uint32_t* output_ids_ = nullptr;
  size_t num_inputs_ = 0;
  size_t num_outputs_ = 0;
  bool* input_bound_ = nullptr;
  Step* steps_ = nullptr;
  size_t num_steps_ = 0;
  void* scratch_ = nullptr;
  size_t scratch_bytes_ = 0;
  bool loaded_ = false;
};

}  // namespace wick
