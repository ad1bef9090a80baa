// wick-run: runs a Wick program with no Python.
//
//   wick-run model.wick [--method forward] [--input a.npy]... [--fill random|zeros]
//            [--iterations N] [--warmup N] [--backend-lib lib.so]... [--output-dir DIR]
//            [--backend-option BACKEND.KEY=VALUE]... [--no-verify-checksums]
//
// Backend libraries also come from WICK_BACKEND_LIBS (colon-separated).
// Exit status: 0 on success, 1 on a runtime error, 2 on a usage error.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "../host/session.h"
#include "npy.h"
#include "wick/runtime/backend_registry.h"
#include "wick/runtime/event_tracer.h"
#include "wick/runtime/platform.h"

namespace {

struct Options {
  std::string program;
  std::string method = "forward";
  std::vector<std::string> inputs;
  std::vector<std::string> backend_libs;
  std::vector<std::string> backend_options;  // BACKEND.KEY=VALUE
  std::string fill = "random";
  std::string output_dir;
  int iterations = 1;
  int warmup = 0;
  bool verify_checksums = true;
  bool profile = false;
};

int usage(const char* why) {
  std::fprintf(stderr,
               "wick-run: %s\n"
               "usage: wick-run PROGRAM.wick [--method NAME] [--input FILE.npy]... [--fill random|zeros]\n"
               "                [--iterations N] [--warmup N] [--backend-lib LIB.so]... [--output-dir DIR]\n"
               "                [--backend-option BACKEND.KEY=VALUE]...  (e.g. xnnpack.threads=1)\n"
               "                [--no-verify-checksums]  (skip the CRC-32 pass over the file at load)\n"
               "                [--profile]  (after the timed runs, one traced run: each instruction and the\n"
               "                              events delegates emit, nested, with durations)\n",
               why);
  return 2;
}

int runtime_error(const char* what, wick::Error err) {
  std::fprintf(stderr, "wick-run: %s: %s (%s)\n", what, wick::last_error_message(), wick::error_name(err));
  return 1;
}

void fill_input(wick::Tensor& spec, const std::string& mode, std::mt19937& rng, std::vector<uint8_t>& storage) {
  storage.assign(spec.nbytes(), 0);
  if (mode == "zeros") return;
  int64_t n = spec.numel();
  switch (spec.dtype) {
    case wick::ScalarType::Float32: {
      std::normal_distribution<float> dist;
      float* p = reinterpret_cast<float*>(storage.data());
      for (int64_t i = 0; i < n; ++i) p[i] = dist(rng);
      break;
    }
    case wick::ScalarType::Int64: {
      // Token ids and indices: small non-negative values stay valid for
      // embeddings of any vocabulary the standard models use.
      std::uniform_int_distribution<int64_t> dist(0, 15);
      int64_t* p = reinterpret_cast<int64_t*>(storage.data());
      for (int64_t i = 0; i < n; ++i) p[i] = dist(rng);
      break;
    }
    default:
      break;  // zeros for other dtypes
  }
}

void summarize(size_t index, const wick::Value& v) {
  if (!v.is_tensor()) {
    std::printf("output %zu: %s = %g\n", index, wick::value_tag_name(v.tag), v.scalar_as_double());
    return;
  }
  const wick::Tensor& t = *v.tensor;
  char shape[128];
  wick::format_shape(t.sizes, t.dim, shape, sizeof(shape));
  std::printf("output %zu: %s %s", index, wick::scalar_type_name(t.dtype), shape);
  if (t.dtype == wick::ScalarType::Float32 && t.numel() > 0) {
    const float* p = t.data_as<const float>();
    double sum = 0, lo = p[0], hi = p[0];
    for (int64_t i = 0; i < t.numel(); ++i) {
      sum += p[i];
      lo = std::min<double>(lo, p[i]);
      hi = std::max<double>(hi, p[i]);
    }
    std::printf("  min %.6g  max %.6g  mean %.6g  first [", lo, hi, sum / static_cast<double>(t.numel()));
    for (int64_t i = 0; i < std::min<int64_t>(5, t.numel()); ++i) std::printf(i ? ", %.6g" : "%.6g", p[i]);
    std::printf("]");
  }
  std::printf("\n");
}

int run(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&](const char* flag) -> const char* {
      if (i + 1 >= argc) return nullptr;
      (void)flag;
      return argv[++i];
    };
    const char* v = nullptr;
    if (a == "--help" || a == "-h") {
      usage("run a Wick program file");
      return 0;
    } else if (a == "--profile") {
      opt.profile = true;
    } else if (a == "--method") {
      if (!(v = next("--method"))) return usage("--method needs a name");
      opt.method = v;
    } else if (a == "--input") {
      if (!(v = next("--input"))) return usage("--input needs a .npy file");
      opt.inputs.push_back(v);
    } else if (a == "--fill") {
      if (!(v = next("--fill"))) return usage("--fill needs random or zeros");
      opt.fill = v;
      if (opt.fill != "random" && opt.fill != "zeros") return usage("--fill must be random or zeros");
    } else if (a == "--iterations" || a == "--warmup") {
      if (!(v = next(a.c_str()))) return usage("--iterations/--warmup need a number");
      char* end = nullptr;
      long n = std::strtol(v, &end, 10);
      if (*end != '\0' || n < 0 || n > 1000000) return usage("--iterations/--warmup need a number in [0, 1000000]");
      (a == "--iterations" ? opt.iterations : opt.warmup) = static_cast<int>(n);
    } else if (a == "--backend-lib") {
      if (!(v = next("--backend-lib"))) return usage("--backend-lib needs a path");
      opt.backend_libs.push_back(v);
    } else if (a == "--backend-option") {
      if (!(v = next("--backend-option"))) return usage("--backend-option needs BACKEND.KEY=VALUE");
      opt.backend_options.push_back(v);
    } else if (a == "--no-verify-checksums") {
      opt.verify_checksums = false;
    } else if (a == "--output-dir") {
      if (!(v = next("--output-dir"))) return usage("--output-dir needs a directory");
      opt.output_dir = v;
    } else if (!a.empty() && a[0] == '-') {
      return usage(("unknown option " + a).c_str());
    } else if (opt.program.empty()) {
      opt.program = a;
    } else {
      return usage("only one program file may be given");
    }
  }
  if (opt.program.empty()) return usage("no program file given");

  if (const char* env = std::getenv("WICK_BACKEND_LIBS")) {
    std::string list = env;
    for (size_t start = 0; start <= list.size();) {
      size_t end = list.find(':', start);
      if (end == std::string::npos) end = list.size();
      if (end > start) opt.backend_libs.push_back(list.substr(start, end - start));
      start = end + 1;
    }
  }
  for (const auto& lib : opt.backend_libs) {
    wick::Error err = wick::load_backend_library(lib.c_str());
    if (err != wick::Error::Ok) return runtime_error("loading backend library", err);
  }

  wick::Session session;
  uint64_t t0 = wick::pal_time_ns();
  wick::ProgramLoadOptions load_options;
  load_options.verify_checksums = opt.verify_checksums;
  wick::Error err = session.open_file(opt.program, load_options);
  if (err != wick::Error::Ok) return runtime_error(("loading " + opt.program).c_str(), err);
  const std::vector<std::string> used = session.delegate_backends();
  for (const std::string& o : opt.backend_options) {
    const size_t dot = o.find('.'), eq = o.find('=');
    if (dot == 0 || dot == std::string::npos || eq == std::string::npos || eq < dot + 2) {
      return usage(("--backend-option '" + o + "' is not BACKEND.KEY=VALUE (e.g. xnnpack.threads=1)").c_str());
    }
    const std::string backend = o.substr(0, dot);
    if (std::find(used.begin(), used.end(), backend) == used.end()) {
      return usage(("--backend-option '" + o + "' names backend '" + backend +
                    "', which this program does not delegate to").c_str());
    }
    session.set_backend_option(backend, o.substr(dot + 1, eq - dot - 1), o.substr(eq + 1));
  }
  wick::LoadedMethod* loaded = nullptr;
  err = session.load_method(opt.method, &loaded);
  if (err == wick::Error::BackendNotFound && opt.backend_libs.empty()) {
    // The usual cause: no backend library was loaded at all. Say so.
    std::string names;
    for (const std::string& b : used) names += (names.empty() ? "" : ", ") + b;
    std::fprintf(stderr,
                 "wick-run: loading method %s: %s (BackendNotFound)\n"
                 "wick-run: the program delegates to backend(s) %s, and wick-run was given no --backend-lib (nor "
                 "WICK_BACKEND_LIBS); pass each backend's runtime library: `wick backends` lists their paths\n",
                 opt.method.c_str(), wick::last_error_message(), names.c_str());
    return 1;
  }
  if (err != wick::Error::Ok) return runtime_error(("loading method " + opt.method).c_str(), err);
  uint64_t t1 = wick::pal_time_ns();
  wick::Method& method = loaded->method();

  if (!opt.inputs.empty() && opt.inputs.size() != method.num_inputs()) {
    char msg[128];
    std::snprintf(msg, sizeof(msg), "method '%s' takes %zu inputs, %zu --input files given", opt.method.c_str(),
                  method.num_inputs(), opt.inputs.size());
    return usage(msg);
  }
  std::mt19937 rng(0);
  std::vector<wick_runner::NpyArray> arrays(method.num_inputs());
  for (size_t i = 0; i < method.num_inputs(); ++i) {
    const wick::Value& in = method.input(i);
    if (!in.is_tensor()) continue;
    wick_runner::NpyArray& arr = arrays[i];
    if (!opt.inputs.empty()) {
      std::string why = wick_runner::read_npy(opt.inputs[i], &arr);
      if (!why.empty()) {
        std::fprintf(stderr, "wick-run: %s\n", why.c_str());
        return 1;
      }
    } else {
      arr.dtype = in.tensor->dtype;
      arr.shape.assign(in.tensor->sizes, in.tensor->sizes + in.tensor->dim);
      fill_input(*in.tensor, opt.fill, rng, arr.data);
    }
    err = method.set_input(i, arr.data.data(), arr.dtype, arr.shape.data(), static_cast<int>(arr.shape.size()));
    if (err != wick::Error::Ok) {
      return runtime_error(opt.inputs.empty() ? "setting inputs" : ("setting input from '" + opt.inputs[i] + "'").c_str(),
                           err);
    }
  }

  for (int w = 0; w < opt.warmup; ++w) {
    err = method.execute();
    if (err != wick::Error::Ok) return runtime_error("executing", err);
  }
  std::vector<double> times;
  for (int it = 0; it < std::max(1, opt.iterations); ++it) {
    uint64_t s = wick::pal_time_ns();
    err = method.execute();
    if (err != wick::Error::Ok) return runtime_error("executing", err);
    times.push_back(static_cast<double>(wick::pal_time_ns() - s) / 1e6);
  }
  std::sort(times.begin(), times.end());

  std::printf("program: %s  method: %s  instructions: %zu  arena: %zu bytes\n", opt.program.c_str(),
              opt.method.c_str(), method.num_instructions(), loaded->arena_bytes());
  for (size_t i = 0; i < method.num_outputs(); ++i) summarize(i, method.output(i));
  std::printf("load: %.3f ms  execute: median %.3f ms  min %.3f ms  (%zu iterations)\n",
              static_cast<double>(t1 - t0) / 1e6, times[times.size() / 2], times.front(), times.size());

  if (opt.profile) {
    std::vector<wick::TraceEvent> events(1 << 16);
    wick::start_tracing(events.data(), events.size());
    err = method.execute();
    size_t dropped = 0;
    const size_t n = wick::stop_tracing(&dropped);
    if (err != wick::Error::Ok) return runtime_error("executing (profiled)", err);
    std::printf("profile (one run, %zu events%s):\n", n, dropped ? ", some dropped" : "");
    for (size_t i = 0; i < n; ++i) {
      const wick::TraceEvent& e = events[i];
      std::printf("  %*s%-9s %-40s %10.1f us", 2 * e.depth, "", e.category, e.name,
                  static_cast<double>(e.end_ns - e.begin_ns) / 1e3);
      for (uint32_t c = 0; c < e.num_counters; ++c) {
        std::printf("  %s=%lld", e.counters[c].name, static_cast<long long>(e.counters[c].value));
      }
      std::printf("\n");
    }
  }

  if (!opt.output_dir.empty()) {
    for (size_t i = 0; i < method.num_outputs(); ++i) {
      const wick::Value& v = method.output(i);
      if (!v.is_tensor()) continue;
      wick_runner::NpyArray arr;
      arr.dtype = v.tensor->dtype;
      arr.shape.assign(v.tensor->sizes, v.tensor->sizes + v.tensor->dim);
      const uint8_t* p = static_cast<const uint8_t*>(v.tensor->data);
      arr.data.assign(p, p + v.tensor->nbytes());
      std::string path = opt.output_dir + "/output_" + std::to_string(i) + ".npy";
      std::string why = wick_runner::write_npy(path, arr);
      if (!why.empty()) {
        std::fprintf(stderr, "wick-run: %s\n", why.c_str());
        return 1;
      }
    }
  }
  return 0;
}

}  // namespace

// No input file, however malformed, may end wick-run with an uncaught
// exception: the host code's std::string and std::vector may throw.
int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "wick-run: out of memory\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wick-run: internal error: %s\n", e.what());
  }
  return 1;
}
