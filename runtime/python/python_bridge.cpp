#include "python_bridge.h"

#include "numpy_dtype.h"

#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>

#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "wick/backend.h"
#include "wick/runtime/backend_registry.h"
#include "wick/runtime/scalar_type.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace wick_python {
namespace {

// One per registered Python backend, reached through the table's `self`.
// Never freed: registered backends live as long as the process. The
// callables are borrowed handles holding a reference that is never released
// (a static nb::object would be destroyed after the interpreter has shut down).
struct Bridged {
  std::string name;
  std::string info_text;
  nb::handle init, execute, destroy, is_available, info;
  WickBackend2 table{};
};

nb::handle keep(nb::object o) { return o.release(); }
Bridged& bridged(void* self) { return *static_cast<Bridged*>(self); }

// "ValueError: message" of a Python exception, without the traceback.
std::string describe(nb::python_error& e) {
  try {
    return nb::cast<std::string>(e.type().attr("__name__")) + ": " + nb::cast<std::string>(nb::str(e.value()));
  } catch (...) {
    return "a Python exception";
  }
}

void write_error(char* error, size_t size, const Bridged& slot, const std::string& what) {
  std::snprintf(error, size, "%s (Python backend '%s')", what.c_str(), slot.name.c_str());
}

int is_available(void* self, char* reason, size_t size) {
  Bridged& s = bridged(self);
  if (!s.is_available.is_valid() || s.is_available.is_none()) return 1;
  nb::gil_scoped_acquire gil;
  try {
    nb::tuple r = nb::cast<nb::tuple>(s.is_available());
    bool ok = nb::cast<bool>(r[0]);
    if (!ok) std::snprintf(reason, size, "%s", nb::cast<std::string>(r[1]).c_str());
    return ok ? 1 : 0;
  } catch (nb::python_error& e) {
    std::snprintf(reason, size, "is_available() raised %s", describe(e).c_str());
    return 0;
  } catch (const std::exception& e) {
    std::snprintf(reason, size, "is_available() failed: %s", e.what());
    return 0;
  }
}

WickStatus init(void* self, const WickInitArgs* args, void** handle, char* error, size_t error_size) {
  Bridged& s = bridged(self);
  const uint8_t* blob = args->blob;
  const size_t blob_size = args->blob_size;
  const WickCompileSpec* specs = args->specs;
  const size_t num_specs = args->num_specs;
  nb::gil_scoped_acquire gil;
  try {
    nb::dict spec_dict;
    for (size_t i = 0; i < num_specs; ++i) {
      spec_dict[specs[i].key] = nb::bytes(reinterpret_cast<const char*>(specs[i].value), specs[i].value_size);
    }
    nb::object view = nb::steal(PyMemoryView_FromMemory(reinterpret_cast<char*>(const_cast<uint8_t*>(blob)),
                                                       static_cast<Py_ssize_t>(blob_size), PyBUF_READ));
    nb::object h = s.init(view, spec_dict);
    *handle = h.release().ptr();  // owned until destroy()
    return WICK_STATUS_OK;
  } catch (nb::python_error& e) {
    write_error(error, error_size, s, "init() raised " + describe(e));
    return WICK_STATUS_ERROR;
  } catch (const std::exception& e) {
    write_error(error, error_size, s, std::string("init() failed: ") + e.what());
    return WICK_STATUS_ERROR;
  }
}

WickStatus execute(void* self, void* handle, WickTensorArg* args, size_t num_args, char* error, size_t error_size) {
  Bridged& s = bridged(self);
  nb::gil_scoped_acquire gil;
  try {
    nb::module_ np = nb::module_::import_("numpy");
    nb::list inputs;
    // Inputs are the arguments before the outputs; the Python side returns
    // as many arrays as there are outputs, so count them from its result.
    std::vector<nb::object> arrays;
    for (size_t i = 0; i < num_args; ++i) {
      const char* dt = numpy_dtype(static_cast<wick::ScalarType>(args[i].dtype));
      if (dt == nullptr) {
        write_error(error, error_size, s, "unsupported dtype for the Python bridge");
        return WICK_STATUS_UNSUPPORTED;
      }
      size_t shape[8];
      for (int32_t d = 0; d < args[i].dim; ++d) shape[d] = static_cast<size_t>(args[i].sizes[d]);
      size_t itemsize = wick::element_size(static_cast<wick::ScalarType>(args[i].dtype));
      nb::object buffer = nb::steal(PyMemoryView_FromMemory(static_cast<char*>(args[i].data),
                                                            static_cast<Py_ssize_t>(args[i].capacity), PyBUF_WRITE));
      size_t numel = 1;
      for (int32_t d = 0; d < args[i].dim; ++d) numel *= shape[d];
      nb::object flat = np.attr("frombuffer")(buffer, "dtype"_a = dt, "count"_a = numel);
      nb::list dims;
      for (int32_t d = 0; d < args[i].dim; ++d) dims.append(shape[d]);
      arrays.push_back(flat.attr("reshape")(nb::tuple(dims)));
      (void)itemsize;
    }
    nb::object h = nb::borrow(static_cast<PyObject*>(handle));
    // Hand over all arguments; the callee knows its arity. Outputs may be
    // written in place or returned.
    size_t num_outputs_hint = 0;
    nb::list all;
    for (auto& a : arrays) all.append(a);
    nb::object result = s.execute(h, all);
    if (result.is_none()) return WICK_STATUS_OK;
    nb::list outs = nb::cast<nb::list>(result);
    num_outputs_hint = nb::len(outs);
    if (num_outputs_hint > num_args) {
      write_error(error, error_size, s, "execute() returned more outputs than there are arguments");
      return WICK_STATUS_ERROR;
    }
    size_t first_out = num_args - num_outputs_hint;
    for (size_t k = 0; k < num_outputs_hint; ++k) {
      WickTensorArg& out = args[first_out + k];
      nb::object arr = np.attr("ascontiguousarray")(outs[k], "dtype"_a = numpy_dtype(static_cast<wick::ScalarType>(out.dtype)));
      size_t nbytes = nb::cast<size_t>(arr.attr("nbytes"));
      int ndim = nb::cast<int>(arr.attr("ndim"));
      if (nbytes > out.capacity || ndim > 8) {
        write_error(error, error_size, s, "execute() returned an output larger than planned");
        return WICK_STATUS_ERROR;
      }
      nb::tuple shape = nb::cast<nb::tuple>(arr.attr("shape"));
      out.dim = ndim;
      for (int d = 0; d < ndim; ++d) out.sizes[d] = nb::cast<int64_t>(shape[d]);
      nb::bytes raw = nb::cast<nb::bytes>(arr.attr("tobytes")());
      std::memcpy(out.data, raw.c_str(), nbytes);
    }
    return WICK_STATUS_OK;
  } catch (nb::python_error& e) {
    write_error(error, error_size, s, "execute() raised " + describe(e));
    return WICK_STATUS_ERROR;
  } catch (const std::exception& e) {
    write_error(error, error_size, s, std::string("execute() failed: ") + e.what());
    return WICK_STATUS_ERROR;
  }
}

void destroy(void* self, void* handle) {
  if (handle == nullptr || !Py_IsInitialized()) return;
  Bridged& s = bridged(self);
  nb::gil_scoped_acquire gil;
  nb::object h = nb::steal(static_cast<PyObject*>(handle));
  if (s.destroy.is_valid() && !s.destroy.is_none()) {
    try {
      s.destroy(h);
    } catch (const std::exception&) {
      // destroy cannot report; the handle is released regardless
    }
  }
}

WickStatus device_info(void* self, WickDeviceInfo* info) {
  info->device = bridged(self).info_text.c_str();
  return WICK_STATUS_OK;
}

}  // namespace

void register_python_backend(const std::string& name, nb::object init_fn, nb::object execute_fn,
                             nb::object destroy_fn, nb::object is_available_fn, nb::object info_fn) {
  auto* s = new Bridged();
  s->name = name;
  s->info_text = info_fn.is_valid() && !info_fn.is_none() ? nb::cast<std::string>(info_fn()) : "Python backend";
  s->init = keep(init_fn);
  s->execute = keep(execute_fn);
  s->destroy = keep(destroy_fn);
  s->is_available = keep(is_available_fn);
  s->info = keep(info_fn);
  WickBackend2& t = s->table;
  t.header = WICK_STRUCT_HEADER(WickBackend2);
  t.name = s->name.c_str();
  t.self = s;
  t.is_available = is_available;
  t.init = init;
  t.execute = execute;
  t.destroy = destroy;
  t.device_info = device_info;
  wick::Error err = wick::register_backend(&s->table, "Python (wick.runtime.register_python_backend)");
  if (err != wick::Error::Ok) {
    for (nb::handle h : {s->init, s->execute, s->destroy, s->is_available, s->info}) h.dec_ref();
    delete s;
    throw std::runtime_error(wick::last_error_message());
  }
}

}  // namespace wick_python
