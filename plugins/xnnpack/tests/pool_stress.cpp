// Stress test of the plugin's thread pool (runtime/thread_pool.cpp), built and
// run by test_thread_pool.py: every item of every parallelize variant must run
// exactly once with the right tile size, across pools created and destroyed
// at once (a shutdown posted before a worker first runs) and jobs of all shapes;
// and slow items, so that the caller sleeps until a worker finishes the job
// (a lost wake-up hangs, which test_thread_pool.py's timeout turns into a failure).
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <initializer_list>

#include "thread_pool.h"

namespace {

constexpr size_t kN = 6;
std::atomic<int> hits[kN][kN][kN][kN][kN][kN];
size_t ranges[kN], tiles[kN];
bool ok = true;

void hit(const size_t* idx, const size_t* len, int tiled_from) {
  // Tiled dimensions: idx is a tile start, len its size; others: len is 1.
  for (int d = tiled_from; d < static_cast<int>(kN); ++d) {
    size_t want = ranges[d] - idx[d] < tiles[d] ? ranges[d] - idx[d] : tiles[d];
    if (idx[d] % tiles[d] != 0 || len[d] != want) ok = false;
  }
  size_t i[kN];
  for (size_t a = 0; a < len[0]; ++a)
    for (size_t b = 0; b < len[1]; ++b)
      for (size_t c = 0; c < len[2]; ++c)
        for (size_t d = 0; d < len[3]; ++d)
          for (size_t e = 0; e < len[4]; ++e)
            for (size_t f = 0; f < len[5]; ++f) {
              i[0] = idx[0] + a; i[1] = idx[1] + b; i[2] = idx[2] + c;
              i[3] = idx[3] + d; i[4] = idx[4] + e; i[5] = idx[5] + f;
              hits[i[0]][i[1]][i[2]][i[3]][i[4]][i[5]]++;
            }
}

bool check_all_once() {
  for (size_t a = 0; a < kN; ++a)
    for (size_t b = 0; b < kN; ++b)
      for (size_t c = 0; c < kN; ++c)
        for (size_t d = 0; d < kN; ++d)
          for (size_t e = 0; e < kN; ++e)
            for (size_t f = 0; f < kN; ++f) {
              bool inside = a < ranges[0] && b < ranges[1] && c < ranges[2] && d < ranges[3] && e < ranges[4] &&
                            f < ranges[5];
              if (hits[a][b][c][d][e][f].exchange(0) != (inside ? 1 : 0)) return false;
            }
  return true;
}

void set(std::initializer_list<size_t> r, std::initializer_list<size_t> t) {
  for (size_t d = 0; d < kN; ++d) ranges[d] = tiles[d] = 1;
  size_t d = kN - r.size();
  for (size_t v : r) ranges[d++] = v;
  d = kN - t.size();
  for (size_t v : t) tiles[d++] = v;
}

#define ONE(...) { size_t idx[kN] = {__VA_ARGS__}; size_t one[kN] = {1, 1, 1, 1, 1, 1}; hit(idx, one, kN); }

bool run_all(pthreadpool_t p, size_t s) {
  // Sizes vary with s so that ranges, tiles and item counts differ per round.
  size_t a = 1 + s % 5, b = 1 + (s / 5) % 6, t = 1 + s % 3;
  bool good = true;
  set({a}, {}); pthreadpool_parallelize_1d(p, [](void*, size_t i) ONE(0, 0, 0, 0, 0, i), nullptr, a, 0);
  good = good && check_all_once();
  set({b}, {t}); pthreadpool_parallelize_1d_tile_1d(p, [](void*, size_t i, size_t n) {
    size_t idx[kN] = {0, 0, 0, 0, 0, i}, len[kN] = {1, 1, 1, 1, 1, n}; hit(idx, len, 5); }, nullptr, b, t, 0);
  good = good && check_all_once();
  set({a, b}, {}); pthreadpool_parallelize_2d(p, [](void*, size_t i, size_t j) ONE(0, 0, 0, 0, i, j), nullptr, a, b, 0);
  good = good && check_all_once();
  set({a, b}, {t}); pthreadpool_parallelize_2d_tile_1d(p, [](void*, size_t i, size_t j, size_t n) {
    size_t idx[kN] = {0, 0, 0, 0, i, j}, len[kN] = {1, 1, 1, 1, 1, n}; hit(idx, len, 5); }, nullptr, a, b, t, 0);
  good = good && check_all_once();
  set({b, a}, {t, 2}); pthreadpool_parallelize_2d_tile_2d(p, [](void*, size_t i, size_t j, size_t m, size_t n) {
    size_t idx[kN] = {0, 0, 0, 0, i, j}, len[kN] = {1, 1, 1, 1, m, n}; hit(idx, len, 4); }, nullptr, b, a, t, 2, 0);
  good = good && check_all_once();
  set({a, b, 3}, {}); pthreadpool_parallelize_3d(p, [](void*, size_t i, size_t j, size_t k) ONE(0, 0, 0, i, j, k),
                                                nullptr, a, b, 3, 0);
  good = good && check_all_once();
  set({2, b, a}, {t, 2}); pthreadpool_parallelize_3d_tile_2d(p, [](void*, size_t i, size_t j, size_t k, size_t m,
                                                                   size_t n) {
    size_t idx[kN] = {0, 0, 0, i, j, k}, len[kN] = {1, 1, 1, 1, m, n}; hit(idx, len, 4); }, nullptr, 2, b, a, t, 2, 0);
  good = good && check_all_once();
  set({a, 2, b, 3}, {}); pthreadpool_parallelize_4d(p, [](void*, size_t i, size_t j, size_t k, size_t l)
                                                   ONE(0, 0, i, j, k, l), nullptr, a, 2, b, 3, 0);
  good = good && check_all_once();
  set({2, a, b, 5}, {t, 2}); pthreadpool_parallelize_4d_tile_2d(p, [](void*, size_t i, size_t j, size_t k, size_t l,
                                                                      size_t m, size_t n) {
    size_t idx[kN] = {0, 0, i, j, k, l}, len[kN] = {1, 1, 1, 1, m, n}; hit(idx, len, 4); },
    nullptr, 2, a, b, 5, t, 2, 0);
  good = good && check_all_once();
  set({2, a, 2, b, 3}, {}); pthreadpool_parallelize_5d(p, [](void*, size_t i, size_t j, size_t k, size_t l, size_t m)
                                                      ONE(0, i, j, k, l, m), nullptr, 2, a, 2, b, 3, 0);
  good = good && check_all_once();
  set({2, 3, a, b, 5}, {t, 2}); pthreadpool_parallelize_5d_tile_2d(p, [](void*, size_t i, size_t j, size_t k,
                                                                         size_t l, size_t m, size_t x, size_t y) {
    size_t idx[kN] = {0, i, j, k, l, m}, len[kN] = {1, 1, 1, 1, x, y}; hit(idx, len, 4); },
    nullptr, 2, 3, a, b, 5, t, 2, 0);
  good = good && check_all_once();
  set({2, 2, 3, a, b, 5}, {t, 2}); pthreadpool_parallelize_6d_tile_2d(p, [](void*, size_t i, size_t j, size_t k,
                                                                            size_t l, size_t m, size_t n, size_t x,
                                                                            size_t y) {
    size_t idx[kN] = {i, j, k, l, m, n}, len[kN] = {1, 1, 1, 1, x, y}; hit(idx, len, 4); },
    nullptr, 2, 2, 3, a, b, 5, t, 2, 0);
  good = good && check_all_once();
  return good && ok;
}

// Items slow enough (0.1-0.2 ms) that the caller, done with its own, outlasts
// its spin and sleeps; parallelize must return only once every item ran.
bool run_slow(pthreadpool_t p, size_t items) {
  static std::atomic<size_t> ran;
  ran = 0;
  pthreadpool_parallelize_1d(p, [](void*, size_t i) {
    usleep(static_cast<useconds_t>(100 + 50 * (i % 3)));
    ran.fetch_add(1);
  }, nullptr, items, 0);
  return ran.load() == items;
}

}  // namespace

int main() {
  for (size_t threads = 1; threads <= 4; ++threads) {
    for (size_t round = 0; round < 300; ++round) {
      pthreadpool_t p = wick_xnnpack_pool_create(threads);
      if (p == nullptr || pthreadpool_get_threads_count(p) != threads) {
        std::printf("pool of %zu threads not created\n", threads);
        return 1;
      }
      // Some pools are destroyed before any job (the shutdown race), others run many.
      for (size_t job = 0; job < round % 4; ++job) {
        if (!run_all(p, round * 7 + job)) {
          std::printf("FAIL: threads %zu round %zu job %zu\n", threads, round, job);
          return 1;
        }
      }
      if (round % 10 == 0 && !run_slow(p, 2 * threads + round % 3)) {
        std::printf("FAIL: slow items, threads %zu round %zu: returned before all items ran\n", threads, round);
        return 1;
      }
      wick_xnnpack_pool_destroy(p);
    }
  }
  if (!run_all(nullptr, 3)) {  // no pool: everything runs on the caller
    std::printf("FAIL: no pool\n");
    return 1;
  }
  std::printf("ok\n");
  return 0;
}
