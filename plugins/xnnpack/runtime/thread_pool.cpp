// The plugin's own pthreadpool: the entry points libXNNPACK imports
// (pthreadpool_get_threads_count and the twelve pthreadpool_parallelize_*),
// defined here so that XNNPACK's calls bind to this pool instead of Debian's
// libpthreadpool (libXNNPACK is loaded as a dependency of this module, in its
// local scope, so this module's exports come first).
//
// Why not Debian's pool (2021-05): it ends every parallel call with a barrier
// that waits until *every* worker has checked in, also workers that never got
// a CPU and did no work. On a busy 2-core machine that costs a scheduler time
// slice per operator (mobilenet_v2 ran 100 ms at 2 threads instead of ~10).
// Here the caller waits only for items that were claimed: work is handed out
// in short runs of items (tiles) through an atomic cursor, the caller claims items
// too, and a worker that wakes late finds nothing left and goes back to sleep.
//
// The cursor packs (job generation << 32 | next item). A worker claims item i
// of generation g with a compare-exchange on the whole word, so a worker that
// read a job and was then descheduled can never claim an item of a later job.
// A job's fields are rewritten only after all its items are done, and a
// claimed item is not done, so fields read after a successful claim belong to
// that claim's job.
//
// The pool also leaves the floating-point environment alone: XNNPACK asks for
// PTHREADPOOL_FLAG_DISABLE_DENORMALS (flush subnormals to zero), which would
// make results differ from PyTorch's; the flag is ignored on purpose.
//
// Nothing is allocated while executing: threads are created in
// wick_xnnpack_pool_create, and a parallel call only writes the job slot.
#include "thread_pool.h"

#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <new>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define WICK_CPU_RELAX() _mm_pause()
#else
#define WICK_CPU_RELAX() ((void)0)
#endif

namespace {

constexpr int kMaxDims = 6;
constexpr uint64_t kItemMask = 0xffffffffull;
// A worker spins this many pauses (about 50 us here) after its last job before
// it sleeps: operators of one model follow each other within microseconds, and
// waking a sleeping thread costs more than that. Not longer: a spinning worker
// holds a CPU the caller may need. Next to one busy process on 2 cores, a
// 0.5 ms spin left the caller preempted and mobilenet_v2 at 2 threads took
// 14 ms (ExecuTorch 9 ms); with 50 us it takes 8.3 ms (ExecuTorch 8.1 ms).
constexpr int kWorkerSpins = 2000;
// The caller spins this many pauses waiting for the workers' last items, then
// sleeps until the thread that finishes the job wakes it, leaving its CPU idle
// so that the scheduler can run a preempted worker there.
constexpr int kCallerSpins = 2000;

constexpr uint64_t kClaimsPerThread = 8;

// A parallel call: up to six dimensions, each cut into tiles; item = one tile
// tuple, numbered row-major. Unused leading dimensions have range 1.
struct Job {
  size_t range[kMaxDims];
  size_t tile[kMaxDims];
  size_t tiles[kMaxDims];  // ceil(range / tile)
  void (*invoke)(const Job&, const size_t* start, const size_t* size);
  void* task;
  void* context;
};

long futex(std::atomic<uint32_t>* word, int op, uint32_t value) {
  return syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), op, value, nullptr, nullptr, 0);
}

}  // namespace

struct pthreadpool {
  size_t threads = 0;  // including the caller
  pthread_t workers[kWickXnnpackMaxPoolThreads] = {};
  size_t started = 0;
  std::mutex call_mutex;  // one parallel call at a time, as pthreadpool promises
  // One cache line each for what the caller writes per job, what every
  // claim writes, what every finished item writes, and what idle workers
  // poll: on one line, spinning workers and claims would keep stealing it
  // from each other.
  alignas(64) Job job = {};
  std::atomic<uint64_t> count{0};  // items of the current job
  std::atomic<uint64_t> chunk{1};  // items per claim
  alignas(64) std::atomic<uint64_t> cursor{0};
  alignas(64) std::atomic<uint64_t> done{0};
  std::atomic<uint32_t> finished{0};       // futex word: 1 once every item of the job is done
  std::atomic<bool> caller_sleeping{false};
  alignas(64) std::atomic<uint32_t> epoch{0};  // futex word: bumped for every job and at shutdown
  std::atomic<int> sleepers{0};
  std::atomic<bool> stopping{false};
};

