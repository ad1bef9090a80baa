// The Python bridge: backends whose execution engine exists only as a Python
// module (a vendor's reference model or host simulator) register Python
// callables behind the same C ABI as native backends. They exist only in a
// process with Python; the standalone runner never sees them.
#pragma once

#include <nanobind/nanobind.h>

namespace wick_python {

// Registers `name` with callables:
//   init(blob: memoryview, compile_specs: dict[str, bytes]) -> handle
//   execute(handle, inputs: list[numpy.ndarray]) -> list[numpy.ndarray]
//   destroy(handle) -> None                      (optional)
//   is_available() -> (bool, str)                (optional)
//   info() -> str                                (optional)
void register_python_backend(const std::string& name, nanobind::object init, nanobind::object execute,
                             nanobind::object destroy, nanobind::object is_available, nanobind::object info);

}  // namespace wick_python
