/* The frozen layout of backend ABI 2.0 (and the ABI 1 structs it keeps), on
 * LP64 targets. Compiled by tests/test_backend_abi.py as C99, plain and with
 * WICK_ABI_TEST_NEXT_MINOR: a next minor may only append, so every offset
 * below must hold in both builds. Changing one of them breaks every vendor
 * binary: do not; append a field instead (docs/writing-a-backend.md). */
#include <stddef.h>

#include "wick/backend.h"

#define FROZEN(type, field, offset) \
  _Static_assert(offsetof(type, field) == (offset), #type "." #field " moved: ABI 2.0 is frozen")
#define FROZEN_SIZE(type, size) _Static_assert(sizeof(type) == (size), "sizeof " #type " changed")

_Static_assert(sizeof(void*) == 8, "these offsets are the LP64 layout");

FROZEN(WickStructHeader, size, 0);
FROZEN(WickStructHeader, abi_major, 4);
FROZEN(WickStructHeader, abi_minor, 6);
FROZEN_SIZE(WickStructHeader, 8);

FROZEN(WickTensorArg, data, 0);
FROZEN(WickTensorArg, dtype, 8);
FROZEN(WickTensorArg, dim, 12);
FROZEN(WickTensorArg, sizes, 16);
FROZEN(WickTensorArg, capacity, 24);
FROZEN_SIZE(WickTensorArg, 32);

FROZEN(WickCompileSpec, key, 0);
FROZEN(WickCompileSpec, value, 8);
FROZEN(WickCompileSpec, value_size, 16);
FROZEN_SIZE(WickCompileSpec, 24);

FROZEN(WickHostAllocator, context, 0);
FROZEN(WickHostAllocator, allocate, 8);
FROZEN_SIZE(WickHostAllocator, 16);

FROZEN(WickEventCounter, name, 0);
FROZEN(WickEventCounter, value, 8);

FROZEN(WickHostServices, header, 0);
FROZEN(WickHostServices, host, 8);
FROZEN(WickHostServices, log, 16);
FROZEN(WickHostServices, tracing, 24);
FROZEN(WickHostServices, event_begin, 32);
FROZEN(WickHostServices, event_end, 40);

FROZEN(WickNamedData, context, 0);
FROZEN(WickNamedData, get, 8);

FROZEN(WickInitArgs, header, 0);
FROZEN(WickInitArgs, blob, 8);
FROZEN(WickInitArgs, blob_size, 16);
FROZEN(WickInitArgs, specs, 24);
FROZEN(WickInitArgs, num_specs, 32);
FROZEN(WickInitArgs, allocator, 40);
FROZEN(WickInitArgs, named_data, 48);
FROZEN(WickInitArgs, method_name, 56);
FROZEN(WickInitArgs, delegate_index, 64);

FROZEN(WickDeviceInfo, header, 0);
FROZEN(WickDeviceInfo, device, 8);
FROZEN(WickDeviceInfo, driver_version, 16);
FROZEN(WickDeviceInfo, backend_version, 24);
FROZEN(WickDeviceInfo, memory_bytes, 32);

FROZEN(WickBackend2, header, 0);
FROZEN(WickBackend2, min_host_minor, 8);
FROZEN(WickBackend2, name, 16);
FROZEN(WickBackend2, self, 24);
FROZEN(WickBackend2, attach, 32);
FROZEN(WickBackend2, is_available, 40);
FROZEN(WickBackend2, validate_blob, 48);
FROZEN(WickBackend2, init, 56);
FROZEN(WickBackend2, execute, 64);
FROZEN(WickBackend2, destroy, 72);
FROZEN(WickBackend2, device_info, 80);

#ifdef WICK_ABI_TEST_NEXT_MINOR
/* 2.1 appends, and only appends. */
FROZEN(WickHostServices, test_next_minor, 48);
FROZEN_SIZE(WickHostServices, 56);
FROZEN(WickBackend2, test_next_minor, 88);
FROZEN_SIZE(WickBackend2, 96);
#else
FROZEN_SIZE(WickHostServices, 48);
FROZEN_SIZE(WickBackend2, 88);
#endif
FROZEN_SIZE(WickInitArgs, 72);
FROZEN_SIZE(WickDeviceInfo, 40);

/* ABI 1, frozen since its release: an ABI 1 binary is read through this. */
FROZEN(WickBackend, abi_version, 0);
FROZEN(WickBackend, name, 8);
FROZEN(WickBackend, is_available, 16);
FROZEN(WickBackend, init, 24);
FROZEN(WickBackend, execute, 32);
FROZEN(WickBackend, destroy, 40);
FROZEN(WickBackend, info, 48);
FROZEN_SIZE(WickBackend, 56);
_Static_assert(WICK_BACKEND_ABI_VERSION == 1, "the ABI 1 table says version 1");