namespace {

// Runs items [first, end) of `job`. The first item's tile indices are decoded
// with divisions once; then they advance like an odometer, recomputing only the
// tiles that moved: XNNPACK hands out thousands of small items per operator,
// and decoding every item (six 64-bit divisions) cost ~2% of mobilenet_v2 at
// one thread.
void run_items(const Job& job, uint64_t first, uint64_t end) {
  size_t index[kMaxDims], start[kMaxDims], size[kMaxDims];
  auto place = [&](int d) {
    start[d] = index[d] * job.tile[d];
    const size_t left = job.range[d] - start[d];
    size[d] = left < job.tile[d] ? left : job.tile[d];
  };
  uint64_t rest = first;
  for (int d = kMaxDims - 1; d >= 0; --d) {
    index[d] = static_cast<size_t>(rest % job.tiles[d]);
    rest /= job.tiles[d];
    place(d);
  }
  for (uint64_t item = first;;) {
    job.invoke(job, start, size);
    if (++item == end) return;
    // item < count, so the carry stops before dimension 0 overflows.
    int d = kMaxDims - 1;
    while (++index[d] == job.tiles[d]) {
      index[d] = 0;
      place(d--);
    }
    place(d);
  }
}

// Claims and runs runs of items of the current job until none is left.
void drain(pthreadpool* pool) {
  uint64_t c = pool->cursor.load(std::memory_order_acquire);
  for (;;) {
    const uint64_t count = pool->count.load(std::memory_order_acquire);
    const uint64_t first = c & kItemMask;
    if (first >= count) return;
    const uint64_t chunk = pool->chunk.load(std::memory_order_relaxed);
    const uint64_t end = count - first < chunk ? count : first + chunk;
    if (!pool->cursor.compare_exchange_weak(c, c + (end - first), std::memory_order_acq_rel,
                                            std::memory_order_acquire)) {
      continue;
    }
    run_items(pool->job, first, end);
    if (pool->done.fetch_add(end - first, std::memory_order_acq_rel) + (end - first) == count) {
      // This claim finished the job. The flag is stored before the sleeping
      // caller is looked for, and the caller announces itself before it checks
      // the flag (both seq_cst): one of the two sees the other.
      pool->finished.store(1, std::memory_order_seq_cst);
      if (pool->caller_sleeping.load(std::memory_order_seq_cst)) futex(&pool->finished, FUTEX_WAKE_PRIVATE, 1);
    }
    c = pool->cursor.load(std::memory_order_acquire);
  }
}

void* worker_main(void* arg) {
  pthreadpool* pool = static_cast<pthreadpool*>(arg);
  // Epoch 0 is the pool's state at creation, not what the epoch reads now: a
  // job or a shutdown posted before this thread ran must still be seen.
  uint32_t seen = 0;
  for (;;) {
    uint32_t now = seen;
    for (int spin = 0; spin < kWorkerSpins && now == seen; ++spin) {
      WICK_CPU_RELAX();
      now = pool->epoch.load(std::memory_order_acquire);
    }
    if (now == seen) {
      // Sleep until the epoch moves. The sleeper count is raised before the
      // futex re-checks the epoch, so a caller that bumps the epoch either
      // sees a sleeper (and wakes it) or the futex sees the new epoch.
      pool->sleepers.fetch_add(1, std::memory_order_seq_cst);
      futex(&pool->epoch, FUTEX_WAIT_PRIVATE, seen);
      pool->sleepers.fetch_sub(1, std::memory_order_seq_cst);
      continue;
    }
    seen = now;
    if (pool->stopping.load(std::memory_order_acquire)) return nullptr;
    drain(pool);
  }
}

void wake_workers(pthreadpool* pool) {
  pool->epoch.fetch_add(1, std::memory_order_seq_cst);
  if (pool->sleepers.load(std::memory_order_seq_cst) > 0) futex(&pool->epoch, FUTEX_WAKE_PRIVATE, INT_MAX);
}

// Runs `job` on the pool (or inline when there is nothing to share).
void parallelize(pthreadpool* pool, Job& job) {
  uint64_t count = 1;
  for (int d = 0; d < kMaxDims; ++d) {
    if (job.range[d] == 0) return;
    if (job.tile[d] == 0) job.tile[d] = 1;
    job.tiles[d] = (job.range[d] + job.tile[d] - 1) / job.tile[d];
    count *= job.tiles[d];
  }
  if (pool == nullptr || pool->threads <= 1 || count <= 1 || count >= kItemMask) {
    run_items(job, 0, count);
    return;
  }
  std::lock_guard<std::mutex> lock(pool->call_mutex);
  // Close the cursor first (an item number no job reaches), so that a worker
  // still holding the previous job's cursor cannot claim while the slot is
  // rewritten; then publish the job and open the cursor at item 0.
  const uint64_t generation = (pool->cursor.load(std::memory_order_relaxed) >> 32) + 1;
  pool->cursor.store(generation << 32 | kItemMask, std::memory_order_seq_cst);
  pool->job = job;
  pool->done.store(0, std::memory_order_relaxed);
  pool->finished.store(0, std::memory_order_relaxed);
  // About kClaimsPerThread claims per thread: few enough that claiming (a
  // contended atomic) stays cheap next to the work when XNNPACK splits an
  // operator into thousands of small items, enough that a thread that
  // started late still finds work.
  const uint64_t per_claim = count / (pool->threads * kClaimsPerThread);
  pool->chunk.store(per_claim > 1 ? per_claim : 1, std::memory_order_relaxed);
  pool->count.store(count, std::memory_order_release);
  pool->cursor.store(generation << 32, std::memory_order_release);
  wake_workers(pool);
  drain(pool);
  for (int spin = 0; spin < kCallerSpins && pool->finished.load(std::memory_order_acquire) == 0; ++spin) {
    WICK_CPU_RELAX();
  }
  if (pool->finished.load(std::memory_order_acquire) == 0) {
    pool->caller_sleeping.store(true, std::memory_order_seq_cst);
    while (pool->finished.load(std::memory_order_seq_cst) == 0) futex(&pool->finished, FUTEX_WAIT_PRIVATE, 0);
    pool->caller_sleeping.store(false, std::memory_order_relaxed);
  }
}

Job make_job(void* task, void* context, void (*invoke)(const Job&, const size_t*, const size_t*),
             std::initializer_list<size_t> ranges, std::initializer_list<size_t> tiles) {
  Job job = {};
  for (int d = 0; d < kMaxDims; ++d) job.range[d] = job.tile[d] = 1;
  // Ranges fill the trailing dimensions; tiles the trailing ones of those.
  int d = kMaxDims - static_cast<int>(ranges.size());
  for (size_t r : ranges) job.range[d++] = r;
  d = kMaxDims - static_cast<int>(tiles.size());
  for (size_t t : tiles) job.tile[d++] = t;
  job.task = task;
  job.context = context;
  job.invoke = invoke;
  return job;
}

}  // namespace

