// wick._runtime: the nanobind module over the C++ runtime. It imports without
// torch: inputs arrive as any DLPack/NumPy array, outputs leave as NumPy
// arrays (wick/runtime.py turns them into torch tensors when torch is loaded).
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <cstring>
#include <memory>
#include <mutex>

#include "../host/session.h"
#include "numpy_dtype.h"
#include "python_bridge.h"
#include "program_generated.h"
#include "wick/runtime/backend_registry.h"
#include "wick/runtime/event_tracer.h"
#include "wick/runtime/kernel.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace {

// Backend log lines go to Python's logging ("wick.backend.<name>").
void python_log_sink(const char* backend, int32_t level, const char* message) {
  if (!Py_IsInitialized()) return;
  nb::gil_scoped_acquire gil;
  try {
    static const int kLevels[] = {10, 20, 30, 40};
    int py_level = kLevels[level < 0 ? 0 : (level > 3 ? 3 : level)];
    nb::module_::import_("logging").attr("getLogger")(std::string("wick.backend.") + backend)
        .attr("log")(py_level, "%s", message);
  } catch (...) {
    PyErr_Clear();  // logging must never fail a backend call
  }
}

// The event buffer while Python traces (start_tracing .. stop_tracing).
std::vector<wick::TraceEvent> g_trace_events;

// wick.errors.WickError, set by the Python package. A handle with a reference
// kept for the process: a static nb::object would be released after the
// interpreter has shut down.
nb::handle g_wick_error;

[[noreturn]] void raise_error(wick::Error err, const std::string& context = "") {
  std::string raw = context.empty() ? wick::last_error_message() : context + ": " + wick::last_error_message();
  // A corrupt file can put any bytes into a message (an operator name, say).
  nb::object message = nb::steal(PyUnicode_DecodeUTF8(raw.data(), static_cast<Py_ssize_t>(raw.size()), "replace"));
  nb::object exc = g_wick_error.is_valid() ? g_wick_error(message, wick::error_name(err))
                                          : nb::module_::import_("builtins").attr("RuntimeError")(message);
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
  throw nb::python_error();
}

void check(wick::Error err, const std::string& context = "") {
  if (err != wick::Error::Ok) raise_error(err, context);
}

bool to_scalar_type(nb::dlpack::dtype dt, wick::ScalarType* out) {
  using nb::dlpack::dtype_code;
  auto code = static_cast<dtype_code>(dt.code);
  if (code == dtype_code::Float && dt.bits == 32) *out = wick::ScalarType::Float32;
  else if (code == dtype_code::Float && dt.bits == 64) *out = wick::ScalarType::Float64;
  else if (code == dtype_code::Float && dt.bits == 16) *out = wick::ScalarType::Float16;
  else if (code == dtype_code::Bfloat && dt.bits == 16) *out = wick::ScalarType::BFloat16;
  else if (code == dtype_code::Int && dt.bits == 8) *out = wick::ScalarType::Int8;
  else if (code == dtype_code::Int && dt.bits == 16) *out = wick::ScalarType::Int16;
  else if (code == dtype_code::Int && dt.bits == 32) *out = wick::ScalarType::Int32;
  else if (code == dtype_code::Int && dt.bits == 64) *out = wick::ScalarType::Int64;
  else if (code == dtype_code::UInt && dt.bits == 8) *out = wick::ScalarType::UInt8;
  else if (code == dtype_code::Bool && dt.bits == 8) *out = wick::ScalarType::Bool;
  else if (code == dtype_code::Complex && dt.bits == 64) *out = wick::ScalarType::ComplexFloat;
  else if (code == dtype_code::Complex && dt.bits == 128) *out = wick::ScalarType::ComplexDouble;
  else return false;
  return true;
}

// NumPy's name for a DLPack dtype ("uint16"), for messages about those Wick lacks.
std::string dtype_name(nb::dlpack::dtype dt) {
  using nb::dlpack::dtype_code;
  const char* kind = "unknown";
  switch (static_cast<dtype_code>(dt.code)) {
    case dtype_code::Int: kind = "int"; break;
    case dtype_code::UInt: kind = "uint"; break;
    case dtype_code::Float: kind = "float"; break;
    case dtype_code::Bfloat: kind = "bfloat"; break;
    case dtype_code::Complex: kind = "complex"; break;
    case dtype_code::Bool: kind = "bool"; break;
    default: break;
  }
  std::string name = std::string(kind) + std::to_string(dt.bits);
  if (dt.lanes != 1) name += "x" + std::to_string(dt.lanes);
  return name;
}

