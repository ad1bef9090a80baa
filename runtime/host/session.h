// Host-side convenience over the core: owns the program bytes (a file mapping
// or a copied buffer) and the memory of each loaded method. Used by the
// standalone runner and the Python module. It allocates at load time, on the
// heap, as a host program may; Method::execute itself still allocates nothing.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "wick/runtime/method.h"
#include "wick/runtime/platform.h"
#include "wick/runtime/program.h"

namespace wick {

// A loaded method with the memory it runs in.
class LoadedMethod {
 public:
  Method& method() { return method_; }
  size_t arena_bytes() const { return arena_size_; }
  // Bookkeeping bytes the load used (values, instructions, backends' init).
  size_t runtime_bytes() const { return runtime_bytes_; }
  // wick::Method is single-caller: a host that shares one LoadedMethod
  // between threads holds this across set_input, execute and reading the
  // outputs (the Python module does).
  std::mutex& call_mutex() { return call_mutex_; }

 private:
  friend class Session;
  static void* add_block(LoadedMethod* method, size_t bytes, size_t* got);
  std::vector<std::unique_ptr<uint8_t[]>> runtime_memory_;
  size_t runtime_bytes_ = 0;
  std::unique_ptr<uint8_t[]> arena_;
  size_t arena_size_ = 0;
  std::mutex call_mutex_;
  Method method_;
};

class Session {
 public:
  Session() = default;
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Maps the file (zero-copy: constants are read from the mapping).
  Error open_file(const std::string& path, const ProgramLoadOptions& options = ProgramLoadOptions());
  // Copies `size` bytes into an aligned buffer the session owns.
  Error open_buffer(const void* data, size_t size, const ProgramLoadOptions& options = ProgramLoadOptions());

  const Program& program() const { return program_; }
  // Program::delegate_backends as strings.
  std::vector<std::string> delegate_backends() const;

  // A load-time option for `backend`'s delegates (see BackendOption): it
  // applies to the methods loaded after it is set; a later one of the same
  // backend and key replaces it.
  void set_backend_option(const std::string& backend, const std::string& key, const std::string& value);

  // Loads a method by name: a new instance (its own arena, bookkeeping and
  // delegate handles) each call; it lives until unload_method or the end of
  // the Session. Safe to call from several threads.
  Error load_method(const std::string& name, LoadedMethod** out);
  // Frees an instance from load_method (delegate handles first); no thread
  // may be using it.
  void unload_method(LoadedMethod* method);

 private:
  struct StoredOption {
    std::string backend, key, value;
  };
  std::vector<StoredOption> options_;
  MappedFile mapping_;
  std::unique_ptr<uint64_t[]> buffer_;
  Program program_;
  std::mutex methods_mutex_;  // guards methods_
  std::vector<std::unique_ptr<LoadedMethod>> methods_;
};

}  // namespace wick