pthreadpool_t wick_xnnpack_pool_create(size_t threads) {
  if (threads < 1 || threads > kWickXnnpackMaxPoolThreads) return nullptr;
  pthreadpool* pool = new (std::nothrow) pthreadpool();
  if (pool == nullptr) return nullptr;
  pool->threads = threads;
  for (size_t i = 0; i + 1 < threads; ++i) {
    if (pthread_create(&pool->workers[i], nullptr, worker_main, pool) != 0) {
      wick_xnnpack_pool_destroy(pool);
      return nullptr;
    }
    pool->started = i + 1;
  }
  return pool;
}

void wick_xnnpack_pool_destroy(pthreadpool_t pool) {
  if (pool == nullptr) return;
  pool->stopping.store(true, std::memory_order_release);
  wake_workers(pool);
  for (size_t i = 0; i < pool->started; ++i) pthread_join(pool->workers[i], nullptr);
  delete pool;
}

// ---- the entry points XNNPACK imports --------------------------------------
//
// Each adapter casts the task back to its pthreadpool type and passes the item's
// indices (untiled dimensions) or tile starts and sizes (tiled ones).
#define WICK_POOL_EXPORT extern "C" __attribute__((visibility("default")))

WICK_POOL_EXPORT size_t pthreadpool_get_threads_count(pthreadpool_t pool) {
  return pool == nullptr ? 1 : pool->threads;
}

