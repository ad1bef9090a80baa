// Fuzzes the program loader: structural and semantic verification, the
// integrity checks, then loading every method (values, kernels bound,
// delegates looked up) as a host does. Checksums are not verified: a mutated
// file would stop at the first CRC and never reach the code behind it (the
// CRC itself is checked both ways on each input small enough). With
// WICK_FUZZ_EXECUTE=1 each loaded method also runs once on zero inputs.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include "wick/runtime/memory.h"
#include "wick/runtime/method.h"
#include "wick/runtime/program.h"

namespace {

// Bounds a hostile file's planned memory so the harness never asks the
// allocator for gigabytes (an out-of-memory "finding" that is not a bug:
// the real host allocates with nothrow and reports OutOfMemory).
constexpr size_t kMaxArena = 8u << 20;
constexpr size_t kRuntimeBytes = 4u << 20;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The loader requires an 8-byte aligned buffer, as a mapping gives.
  std::vector<uint64_t> aligned(size / 8 + 1);
  if (size > 0) std::memcpy(aligned.data(), data, size);
  wick::ProgramLoadOptions options;
  options.verify_checksums = size < (64u << 10);
  wick::Program program;
  if (wick::Program::load(aligned.data(), size, &program, options) != wick::Error::Ok) {
    if (!options.verify_checksums) return 0;
    options.verify_checksums = false;  // what the CRC hid
    if (wick::Program::load(aligned.data(), size, &program, options) != wick::Error::Ok) return 0;
  }
  static uint8_t* runtime_memory = new uint8_t[kRuntimeBytes];
  static const bool execute = std::getenv("WICK_FUZZ_EXECUTE") != nullptr;
  for (size_t i = 0; i < program.num_methods(); ++i) {
    size_t arena_bytes = 0;
    if (wick::Method::arena_bytes(program, i, &arena_bytes) != wick::Error::Ok || arena_bytes > kMaxArena) continue;
    std::unique_ptr<uint8_t[]> arena(new uint8_t[arena_bytes + 64]);
    uint8_t* arena_ptr = arena.get() + (64 - reinterpret_cast<uintptr_t>(arena.get()) % 64) % 64;
    wick::MemoryAllocator allocator(runtime_memory, kRuntimeBytes);
    wick::Method method;
    if (method.load(program, i, allocator, arena_ptr, arena_bytes) != wick::Error::Ok || !execute) continue;
    // The tiny execute (WICK_FUZZ_EXECUTE=1): zero inputs at their planned
    // sizes, one run; kernels must refuse what the file got wrong.
    std::vector<std::vector<uint64_t>> inputs(method.num_inputs());
    bool bound = true;
    for (size_t k = 0; k < method.num_inputs() && bound; ++k) {
      const wick::Value& v = method.input(k);
      if (!v.is_tensor()) continue;
      const wick::Tensor& t = *v.tensor;
      if (t.capacity > kMaxArena) bound = false;
      if (!bound) break;
      inputs[k].assign(t.capacity / 8 + 1, 0);
      bound = method.set_input(k, inputs[k].data(), t.dtype, t.sizes, t.dim) == wick::Error::Ok;
    }
    if (bound) (void)method.execute();
  }
  return 0;
}
