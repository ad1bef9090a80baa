#include "session.h"

#include <cstring>
#include <new>

namespace wick {
namespace {
constexpr size_t kFirstBlockBytes = 64 * 1024;
}  // namespace

Session::~Session() {
  methods_.clear();  // methods destroy delegate handles before the bytes go
  pal_unmap_file(&mapping_);
}

Error Session::open_file(const std::string& path, const ProgramLoadOptions& options) {
  WICK_TRY(pal_map_file(path.c_str(), &mapping_));
  return Program::load(mapping_.data, mapping_.size, &program_, options);
}

Error Session::open_buffer(const void* data, size_t size, const ProgramLoadOptions& options) {
  buffer_.reset(new (std::nothrow) uint64_t[(size + 7) / 8 + 1]);
  if (!buffer_) return fail(Error::OutOfMemory, "cannot allocate %zu bytes for the program", size);
  std::memcpy(buffer_.get(), data, size);
  return Program::load(buffer_.get(), size, &program_, options);
}

std::vector<std::string> Session::delegate_backends() const {
  std::vector<const char*> names(program_.delegate_backends(nullptr, 0));
  names.resize(program_.delegate_backends(names.data(), names.size()));
  return std::vector<std::string>(names.begin(), names.end());
}

void Session::set_backend_option(const std::string& backend, const std::string& key, const std::string& value) {
  for (StoredOption& o : options_) {
    if (o.backend == backend && o.key == key) {
      o.value = value;
      return;
    }
  }
  options_.push_back({backend, key, value});
}

Error Session::load_method(const std::string& name, LoadedMethod** out) {
  std::vector<BackendOption> options;
  for (const StoredOption& o : options_) {
    options.push_back({o.backend.c_str(), o.key.c_str(), reinterpret_cast<const uint8_t*>(o.value.data()),
                       o.value.size()});
  }
  size_t index = 0;
  WICK_TRY(program_.find_method(name.c_str(), &index));
  size_t arena = 0;
  WICK_TRY(Method::arena_bytes(program_, index, &arena));
  auto loaded = std::make_unique<LoadedMethod>();
  loaded->arena_size_ = arena;
  // nothrow: the sizes come from the file, and a corrupt or hostile file
  // must end in an error code, not an exception.
  loaded->arena_.reset(new (std::nothrow) uint8_t[arena + 64]);
  if (!loaded->arena_) {
    return fail(Error::OutOfMemory, "method '%s' needs a %zu-byte arena, which could not be allocated", name.c_str(),
                arena);
  }
  uint8_t* arena_ptr = loaded->arena_.get();
  arena_ptr += (64 - reinterpret_cast<uintptr_t>(arena_ptr) % 64) % 64;
  // Bookkeeping (and what backends take in init) comes in heap blocks handed
  // out as the load asks: one load, each backend's init run once.
  void* first = LoadedMethod::add_block(loaded.get(), kFirstBlockBytes, &loaded->runtime_bytes_);
  if (first == nullptr) return fail(Error::OutOfMemory, "cannot allocate %zu bytes of bookkeeping", kFirstBlockBytes);
  MemoryAllocator allocator(first, kFirstBlockBytes);
  allocator.set_refill(
      [](void* context, size_t min_bytes, size_t* got) -> void* {
        return LoadedMethod::add_block(static_cast<LoadedMethod*>(context), min_bytes, got);
      },
      loaded.get());
  WICK_TRY(loaded->method_.load(program_, index, allocator, arena_ptr, arena, options.data(), options.size()));
  loaded->runtime_bytes_ = allocator.used();
  *out = loaded.get();
  std::lock_guard<std::mutex> lock(methods_mutex_);
  methods_.push_back(std::move(loaded));
  return Error::Ok;
}

void* LoadedMethod::add_block(LoadedMethod* method, size_t bytes, size_t* got) {
  std::unique_ptr<uint8_t[]> block(new (std::nothrow) uint8_t[bytes]);
  if (!block) return nullptr;
  *got = bytes;
  method->runtime_memory_.push_back(std::move(block));
  return method->runtime_memory_.back().get();
}

void Session::unload_method(LoadedMethod* method) {
  std::unique_ptr<LoadedMethod> owned;  // destroyed after the lock is released
  std::lock_guard<std::mutex> lock(methods_mutex_);
  for (auto& m : methods_) {
    if (m.get() != method) continue;
    owned = std::move(m);
    m = std::move(methods_.back());
    methods_.pop_back();
    break;
  }
}

}  // namespace wick