WICK_POOL_EXPORT void pthreadpool_parallelize_1d(pthreadpool_t pool, pthreadpool_task_1d_t task, void* context,
                                                 size_t range, uint32_t) {
  Job job = make_job(reinterpret_cast<void*>(task), context, [](const Job& j, const size_t* s, const size_t*) {
    reinterpret_cast<pthreadpool_task_1d_t>(j.task)(j.context, s[5]);
  }, {range}, {});
  parallelize(pool, job);
}

WICK_POOL_EXPORT void pthreadpool_parallelize_1d_tile_1d(pthreadpool_t pool, pthreadpool_task_1d_tile_1d_t task,
                                                         void* context, size_t range, size_t tile, uint32_t) {
  Job job = make_job(reinterpret_cast<void*>(task), context, [](const Job& j, const size_t* s, const size_t* n) {
    reinterpret_cast<pthreadpool_task_1d_tile_1d_t>(j.task)(j.context, s[5], n[5]);
  }, {range}, {tile});
  parallelize(pool, job);
}

WICK_POOL_EXPORT void pthreadpool_parallelize_2d(pthreadpool_t pool, pthreadpool_task_2d_t task, void* context,
                                                 size_t range_i, size_t range_j, uint32_t) {
  Job job = make_job(reinterpret_cast<void*>(task), context, [](const Job& j, const size_t* s, const size_t*) {
    reinterpret_cast<pthreadpool_task_2d_t>(j.task)(j.context, s[4], s[5]);
  }, {range_i, range_j}, {});
  parallelize(pool, job);
}

WICK_POOL_EXPORT void pthreadpool_parallelize_2d_tile_1d(pthreadpool_t pool, pthreadpool_task_2d_tile_1d_t task,
                                                         void* context, size_t range_i, size_t range_j,
                                                         size_t tile_j, uint32_t) {
  Job job = make_job(reinterpret_cast<void*>(task), context, [](const Job& j, const size_t* s, const size_t* n) {
    reinterpret_cast<pthreadpool_task_2d_tile_1d_t>(j.task)(j.context, s[4], s[5], n[5]);
  }, {range_i, range_j}, {tile_j});
  parallelize(pool, job);
}

WICK_POOL_EXPORT void pthreadpool_parallelize_2d_tile_2d(pthreadpool_t pool, pthreadpool_task_2d_tile_2d_t task,
                                                         void* context, size_t range_i, size_t range_j,
                                                         size_t tile_i, size_t tile_j, uint32_t) {
  Job job = make_job(reinterpret_cast<void*>(task), context, [](const Job& j, const size_t* s, const size_t* n) {
    reinterpret_cast<pthreadpool_task_2d_tile_2d_t>(j.task)(j.context, s[4], s[5], n[4], n[5]);
  }, {range_i, range_j}, {tile_i, tile_j});
  parallelize(pool, job);
}

WICK_POOL_EXPORT void pthreadpool_parallelize_3d(pthreadpool_t pool, pthreadpool_task_3d_t task, void* context,
                                                 size_t range_i, size_t range_j, size_t range_k, uint32_t) {
  Job job = make_job(reinterpret_cast<void*>(task), context, [](const Job& j, const size_t* s, const size_t*) {
    reinterpret_cast<pthreadpool_task_3d_t>(j.task)(j.context, s[3], s[4], s[5]);
  }, {range_i, range_j, range_k}, {});
  parallelize(pool, job);
}