constexpr const char* kSupportedDtypes =
    "float32, float64, float16, bfloat16, int8, int16, int32, int64, uint8, bool, complex64, complex128";

struct PyProgram;

// One method instance, freed with the last Python reference to it.
struct MethodInstance {
  std::shared_ptr<wick::Session> session;
  wick::LoadedMethod* loaded;
  ~MethodInstance() { session->unload_method(loaded); }
};

struct PyMethod {
  std::shared_ptr<MethodInstance> instance;
  wick::LoadedMethod* loaded;

  // Runs the method. Tensors are bound zero-copy (borrowed for the call);
  // outputs are copied out, since the next run reuses the arena.
  // Calls from several threads take turns: the instance's lock is held from
  // binding the inputs until the outputs are copied, and waited for with the
  // GIL released (so the thread holding it can take the GIL back).
  nb::list run(nb::sequence args) {
    std::unique_lock<std::mutex> turn(loaded->call_mutex(), std::try_to_lock);
    if (!turn.owns_lock()) {
      nb::gil_scoped_release release;
      turn.lock();
    }
    wick::Method& m = loaded->method();
    size_t n = nb::len(args);
    if (n != m.num_inputs()) {
      wick::fail(wick::Error::InvalidArgument, "method '%s' takes %zu inputs, got %zu", m.name(), m.num_inputs(), n);
      raise_error(wick::Error::InvalidArgument);
    }
    std::vector<nb::ndarray<nb::ro, nb::c_contig, nb::device::cpu>> keep;
    keep.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      nb::handle a = args[i];
      const wick::Value& spec = m.input(i);
      if (!spec.is_tensor()) {
        wick::Value v;
        v.tag = spec.tag;
        bool cast = true;
        if (spec.tag == wick::ValueTag::Int) cast = nb::try_cast(a, v.i);
        else if (spec.tag == wick::ValueTag::Double) cast = nb::try_cast(a, v.d);
        else if (spec.tag == wick::ValueTag::Bool) cast = nb::try_cast(a, v.b);
        if (!cast) {
          std::string type = nb::cast<std::string>(nb::str(a.type().attr("__name__")));
          wick::fail(wick::Error::InvalidArgument, "input %zu of method '%s' must be a Python %s, got %s", i, m.name(),
                     wick::value_tag_name(spec.tag), type.c_str());
          raise_error(wick::Error::InvalidArgument);
        }
        check(m.set_scalar_input(i, v));
        keep.emplace_back();
        continue;
      }
      nb::ndarray<nb::ro, nb::c_contig, nb::device::cpu> arr;
      if (!nb::try_cast(a, arr)) {
        wick::fail(wick::Error::InvalidArgument,
                   "input %zu of method '%s' must be a CPU array or tensor (NumPy, torch, DLPack)", i, m.name());
        raise_error(wick::Error::InvalidArgument);
      }
      wick::ScalarType dtype;
      if (!to_scalar_type(arr.dtype(), &dtype)) {
        wick::fail(wick::Error::InvalidArgument, "input %zu of method '%s' has dtype %s, which Wick does not support "
                   "(supported: %s); the method expects %s", i, m.name(), dtype_name(arr.dtype()).c_str(),
                   kSupportedDtypes, wick::scalar_type_name(spec.tensor->dtype));
        raise_error(wick::Error::InvalidArgument);
      }
      std::vector<int64_t> sizes(arr.ndim());
      for (size_t d = 0; d < arr.ndim(); ++d) sizes[d] = static_cast<int64_t>(arr.shape(d));
      check(m.set_input(i, const_cast<void*>(arr.data()), dtype, sizes.data(), static_cast<int>(sizes.size())));
      keep.push_back(std::move(arr));
    }
    wick::Error err;
    {
      nb::gil_scoped_release release;
      err = m.execute();
    }
    check(err);
    nb::module_ np = nb::module_::import_("numpy");
    nb::list outputs;
    for (size_t i = 0; i < m.num_outputs(); ++i) {
      const wick::Value& v = m.output(i);
      switch (v.tag) {
        case wick::ValueTag::Tensor: {
          const wick::Tensor& t = *v.tensor;
          nb::list shape;
          for (int d = 0; d < t.dim; ++d) shape.append(t.sizes[d]);
          nb::object out = np.attr("empty")(nb::tuple(shape), "dtype"_a = wick_python::numpy_dtype(t.dtype));
          nb::ndarray<nb::c_contig, nb::device::cpu> view = nb::cast<nb::ndarray<nb::c_contig, nb::device::cpu>>(out);
          if (t.nbytes() > 0) std::memcpy(view.data(), t.data, t.nbytes());
          outputs.append(out);
          break;
        }
        case wick::ValueTag::Int: outputs.append(v.i); break;
        case wick::ValueTag::Double: outputs.append(v.d); break;
        case wick::ValueTag::Bool: outputs.append(v.b); break;
        default: outputs.append(nb::none());
      }
    }
    return outputs;
  }

  nb::list input_specs() {
    wick::Method& m = loaded->method();
    nb::list specs;
    for (size_t i = 0; i < m.num_inputs(); ++i) {
      const wick::Value& v = m.input(i);
      if (v.is_tensor()) {
        std::vector<int64_t> sizes(v.tensor->sizes, v.tensor->sizes + v.tensor->dim);
        specs.append(nb::make_tuple(wick::scalar_type_name(v.tensor->dtype), sizes, v.tensor->dynamic));
      } else {
        specs.append(nb::make_tuple(wick::value_tag_name(v.tag), std::vector<int64_t>(), false));
      }
    }
    return specs;
  }
};

