// Proves Method::execute makes no heap allocation: malloc and friends are
// interposed for the whole process and counted while execute() runs.
// Usage: no_heap_alloc PROGRAM.wick [iterations]. Exit 0 iff zero allocations.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include "wick/runtime/method.h"
#include "wick/runtime/platform.h"
#include "wick/runtime/program.h"

extern "C" void* __libc_malloc(size_t);
extern "C" void* __libc_calloc(size_t, size_t);
extern "C" void* __libc_realloc(void*, size_t);
extern "C" void* __libc_memalign(size_t, size_t);
extern "C" void __libc_free(void*);

static bool g_counting = false;
static long g_allocations = 0;

extern "C" void* malloc(size_t n) {
  if (g_counting) ++g_allocations;
  return __libc_malloc(n);
}
extern "C" void* calloc(size_t a, size_t b) {
  if (g_counting) ++g_allocations;
  return __libc_calloc(a, b);
}
extern "C" void* realloc(void* p, size_t n) {
  if (g_counting) ++g_allocations;
  return __libc_realloc(p, n);
}
extern "C" int posix_memalign(void** out, size_t alignment, size_t n) {
  if (g_counting) ++g_allocations;
  *out = __libc_memalign(alignment, n);
  return *out ? 0 : 12;
}
extern "C" void* aligned_alloc(size_t alignment, size_t n) {
  if (g_counting) ++g_allocations;
  return __libc_memalign(alignment, n);
}
extern "C" void free(void* p) { __libc_free(p); }

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: no_heap_alloc PROGRAM.wick [iterations]\n");
    return 2;
  }
  if (std::strcmp(argv[1], "--self-check") == 0) {
    // The counter must see an allocation made while counting.
    g_counting = true;
    void* volatile p = std::malloc(32);
    int* q = new int(7);
    g_counting = false;
    std::free(p);
    delete q;
    std::printf("%ld heap allocations during the self-check\n", g_allocations);
    return g_allocations >= 2 ? 0 : 3;
  }
  int iterations = argc > 2 ? std::atoi(argv[2]) : 3;
  wick::MappedFile file;
  wick::Program program;
  if (wick::pal_map_file(argv[1], &file) != wick::Error::Ok ||
      wick::Program::load(file.data, file.size, &program) != wick::Error::Ok) {
    std::fprintf(stderr, "load failed: %s\n", wick::last_error_message());
    return 1;
  }
  size_t arena_size = 0;
  wick::Method::arena_bytes(program, 0, &arena_size);
  std::vector<uint8_t> arena(arena_size + 64), runtime(16 << 20);
  wick::MemoryAllocator allocator(runtime.data(), runtime.size());
  wick::Method method;
  uint8_t* arena_ptr = arena.data() + (64 - reinterpret_cast<uintptr_t>(arena.data()) % 64) % 64;
  if (method.load(program, 0, allocator, arena_ptr, arena_size) != wick::Error::Ok) {
    std::fprintf(stderr, "method load failed: %s\n", wick::last_error_message());
    return 1;
  }
  std::vector<std::vector<uint8_t>> inputs(method.num_inputs());
  for (size_t i = 0; i < method.num_inputs(); ++i) {
    const wick::Tensor& t = *method.input(i).tensor;
    inputs[i].assign(t.nbytes(), 0);  // zeros are valid token ids too
    if (method.set_input(i, inputs[i].data(), t.dtype, t.sizes, t.dim) != wick::Error::Ok) {
      std::fprintf(stderr, "set_input failed: %s\n", wick::last_error_message());
      return 1;
    }
  }
  g_counting = true;
  for (int it = 0; it < iterations; ++it) {
    if (method.execute() != wick::Error::Ok) {
      g_counting = false;
      std::fprintf(stderr, "execute failed: %s\n", wick::last_error_message());
      return 1;
    }
  }
  g_counting = false;
  std::printf("%ld heap allocations during %d executions\n", g_allocations, iterations);
  return g_allocations == 0 ? 0 : 3;
}
