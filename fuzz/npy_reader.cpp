// Fuzzes wick-run's .npy parser: every input ends in an array or a message.
#include <cstdint>

#include "../runtime/runner/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  wick_runner::NpyArray array;
  const std::string why = wick_runner::parse_npy(data, size, "fuzz.npy", &array);
  if (why.empty() && array.data.size() > size) __builtin_trap();  // data comes from the input only
  return 0;
}
