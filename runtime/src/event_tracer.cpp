#include "wick/runtime/event_tracer.h"

#include <atomic>
#include <chrono>

namespace wick {

volatile int32_t g_tracing = 0;

namespace {
TraceEvent* g_events = nullptr;
size_t g_capacity = 0;
std::atomic<size_t> g_next{0};
thread_local int32_t t_depth = 0;
// Token of an event that did not fit: it still nests, but is not recorded.
constexpr uint64_t kDropped = ~static_cast<uint64_t>(0);

uint64_t now_ns() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}
}  // namespace

void start_tracing(TraceEvent* events, size_t capacity) {
  g_tracing = 0;
  g_events = events;
  g_capacity = capacity;
  g_next.store(0);
  g_tracing = events != nullptr && capacity > 0 ? 1 : 0;
}

size_t stop_tracing(size_t* dropped) {
  g_tracing = 0;
  size_t reserved = g_next.load();
  if (dropped != nullptr) *dropped = reserved > g_capacity ? reserved - g_capacity : 0;
  return reserved < g_capacity ? reserved : g_capacity;
}

uint64_t trace_begin(const char* name, const char* category) {
  if (!g_tracing) return 0;
  size_t slot = g_next.fetch_add(1);
  int32_t depth = t_depth++;
  if (slot >= g_capacity) return kDropped;  // counted by stop_tracing; still nests
  TraceEvent& e = g_events[slot];
  e.name = name != nullptr ? name : "";
  e.category = category != nullptr ? category : "";
  e.depth = depth;
  e.num_counters = 0;
  e.end_ns = 0;
  e.begin_ns = now_ns();
  return static_cast<uint64_t>(slot) + 1;
}

void trace_end(uint64_t token, const WickEventCounter* counters, size_t num_counters) {
  if (token == 0) return;
  if (t_depth > 0) --t_depth;
  if (token == kDropped) return;
  TraceEvent& e = g_events[token - 1];
  e.end_ns = now_ns();
  size_t n = num_counters < kMaxEventCounters ? num_counters : kMaxEventCounters;
  for (size_t i = 0; i < n; ++i) e.counters[i] = counters[i];
  e.num_counters = static_cast<uint32_t>(n);
}

}  // namespace wick
