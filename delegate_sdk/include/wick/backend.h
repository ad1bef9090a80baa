/*
 * Wick backend C ABI, version 2 — the contract between the Wick runtime and a
 * backend's runtime half. C99 (and C++), plain structs of data and function
 * pointers, so a vendor binary built with another compiler keeps loading
 * across Wick releases.
 *
 * Versioning (docs/writing-a-backend.md, "Versioning and stability"):
 *  - The ABI has a major and a minor version (WICK_ABI_MAJOR/MINOR). A host
 *    refuses a backend of another major.
 *  - Every struct that crosses the boundary starts with a WickStructHeader:
 *    its size as compiled and the (major, minor) of the header it was built
 *    from. Whoever reads a struct reads a field only when the struct's size
 *    covers it, so a struct from an older minor (smaller) or a newer one
 *    (larger) is read safely.
 *  - Structs are append-only: the fields of minor N are frozen once N is
 *    released (their offsets are asserted by tests/cpp/abi_layout); minor N+1
 *    only appends. Every function pointer added after 2.0 is optional: NULL
 *    (or absent, by size) means "not provided".
 *  - A backend states the oldest host minor it needs (min_host_minor); a host
 *    of an older minor refuses it, naming both versions.
 *
 * Lifecycle: attach() once when the backend is registered (it receives the
 * host services); is_available() at registration and before init;
 * validate_blob() then init() once per delegate call site when a method is
 * loaded; execute() on every run (must not allocate, must not keep pointers to
 * the arguments after returning); destroy() when the method is released.
 * Every function receives the table's `self` pointer first, so one library
 * can serve several backends with one set of functions.
 * Threading: one handle is never used by two threads at once; distinct
 * handles may be used concurrently.
 *
 * Backends built against ABI 1 (the struct WickBackend at the end of this
 * file, exported as wick_backend_entry) still load; new backends export
 * wick_backend_entry2 returning a WickBackend2.
 */
#ifndef WICK_BACKEND_H_
#define WICK_BACKEND_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WICK_ABI_MAJOR 2
/* WICK_ABI_TEST_NEXT_MINOR exists only for Wick's own compatibility tests: it
 * simulates the next minor release (one more entry at the end of the host
 * services and of the backend table). Never define it in a real build. */
#ifdef WICK_ABI_TEST_NEXT_MINOR
#define WICK_ABI_MINOR 1
#else
#define WICK_ABI_MINOR 0
#endif

/* The symbol an ABI 2 backend library exports: returns its table. */
#define WICK_BACKEND_ENTRY2_SYMBOL "wick_backend_entry2"

/* Reserved compile-spec key: the compatibility string the AOT half wrote for
 * a blob (PreprocessResult.compatibility). The host hands it to
 * validate_blob() and never passes reserved ("wick.") keys to init(). */
#define WICK_SPEC_COMPATIBILITY "wick.compatibility"

typedef enum WickStatus {
  WICK_STATUS_OK = 0,
  WICK_STATUS_ERROR = 1,
  WICK_STATUS_UNSUPPORTED = 2,
  WICK_STATUS_OUT_OF_MEMORY = 3,
  WICK_STATUS_INVALID_ARGUMENT = 4,
  /* validate_blob(): the blob was made for another backend version, vendor
   * library or target. */
  WICK_STATUS_INCOMPATIBLE_BLOB = 5
} WickStatus;

/* Element types; numbering matches the program file's ScalarType. */
typedef enum WickDType {
  WICK_DTYPE_FLOAT32 = 0,
  WICK_DTYPE_FLOAT64 = 1,
  WICK_DTYPE_FLOAT16 = 2,
  WICK_DTYPE_BFLOAT16 = 3,
  WICK_DTYPE_INT8 = 4,
  WICK_DTYPE_INT16 = 5,
  WICK_DTYPE_INT32 = 6,
  WICK_DTYPE_INT64 = 7,
  WICK_DTYPE_UINT8 = 8,
  WICK_DTYPE_BOOL = 9,
  /* Interleaved (real, imag) pairs; a backend receives them only if its own
   * partitioner claimed a node with complex tensors. */
  WICK_DTYPE_COMPLEX64 = 10,
  WICK_DTYPE_COMPLEX128 = 11
} WickDType;

/* A tensor argument: contiguous, borrowed for the duration of one call.
 * An output's sizes are writable so a backend can report a dynamic shape
 * (within the planned upper bound, `capacity` bytes). Frozen since ABI 1. */
