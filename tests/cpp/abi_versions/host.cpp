// A host for the ABI version tests: registers the 2.0-built backend
// ("test_unary") and the one that needs 2.1 ("needs_21"), printing what the
// registry says, then runs PROGRAM (a ReLU lowered to test_unary) on the
// inputs x[i] = (i % 17) * 0.25 - 2 and prints the outputs.
// Built twice by tests/test_backend_abi.py: against the installed runtime
// (ABI 2.0) and against the runtime compiled with WICK_ABI_TEST_NEXT_MINOR
// (a simulated 2.1).
#include <cstdio>
#include <vector>

#include "wick/backend.h"
#include "wick/runtime/backend_registry.h"
#include "wick/runtime/method.h"
#include "wick/runtime/platform.h"
#include "wick/runtime/program.h"

extern "C" const WickBackend2* entry_built_20(void);
extern "C" const WickBackend2* entry_needs_21(void);

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  std::printf("host ABI %d.%d\n", WICK_ABI_MAJOR, WICK_ABI_MINOR);
  wick::Registration result;
  for (auto entry : {entry_built_20, entry_needs_21}) {
    wick::Error err = wick::register_backend(entry(), "static", &result);
    std::printf("register %s: %s%s%s\n", entry()->name, wick::registration_name(result),
                err == wick::Error::Ok ? "" : ": ", err == wick::Error::Ok ? "" : wick::last_error_message());
  }
  wick::MappedFile file;
  wick::Program program;
  if (wick::pal_map_file(argv[1], &file) != wick::Error::Ok ||
      wick::Program::load(file.data, file.size, &program) != wick::Error::Ok) {
    std::fprintf(stderr, "load failed: %s\n", wick::last_error_message());
    return 1;
  }
  size_t arena_size = 0;
  wick::Method::arena_bytes(program, 0, &arena_size);
  std::vector<uint64_t> arena(arena_size / 8 + 8), runtime(1 << 14);
  wick::MemoryAllocator allocator(runtime.data(), runtime.size() * 8);
  wick::Method method;
  if (method.load(program, 0, allocator, arena.data(), arena_size) != wick::Error::Ok) {
    std::fprintf(stderr, "method load failed: %s\n", wick::last_error_message());
    return 1;
  }
  const wick::Tensor& in = *method.input(0).tensor;
  std::vector<float> x(static_cast<size_t>(in.numel()));
  for (size_t k = 0; k < x.size(); ++k) x[k] = static_cast<float>(k % 17) * 0.25f - 2.0f;
  method.set_input(0, x.data(), wick::ScalarType::Float32, in.sizes, in.dim);
  if (method.execute() != wick::Error::Ok) {
    std::fprintf(stderr, "execute failed: %s\n", wick::last_error_message());
    return 1;
  }
  const wick::Tensor& out = *method.output(0).tensor;
  std::printf("outputs:");
  for (int64_t k = 0; k < out.numel(); ++k) std::printf(" %g", static_cast<double>(out.data_as<const float>()[k]));
  std::printf("\n");
  return 0;
}
