// The plugin's own thread pool behind the pthreadpool API (thread_pool.cpp).
#pragma once

#include <cstddef>

#include <pthreadpool.h>

constexpr size_t kWickXnnpackMaxPoolThreads = 256;

// A pool of `threads` threads, the caller counted (threads - 1 are started);
// nullptr when a thread cannot be started or the count is out of range.
// Separate names from pthreadpool_create/destroy so that this module's calls
// never bind to another library's pool.
pthreadpool_t wick_xnnpack_pool_create(size_t threads);
void wick_xnnpack_pool_destroy(pthreadpool_t pool);