struct PyProgram {
  std::shared_ptr<wick::Session> session;

  std::vector<std::string> method_names() const {
    std::vector<std::string> names;
    for (size_t i = 0; i < session->program().num_methods(); ++i) names.push_back(session->program().method_name(i));
    return names;
  }

  // Backend names the program's delegate calls need, across all methods.
  std::vector<std::string> required_backends() const { return session->delegate_backends(); }

  // A new instance each call (wick.runtime.Program caches the shared one).
  PyMethod method(const std::string& name) {
    wick::LoadedMethod* loaded = nullptr;
    check(session->load_method(name, &loaded));
    return PyMethod{std::shared_ptr<MethodInstance>(new MethodInstance{session, loaded}), loaded};
  }
};

}  // namespace

NB_MODULE(_runtime, m) {
  m.doc() = "Wick C++ runtime bindings (use wick.runtime, not this module directly).";

  m.def("_set_error_type", [](nb::object type) { g_wick_error = type.release(); });

  m.def("load_file", [](const std::string& path, bool verify_checksums) {
    auto session = std::make_shared<wick::Session>();
    wick::ProgramLoadOptions options;
    options.verify_checksums = verify_checksums;
    check(session->open_file(path, options));
    return PyProgram{session};
  }, "path"_a, "verify_checksums"_a = true, "Maps a .wick file and verifies it.");

  m.def("load_bytes", [](nb::bytes data, bool verify_checksums) {
    auto session = std::make_shared<wick::Session>();
    wick::ProgramLoadOptions options;
    options.verify_checksums = verify_checksums;
    check(session->open_buffer(data.c_str(), data.size(), options));
    return PyProgram{session};
  }, "data"_a, "verify_checksums"_a = true, "Verifies a program held in memory (copied into an aligned buffer).");

  m.def("load_backend_library", [](const std::string& path) { check(wick::load_backend_library(path.c_str())); },
        "path"_a);
  m.def("try_load_backend_library",
        [](const std::string& path) {
          wick::Registration result = wick::Registration::LoadFailed;
          wick::Error err = wick::load_backend_library(path.c_str(), &result);
          return nb::make_tuple(std::string(wick::registration_name(result)),
                                std::string(err == wick::Error::Ok ? "" : wick::last_error_message()));
        },
        "path"_a, "Loads and registers a backend library: (outcome, message); never raises.");
  m.def("registered_source_of", [](const std::string& name) -> nb::object {
    const char* source = wick::registered_source_of(name.c_str());
    if (source == nullptr) return nb::none();
    return nb::str(source);
  });
  m.def("start_tracing", [](size_t capacity) {
    wick::stop_tracing();
    g_trace_events.assign(capacity, wick::TraceEvent{});
    wick::start_tracing(g_trace_events.data(), g_trace_events.size());
  }, "capacity"_a = 65536);
  m.def("stop_tracing", []() {
    size_t dropped = 0;
    size_t n = wick::stop_tracing(&dropped);
    nb::list events;
    for (size_t i = 0; i < n; ++i) {
      const wick::TraceEvent& e = g_trace_events[i];
      nb::dict counters;
      for (uint32_t c = 0; c < e.num_counters; ++c) counters[e.counters[c].name] = e.counters[c].value;
      events.append(nb::make_tuple(std::string(e.name), std::string(e.category), e.begin_ns, e.end_ns, e.depth,
                                   counters));
    }
    return nb::make_tuple(events, dropped);
  });

  m.def("register_python_backend",
        [](const std::string& name, nb::object init, nb::object execute, nb::object destroy, nb::object is_available,
           nb::object info) {
          try {
            wick_python::register_python_backend(name, init, execute, destroy, is_available, info);
          } catch (const std::runtime_error& e) {
            wick::fail(wick::Error::InvalidArgument, "%s", e.what());
            raise_error(wick::Error::InvalidArgument);
          }
        },
        "name"_a, "init"_a, "execute"_a, "destroy"_a = nb::none(), "is_available"_a = nb::none(), "info"_a = nb::none());

  m.def("registered_backends", []() {
    nb::list out;
    for (size_t i = 0; i < wick::registered_backend_count(); ++i) {
      const WickBackend2* b = wick::registered_backend(i);
      char reason[256] = "";
      bool available = b->is_available == nullptr || b->is_available(b->self, reason, sizeof(reason));
      char info[512] = "";
      wick::describe_backend(i, info, sizeof(info));
      out.append(nb::make_tuple(std::string(b->name), std::string(wick::registered_backend_source(i)), available,
                                std::string(reason), std::string(info), std::string(wick::registered_backend_abi(i))));
    }
    return out;
  });

  m.def("registered_kernels", []() {
    nb::list out;
    for (size_t i = 0; i < wick::registered_kernel_count(); ++i) {
      const wick::Kernel& k = wick::registered_kernel(i);
      nb::list dtypes;
      for (int t = 0; t < wick::kNumScalarTypes; ++t) {
        if (k.dtypes & (1u << t)) dtypes.append(wick::scalar_type_name(static_cast<wick::ScalarType>(t)));
      }
      out.append(nb::make_tuple(std::string(k.op_name), dtypes));
    }
    return out;
  });

  m.attr("SCHEMA_VERSION") = wick::kSchemaVersion;
  m.attr("BACKEND_ABI_VERSION") = std::to_string(WICK_ABI_MAJOR) + "." + std::to_string(WICK_ABI_MINOR);
  wick::set_backend_log_sink(python_log_sink);

  nb::class_<PyProgram>(m, "Program")
      .def_prop_ro("method_names", &PyProgram::method_names)
      .def_prop_ro("required_backends", &PyProgram::required_backends)
      .def_prop_ro("file_size", [](const PyProgram& p) { return p.session->program().file_size(); })
      .def_prop_ro("has_checksums", [](const PyProgram& p) { return p.session->program().has_checksums(); })
      .def("method", &PyProgram::method, "name"_a = "forward")
      .def("set_backend_option",
           [](PyProgram& p, const std::string& backend, const std::string& key, const std::string& value) {
             p.session->set_backend_option(backend, key, value);
           },
           "backend"_a, "key"_a, "value"_a, "A load-time option for the backend's delegates of methods loaded after.");

  nb::class_<PyMethod>(m, "Method")
      .def("run", &PyMethod::run, "inputs"_a)
      .def_prop_ro("name", [](const PyMethod& m) { return std::string(m.loaded->method().name()); })
      .def_prop_ro("input_specs", &PyMethod::input_specs)
      .def_prop_ro("output_dtypes",
                   [](const PyMethod& m) {
                     std::vector<std::string> names;
                     wick::Method& method = m.loaded->method();
                     for (size_t i = 0; i < method.num_outputs(); ++i) {
                       const wick::Value& v = method.output(i);
                       names.push_back(v.is_tensor() ? wick::scalar_type_name(v.tensor->dtype)
                                                     : wick::value_tag_name(v.tag));
                     }
                     return names;
                   })
      .def_prop_ro("num_outputs", [](const PyMethod& m) { return m.loaded->method().num_outputs(); })
      .def_prop_ro("num_instructions", [](const PyMethod& m) { return m.loaded->method().num_instructions(); })
      .def_prop_ro("arena_bytes", [](const PyMethod& m) { return m.loaded->arena_bytes(); })
      .def_prop_ro("runtime_bytes", [](const PyMethod& m) { return m.loaded->runtime_bytes(); });
}