typedef struct WickTensorArg {
  void* data;
  int32_t dtype; /* WickDType */
  int32_t dim;
  int64_t* sizes;
  size_t capacity;
} WickTensorArg;

/* Frozen since ABI 1. */
typedef struct WickCompileSpec {
  const char* key;
  const uint8_t* value;
  size_t value_size;
} WickCompileSpec;

/* Memory a backend may take at init time (never while executing); released
 * with the method, so destroy() need not free it. Frozen since ABI 1. */
typedef struct WickHostAllocator {
  void* context;
  void* (*allocate)(void* context, size_t bytes, size_t alignment);
} WickHostAllocator;

/* First member of every versioned struct. */
typedef struct WickStructHeader {
  uint32_t size;      /* sizeof the struct as its producer compiled it */
  uint16_t abi_major; /* WICK_ABI_MAJOR of the producer's header */
  uint16_t abi_minor; /* WICK_ABI_MINOR of the producer's header */
} WickStructHeader;

/* Fills a header for `type` as this header defines it. */
#define WICK_STRUCT_HEADER(type) {(uint32_t)sizeof(type), WICK_ABI_MAJOR, WICK_ABI_MINOR}

/* True when the struct `s` points to (starting with a WickStructHeader) is
 * large enough to hold `field` of `type`: the guard for every field added
 * after 2.0. */
#define WICK_HAS_FIELD(s, type, field) \
  ((s)->header.size >= offsetof(type, field) + sizeof(((type*)0)->field))

typedef enum WickLogLevel {
  WICK_LOG_DEBUG = 0,
  WICK_LOG_INFO = 1,
  WICK_LOG_WARNING = 2,
  WICK_LOG_ERROR = 3
} WickLogLevel;

/* A named number attached to the end of a traced event (bytes moved,
 * operators run, cycles). */
typedef struct WickEventCounter {
  const char* name;
  int64_t value;
} WickEventCounter;

/* What the host offers a backend. Handed to attach() at registration; valid
 * for the life of the process. Every function takes `host` first. */
typedef struct WickHostServices {
  WickStructHeader header;
  void* host;
  /* Log one line, attributed to `backend` (routed to Python's logging module
   * under "wick.backend.<name>", or to wick-run's stderr). Any thread. */
  void (*log)(void* host, const char* backend, int32_t level, const char* message);
  /* Profiling. `*tracing` is nonzero while a profiler listens: test it before
   * building counters; begin/end are cheap no-ops when it is zero, so calls
   * may stay compiled in. event_begin returns a token for event_end (0 when
   * not tracing). `name` must stay valid until event_end (a literal). May be
   * called while executing: neither allocates. */
  const volatile int32_t* tracing;
  uint64_t (*event_begin)(void* host, const char* name);
  void (*event_end)(void* host, uint64_t token, const WickEventCounter* counters, size_t num_counters);
#ifdef WICK_ABI_TEST_NEXT_MINOR
  /* Test-only 2.1 entry: returns 21. */
  int32_t (*test_next_minor)(void* host);
#endif
} WickHostServices;

/* Named data of the program: bytes stored once in the program file and
 * shared between delegates (large weights outside the blob). */
typedef struct WickNamedData {
  void* context;
  /* Returns the bytes named `name` (valid until destroy()) and their size, or
   * NULL when the program has no such data. */
  const uint8_t* (*get)(void* context, const char* name, size_t* size);
} WickNamedData;

/* Everything init() receives, grown by appending. */
typedef struct WickInitArgs {
  WickStructHeader header;
  const uint8_t* blob; /* valid until destroy() */
  size_t blob_size;
  /* The program's compile specs (reserved "wick." keys removed) with the
   * application's load-time options for this backend in place of those of
   * the same key; valid during init() only: copy what you keep. */
  const WickCompileSpec* specs;
  size_t num_specs;
  const WickHostAllocator* allocator;
  const WickNamedData* named_data;
  const char* method_name;  /* for messages */
  uint32_t delegate_index;  /* of this call site in its method */
} WickInitArgs;

/* What a backend says about the device it runs on (device_info()). The host
 * fills the header and zeroes the rest; a backend sets what it knows and must
 * not write past header.size. Strings are the backend's (static or owned by
 * `self`). */