WICK_POOL_EXPORT void pthreadpool_parallelize_3d_tile_2d(pthreadpool_t pool, pthreadpool_task_3d_tile_2d_t task,
                                                         void* context, size_t range_i, size_t range_j,
                                                         size_t range_k, size_t tile_j, size_t tile_k, uint32_t) {
  Job job = make_job(reinterpret_cast<void*>(task), context, [](const Job& j, const size_t* s, const size_t* n) {
    reinterpret_cast<pthreadpool_task_3d_tile_2d_t>(j.task)(j.context, s[3], s[4], s[5], n[4], n[5]);
  }, {range_i, range_j, range_k}, {tile_j, tile_k});
  parallelize(pool, job);
}

WICK_POOL_EXPORT void pthreadpool_parallelize_4d(pthreadpool_t pool, pthreadpool_task_4d_t task, void* context,
                                                 size_t range_i, size_t range_j, size_t range_k, size_t range_l,
                                                 uint32_t) {
  Job job = make_job(reinterpret_cast<void*>(task), context, [](const Job& j, const size_t* s, const size_t*) {
    reinterpret_cast<pthreadpool_task_4d_t>(j.task)(j.context, s[2], s[3], s[4], s[5]);
  }, {range_i, range_j, range_k, range_l}, {});
  parallelize(pool, job);
}

WICK_POOL_EXPORT void pthreadpool_parallelize_4d_tile_2d(pthreadpool_t pool, pthreadpool_task_4d_tile_2d_t task,
                                                         void* context, size_t range_i, size_t range_j,
                                                         size_t range_k, size_t range_l, size_t tile_k,
                                                         size_t tile_l, uint32_t) {
  Job job = make_job(reinterpret_cast<void*>(task), context, [](const Job& j, const size_t* s, const size_t* n) {
    reinterpret_cast<pthreadpool_task_4d_tile_2d_t>(j.task)(j.context, s[2], s[3], s[4], s[5], n[4], n[5]);
  }, {range_i, range_j, range_k, range_l}, {tile_k, tile_l});
  parallelize(pool, job);
}

WICK_POOL_EXPORT void pthreadpool_parallelize_5d(pthreadpool_t pool, pthreadpool_task_5d_t task, void* context,
                                                 size_t range_i, size_t range_j, size_t range_k, size_t range_l,
                                                 size_t range_m, uint32_t) {
  Job job = make_job(reinterpret_cast<void*>(task), context, [](const Job& j, const size_t* s, const size_t*) {
    reinterpret_cast<pthreadpool_task_5d_t>(j.task)(j.context, s[1], s[2], s[3], s[4], s[5]);
  }, {range_i, range_j, range_k, range_l, range_m}, {});
  parallelize(pool, job);
}

WICK_POOL_EXPORT void pthreadpool_parallelize_5d_tile_2d(pthreadpool_t pool, pthreadpool_task_5d_tile_2d_t task,
                                                         void* context, size_t range_i, size_t range_j,
                                                         size_t range_k, size_t range_l, size_t range_m,
                                                         size_t tile_l, size_t tile_m, uint32_t) {
  Job job = make_job(reinterpret_cast<void*>(task), context, [](const Job& j, const size_t* s, const size_t* n) {
    reinterpret_cast<pthreadpool_task_5d_tile_2d_t>(j.task)(j.context, s[1], s[2], s[3], s[4], s[5], n[4], n[5]);
  }, {range_i, range_j, range_k, range_l, range_m}, {tile_l, tile_m});
  parallelize(pool, job);
}

WICK_POOL_EXPORT void pthreadpool_parallelize_6d_tile_2d(pthreadpool_t pool, pthreadpool_task_6d_tile_2d_t task,
                                                         void* context, size_t range_i, size_t range_j,
                                                         size_t range_k, size_t range_l, size_t range_m,
                                                         size_t range_n, size_t tile_m, size_t tile_n, uint32_t) {
  Job job = make_job(reinterpret_cast<void*>(task), context, [](const Job& j, const size_t* s, const size_t* n) {
    reinterpret_cast<pthreadpool_task_6d_tile_2d_t>(j.task)(j.context, s[0], s[1], s[2], s[3], s[4], s[5], n[4],
                                                            n[5]);
  }, {range_i, range_j, range_k, range_l, range_m, range_n}, {tile_m, tile_n});
  parallelize(pool, job);
}
