#include "wick/runtime/backend_registry.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "wick/runtime/event_tracer.h"

namespace wick {
namespace {

constexpr size_t kMaxBackends = 32;

struct Entry {
  WickBackend2 table;          // this host's size; entries the producer lacks are NULL
  const WickBackend* v1;       // the ABI 1 table behind `table`, or null
  const void* original;        // the table as registered (to spot a repeat)
  WickHostServices services;   // `host` points back at this entry
  char source[256];
  char abi[16];
};
Entry g_backends[kMaxBackends];
size_t g_backend_count = 0;

// ---- Host services (one copy per backend, so events and log lines know
// whose they are).

const char* level_name(int32_t level) {
  switch (level) {
    case WICK_LOG_DEBUG: return "DEBUG";
    case WICK_LOG_INFO: return "INFO";
    case WICK_LOG_WARNING: return "WARNING";
    default: return "ERROR";
  }
}

// Hosts without a sink of their own (wick-run) print warnings and errors;
// WICK_LOG_LEVEL=debug|info|warning|error moves the threshold. (Python
// installs its own sink: logging's levels filter there.)
int32_t stderr_threshold() {
  static const int32_t threshold = [] {
    const char* v = std::getenv("WICK_LOG_LEVEL");
    if (v == nullptr) return static_cast<int32_t>(WICK_LOG_WARNING);
    if (std::strcmp(v, "debug") == 0) return static_cast<int32_t>(WICK_LOG_DEBUG);
    if (std::strcmp(v, "info") == 0) return static_cast<int32_t>(WICK_LOG_INFO);
    if (std::strcmp(v, "error") == 0) return static_cast<int32_t>(WICK_LOG_ERROR);
    return static_cast<int32_t>(WICK_LOG_WARNING);
  }();
  return threshold;
}

void stderr_sink(const char* backend, int32_t level, const char* message) {
  if (level < stderr_threshold()) return;
  std::fprintf(stderr, "wick[%s] %s: %s\n", backend, level_name(level), message);
}

BackendLogSink g_log_sink = stderr_sink;

void host_log(void* host, const char* backend, int32_t level, const char* message) {
  const Entry* e = static_cast<const Entry*>(host);
  g_log_sink(backend != nullptr ? backend : (e != nullptr ? e->table.name : "?"), level,
             message != nullptr ? message : "");
}

uint64_t host_event_begin(void* host, const char* name) {
  return trace_begin(name, static_cast<const Entry*>(host)->table.name);
}

void host_event_end(void*, uint64_t token, const WickEventCounter* counters, size_t num_counters) {
  trace_end(token, counters, num_counters);
}

#ifdef WICK_ABI_TEST_NEXT_MINOR
int32_t host_test_next_minor(void*) { return 21; }
#endif

void fill_services(Entry& e) {
  WickHostServices s = {};
  s.header = WICK_STRUCT_HEADER(WickHostServices);
  s.host = &e;
  s.log = host_log;
  s.tracing = &g_tracing;
  s.event_begin = host_event_begin;
  s.event_end = host_event_end;
#ifdef WICK_ABI_TEST_NEXT_MINOR
  s.test_next_minor = host_test_next_minor;
#endif
  e.services = s;
}

// ---- ABI 1 adapter: `self` is the ABI 1 table.

const WickBackend* v1_of(void* self) { return static_cast<const WickBackend*>(self); }

int v1_is_available(void* self, char* reason, size_t size) { return v1_of(self)->is_available(reason, size); }

WickStatus v1_init(void* self, const WickInitArgs* a, void** handle, char* error, size_t size) {
  return v1_of(self)->init(a->blob, a->blob_size, a->specs, a->num_specs, a->allocator, handle, error, size);
}

WickStatus v1_execute(void* self, void* handle, WickTensorArg* args, size_t n, char* error, size_t size) {
  return v1_of(self)->execute(handle, args, n, error, size);
}

void v1_destroy(void* self, void* handle) { v1_of(self)->destroy(handle); }

WickStatus v1_device_info(void* self, WickDeviceInfo* info) {
  info->device = v1_of(self)->info();
  return WICK_STATUS_OK;
}

Error check_name(const char* name, const void* original, const char* source, Registration* result) {
  for (size_t i = 0; i < g_backend_count; ++i) {
    if (std::strcmp(g_backends[i].table.name, name) != 0) continue;
    if (g_backends[i].original == original) {
      if (result) *result = Registration::AlreadyLoaded;
      return fail(Error::InvalidArgument, "backend '%s' from %s is already registered", name, source);
    }
    if (result) *result = Registration::NameClash;
    return fail(Error::InvalidArgument, "backend name '%s' from %s clashes with the one already registered from %s",
                name, source, g_backends[i].source);
  }
  if (g_backend_count == kMaxBackends) {
    if (result) *result = Registration::RegistryFull;
    return fail(Error::OutOfMemory, "backend registry is full (%zu backends); cannot add '%s'", kMaxBackends, name);
  }
  return Error::Ok;
}

Error commit(Entry& e, const char* source, Registration* result) {
  std::snprintf(e.source, sizeof(e.source), "%s", source);
  fill_services(e);
  if (e.table.attach != nullptr) {
    char error[512] = "";
    if (e.table.attach(e.table.self, &e.services, error, sizeof(error)) != WICK_STATUS_OK) {
      if (result) *result = Registration::AttachFailed;
      return fail(Error::BackendFailed, "backend '%s' from %s refused to attach: %s", e.table.name, source,
                  error[0] ? error : "no reason given");
    }
  }
  ++g_backend_count;
  if (result) *result = Registration::Registered;
  return Error::Ok;
}

}  // namespace

const char* registration_name(Registration r) {
  switch (r) {
    case Registration::Registered: return "registered";
    case Registration::AlreadyLoaded: return "already_loaded";
    case Registration::NameClash: return "name_clash";
    case Registration::VersionRefused: return "version_refused";
    case Registration::LoadFailed: return "load_failed";
    case Registration::AttachFailed: return "attach_failed";
    case Registration::RegistryFull: return "registry_full";
  }
  return "unknown";
}

Error register_backend(const WickBackend2* backend, const char* source, Registration* result) {
  if (result) *result = Registration::VersionRefused;
  if (backend == nullptr) return fail(Error::InvalidArgument, "backend from %s is null", source);
  const WickStructHeader& h = backend->header;
  if (h.abi_major != WICK_ABI_MAJOR) {
    return fail(Error::NotSupported,
                "backend from %s was built for Wick backend ABI %u.%u, but this runtime implements ABI %u.%u; "
                "install a build of the plugin for ABI %u",
                source, h.abi_major, h.abi_minor, WICK_ABI_MAJOR, WICK_ABI_MINOR, WICK_ABI_MAJOR);
  }
  // Frozen 2.0 fields end with device_info; a smaller table is malformed.
  const size_t min_size = offsetof(WickBackend2, device_info) + sizeof(backend->device_info);
  if (h.size < min_size) {
    return fail(Error::InvalidArgument, "backend table from %s is %u bytes, smaller than ABI 2.0's %zu", source,
                h.size, min_size);
  }
  if (backend->min_host_minor > WICK_ABI_MINOR) {
    return fail(Error::NotSupported,
                "backend '%s' from %s needs Wick backend ABI %u.%u or newer, but this runtime implements ABI %u.%u; "
                "upgrade wick",
                backend->name ? backend->name : "?", source, WICK_ABI_MAJOR, backend->min_host_minor, WICK_ABI_MAJOR,
                WICK_ABI_MINOR);
  }
  if (backend->name == nullptr || backend->init == nullptr || backend->execute == nullptr) {
    return fail(Error::InvalidArgument, "backend from %s lacks a name, init or execute function", source);
  }
  WICK_TRY(check_name(backend->name, backend, source, result));
  Entry& e = g_backends[g_backend_count];
  e = Entry{};
  // Copy what the producer compiled; entries of later minors stay NULL.
  std::memcpy(&e.table, backend, h.size < sizeof(WickBackend2) ? h.size : sizeof(WickBackend2));
  e.table.header.size = sizeof(WickBackend2);
  e.original = backend;
  std::snprintf(e.abi, sizeof(e.abi), "%u.%u", h.abi_major, h.abi_minor);
  return commit(e, source, result);
}

Error register_backend(const WickBackend* backend, const char* source, Registration* result) {
  if (result) *result = Registration::VersionRefused;
  if (backend == nullptr) return fail(Error::InvalidArgument, "backend from %s is null", source);
  if (backend->abi_version != WICK_BACKEND_ABI_VERSION) {
    return fail(Error::NotSupported,
                "backend from %s exports the ABI 1 entry but says ABI version %u; this runtime implements ABI %u.%u "
                "(and still loads ABI 1)",
                source, backend->abi_version, WICK_ABI_MAJOR, WICK_ABI_MINOR);
  }
  if (backend->name == nullptr || backend->init == nullptr || backend->execute == nullptr) {
    return fail(Error::InvalidArgument, "backend from %s lacks a name, init or execute function", source);
  }
  WICK_TRY(check_name(backend->name, backend, source, result));
  Entry& e = g_backends[g_backend_count];
  e = Entry{};
  WickBackend2& t = e.table;
  t.header = WICK_STRUCT_HEADER(WickBackend2);
  t.name = backend->name;
  t.self = const_cast<WickBackend*>(backend);
  t.is_available = backend->is_available ? v1_is_available : nullptr;
  t.init = v1_init;
  t.execute = v1_execute;
  t.destroy = backend->destroy ? v1_destroy : nullptr;
  t.device_info = backend->info ? v1_device_info : nullptr;
  e.v1 = backend;
  e.original = backend;
  std::snprintf(e.abi, sizeof(e.abi), "1");
  return commit(e, source, result);
}

const WickBackend2* find_backend(const char* name) {
  for (size_t i = 0; i < g_backend_count; ++i) {
    if (std::strcmp(g_backends[i].table.name, name) == 0) return &g_backends[i].table;
  }
  return nullptr;
}

size_t registered_backend_count() { return g_backend_count; }
const WickBackend2* registered_backend(size_t index) { return &g_backends[index].table; }
const char* registered_backend_source(size_t index) { return g_backends[index].source; }
const char* registered_backend_abi(size_t index) { return g_backends[index].abi; }

const char* registered_source_of(const char* name) {
  for (size_t i = 0; i < g_backend_count; ++i) {
    if (std::strcmp(g_backends[i].table.name, name) == 0) return g_backends[i].source;
  }
  return nullptr;
}

void describe_backend(size_t index, char* out, size_t out_size) {
  if (out_size == 0) return;
  out[0] = '\0';
  const WickBackend2& t = g_backends[index].table;
  if (t.device_info == nullptr) return;
  WickDeviceInfo info = {};
  info.header = WICK_STRUCT_HEADER(WickDeviceInfo);
  if (t.device_info(t.self, &info) != WICK_STATUS_OK) return;
  size_t n = 0;
  auto append = [&](const char* label, const char* text) {
    if (text == nullptr || text[0] == '\0' || n >= out_size) return;
    int w = std::snprintf(out + n, out_size - n, "%s%s%s", n ? "; " : "", label, text);
    if (w > 0) n += static_cast<size_t>(w);
  };
  append("", info.device);
  append("driver ", info.driver_version);
  append("backend ", info.backend_version);
}

void set_backend_log_sink(BackendLogSink sink) { g_log_sink = sink != nullptr ? sink : stderr_sink; }

}  // namespace wick