typedef struct WickDeviceInfo {
  WickStructHeader header;
  const char* device;          /* "Intel(R) UHD 620", "Ethos-U55-128", "host CPU" */
  const char* driver_version;  /* driver or vendor library version */
  const char* backend_version; /* the plugin's own version */
  uint64_t memory_bytes;       /* device memory, 0 when unknown or shared */
} WickDeviceInfo;

typedef struct WickBackend2 {
  WickStructHeader header; /* WICK_STRUCT_HEADER(WickBackend2) */
  /* The oldest host minor (of this major) the backend needs, e.g. 1 when it
   * calls a host service added in 2.1. Hosts of an older minor refuse it. */
  uint16_t min_host_minor;
  uint16_t reserved0;
  /* Registry name, e.g. "vulkan"; must match the name in program files. */
  const char* name;
  /* Passed first to every function below. */
  void* self;
  /* Optional: receives the host services once, at registration. A non-OK
   * status refuses the registration with `error`. */
  WickStatus (*attach)(void* self, const WickHostServices* host, char* error, size_t error_size);
  /* Optional (NULL = always available): nonzero when usable here; otherwise
   * writes the reason. */
  int (*is_available)(void* self, char* reason, size_t reason_size);
  /* Optional: checks, before init(), that `compatibility` (the string the
   * AOT half wrote for this blob: backend version, vendor library version,
   * target; "" when it wrote none) matches this build and device. Returns
   * WICK_STATUS_INCOMPATIBLE_BLOB with a sentence naming both sides. */
  WickStatus (*validate_blob)(void* self, const uint8_t* blob, size_t blob_size, const char* compatibility,
                              char* error, size_t error_size);
  /* Builds a handle for one delegate call site. On failure writes a message
   * into `error` and returns non-OK. */
  WickStatus (*init)(void* self, const WickInitArgs* args, void** handle, char* error, size_t error_size);
  /* Runs the delegate: inputs then outputs, in the order of the call site. */
  WickStatus (*execute)(void* self, void* handle, WickTensorArg* args, size_t num_args, char* error,
                        size_t error_size);
  /* Optional: releases what init() made besides host-allocator memory. */
  void (*destroy)(void* self, void* handle);
  /* Optional: fills `info` (see WickDeviceInfo). */
  WickStatus (*device_info)(void* self, WickDeviceInfo* info);
#ifdef WICK_ABI_TEST_NEXT_MINOR
  /* Test-only 2.1 entry (optional like every post-2.0 entry). */
  int32_t (*test_next_minor)(void* self);
#endif
} WickBackend2;

typedef const WickBackend2* (*WickBackendEntry2Fn)(void);

/* Convenience for backends: a log line and traced events through the host
 * services (safe with a NULL host, before attach()). */
static inline void wick_log(const WickHostServices* host, const char* backend, int32_t level, const char* message) {
  if (host != NULL && host->log != NULL) host->log(host->host, backend, level, message);
}
static inline uint64_t wick_event_begin(const WickHostServices* host, const char* name) {
  return (host != NULL && host->tracing != NULL && *host->tracing) ? host->event_begin(host->host, name) : 0;
}
static inline void wick_event_end(const WickHostServices* host, uint64_t token, const WickEventCounter* counters,
                                  size_t num_counters) {
  if (token != 0) host->event_end(host->host, token, counters, num_counters);
}

/* ---- ABI 1 (legacy; frozen). Kept so backends written for it still compile
 * and their binaries still load: the host accepts a table exported as
 * wick_backend_entry with abi_version 1 and calls it as before. New backends
 * use WickBackend2. */

#define WICK_BACKEND_ABI_VERSION 1
#define WICK_BACKEND_ENTRY_SYMBOL "wick_backend_entry"

typedef struct WickBackend {
  uint32_t abi_version; /* 1 */
  const char* name;
  int (*is_available)(char* reason, size_t reason_size);
  WickStatus (*init)(const uint8_t* blob, size_t blob_size, const WickCompileSpec* specs, size_t num_specs,
                     const WickHostAllocator* allocator, void** handle, char* error, size_t error_size);
  WickStatus (*execute)(void* handle, WickTensorArg* args, size_t num_args, char* error, size_t error_size);
  void (*destroy)(void* handle);
  const char* (*info)(void);
} WickBackend;

typedef const WickBackend* (*WickBackendEntryFn)(void);

#ifdef __cplusplus
}
#endif

#endif /* WICK_BACKEND_H_ */
