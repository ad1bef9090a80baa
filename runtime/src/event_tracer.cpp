#include "wick/runtime/event_tracer.h"

#include <atomic>
#include <chrono>

namespace wick {

volatile int32_t g_tracing = 0;

namespace {
TraceEvent* g_events = nullptr;
size_t g_capacity = 0;
std::atomic<size_t> g_next{0};
// Nesting per thread, reset by each start_tracing (a failed call that never
// ended its event must not shift every later trace).
std::atomic<uint32_t> g_generation{0};
struct Depth {
  uint32_t generation = 0;
  int32_t depth = 0;
};
thread_local Depth t_depth;

int32_t& depth() {
  const uint32_t generation = g_generation.load(std::memory_order_relaxed);
  if (t_depth.generation != generation) t_depth = Depth{generation, 0};
  return t_depth.depth;
}
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
  g_generation.fetch_add(1);
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
  const int32_t level = depth()++;
  if (slot >= g_capacity) return kDropped;  // counted by stop_tracing; still nests
  TraceEvent& e = g_events[slot];
  e.name = name != nullptr ? name : "";
  e.category = category != nullptr ? category : "";
  e.depth = level;
  e.num_counters = 0;
  e.end_ns = 0;
  e.begin_ns = now_ns();
  return static_cast<uint64_t>(slot) + 1;
}

void trace_end(uint64_t token, const WickEventCounter* counters, size_t num_counters) {
  if (token == 0) return;
  int32_t& level = depth();
  if (level > 0) --level;
  if (token == kDropped) return;
  TraceEvent& e = g_events[token - 1];
  e.end_ns = now_ns();
  size_t n = num_counters < kMaxEventCounters ? num_counters : kMaxEventCounters;
  for (size_t i = 0; i < n; ++i) e.counters[i] = counters[i];
  e.num_counters = static_cast<uint32_t>(n);
}

}  // namespace wick
