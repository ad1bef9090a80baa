/*
 * Wick backend C ABI, version 1.
 *
 * The runtime half of a backend plugin is a table of plain C functions. C,
 * not C++ classes, so that a vendor binary built with another compiler keeps
 * working across Wick runtime releases. This header compiles as C99 and C++.
 *
 * Lifecycle: the runtime calls is_available() once when the backend is
 * registered; init() once per delegate call site when a method is loaded;
 * execute() on every run (must not allocate, must not keep pointers to the
 * arguments after returning); destroy() when the method is released.
 * Threading: one handle is never used by two threads at once; distinct
 * handles may be used concurrently.
 */
#ifndef WICK_BACKEND_H_
#define WICK_BACKEND_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped on any incompatible change to the structs below. */
#define WICK_BACKEND_ABI_VERSION 1

/* The symbol a backend shared library exports: returns its table. */
#define WICK_BACKEND_ENTRY_SYMBOL "wick_backend_entry"

typedef enum WickStatus {
  WICK_STATUS_OK = 0,
  WICK_STATUS_ERROR = 1,
  WICK_STATUS_UNSUPPORTED = 2,
  WICK_STATUS_OUT_OF_MEMORY = 3,
  WICK_STATUS_INVALID_ARGUMENT = 4
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
  /* Interleaved (real, imag) pairs. Appended without an ABI version change:
   * a backend receives them only if its own partitioner claimed a node with
   * complex tensors, which no backend written before them does. */
  WICK_DTYPE_COMPLEX64 = 10,
  WICK_DTYPE_COMPLEX128 = 11
} WickDType;

/* A tensor argument: contiguous, borrowed for the duration of one call.
 * An output's sizes are writable so a backend can report a dynamic shape
 * (within the planned upper bound, `capacity` bytes). */
typedef struct WickTensorArg {
  void* data;
  int32_t dtype; /* WickDType */
  int32_t dim;
  int64_t* sizes;
  size_t capacity;
} WickTensorArg;

typedef struct WickCompileSpec {
  const char* key;
  const uint8_t* value;
  size_t value_size;
} WickCompileSpec;

/* Host services a backend may use at init time (never while executing). */
typedef struct WickHostAllocator {
  void* context;
  void* (*allocate)(void* context, size_t bytes, size_t alignment);
} WickHostAllocator;

typedef struct WickBackend {
  /* Must be WICK_BACKEND_ABI_VERSION as the backend was compiled. */
  uint32_t abi_version;
  /* Registry name, e.g. "xnnpack"; must match the name in program files. */
  const char* name;
  /* Returns nonzero when usable here; otherwise writes the reason. */
  int (*is_available)(char* reason, size_t reason_size);
  /* Builds a handle from the blob. `blob` stays valid until destroy();
   * `specs` (the program's compile specs, with the application's load-time
   * options for this backend in place of those of the same key) only during
   * init(): copy what you keep. On failure writes a message into `error` and
   * returns non-OK. */
  WickStatus (*init)(const uint8_t* blob, size_t blob_size, const WickCompileSpec* specs, size_t num_specs,
                     const WickHostAllocator* allocator, void** handle, char* error, size_t error_size);
  /* Runs the delegate: inputs then outputs, in the order of the call site. */
  WickStatus (*execute)(void* handle, WickTensorArg* args, size_t num_args, char* error, size_t error_size);
  void (*destroy)(void* handle);
  /* Optional: a one-line description (device, driver); may be null. */
  const char* (*info)(void);
} WickBackend;

typedef const WickBackend* (*WickBackendEntryFn)(void);

#ifdef __cplusplus
}
#endif

#endif /* WICK_BACKEND_H_ */
