// Registers a backend statically (its entry function linked into this
// binary), then runs a program that delegates to it. Inputs are filled with
// the pattern x[i] = (i % 17) * 0.25 - 2 so the test can compute the truth.
// Usage: static_backend PROGRAM.wick  -> prints every output value, one per line.
#include <cstdio>
#include <vector>

#include "wick/backend.h"
#include "wick/runtime/backend_registry.h"
#include "wick/runtime/method.h"
#include "wick/runtime/platform.h"
#include "wick/runtime/program.h"

extern "C" const WickBackend2* wick_backend_entry2(void);

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  if (wick::register_backend(wick_backend_entry2(), "static") != wick::Error::Ok) {
    std::fprintf(stderr, "register failed: %s\n", wick::last_error_message());
    return 1;
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
  std::vector<uint64_t> arena(arena_size / 8 + 8), runtime(1 << 17);
  wick::MemoryAllocator allocator(runtime.data(), runtime.size() * 8);
  wick::Method method;
  if (method.load(program, 0, allocator, arena.data(), arena_size) != wick::Error::Ok) {
    std::fprintf(stderr, "method load failed: %s\n", wick::last_error_message());
    return 1;
  }
  std::vector<std::vector<float>> inputs(method.num_inputs());
  for (size_t i = 0; i < method.num_inputs(); ++i) {
    const wick::Tensor& t = *method.input(i).tensor;
    inputs[i].resize(static_cast<size_t>(t.numel()));
    for (size_t k = 0; k < inputs[i].size(); ++k) inputs[i][k] = static_cast<float>(k % 17) * 0.25f - 2.0f;
    method.set_input(i, inputs[i].data(), wick::ScalarType::Float32, t.sizes, t.dim);
  }
  if (method.execute() != wick::Error::Ok) {
    std::fprintf(stderr, "execute failed: %s\n", wick::last_error_message());
    return 1;
  }
  for (size_t o = 0; o < method.num_outputs(); ++o) {
    const wick::Tensor& t = *method.output(o).tensor;
    for (int64_t k = 0; k < t.numel(); ++k) std::printf("%.9g\n", static_cast<double>(t.data_as<const float>()[k]));
  }
  return 0;
}
