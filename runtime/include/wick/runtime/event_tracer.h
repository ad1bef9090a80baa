// The runtime's event tracer: begin/end of named events (one per executed
// instruction, plus whatever delegates emit through the host services), into
// caller memory. Off by default; when off, every call is one load and a
// branch. Recording never allocates, so it may stay on while executing.
#pragma once

#include <cstddef>
#include <cstdint>

#include "wick/backend.h"

namespace wick {

constexpr size_t kMaxEventCounters = 4;

struct TraceEvent {
  const char* name;      // operator, backend or event name (static storage)
  const char* category;  // "method", "kernel", "delegate", or the emitting backend's name
  uint64_t begin_ns;
  uint64_t end_ns;       // 0 while open
  int32_t depth;         // nesting on the emitting thread: 0 = outermost
  uint32_t num_counters;
  WickEventCounter counters[kMaxEventCounters];
};

// Records into `events` (borrowed until stop_tracing) up to `capacity` events.
void start_tracing(TraceEvent* events, size_t capacity);
// Stops recording; returns how many events were recorded and (optionally)
// how many did not fit.
size_t stop_tracing(size_t* dropped = nullptr);

// Nonzero while tracing; its address is what backends test (host services).
extern volatile int32_t g_tracing;
inline bool tracing() { return g_tracing != 0; }

// Token 0: tracing was off (end ignores it). Pass every other token to
// trace_end, even one whose event did not fit the buffer.
uint64_t trace_begin(const char* name, const char* category);
void trace_end(uint64_t token, const WickEventCounter* counters = nullptr, size_t num_counters = 0);

}  // namespace wick
