#include "thread_pool.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
static inline void cpuRelax() { _mm_pause(); }
#else
static inline void cpuRelax() { std::this_thread::yield(); }
#endif

namespace inkling {

// How long a worker polls for the next job before it sleeps, and the caller polls for claimed
// tasks before it yields: PAUSE takes ~20 ns on Zen 5 (~27 ns on Zen 1), so ~50-70 us, longer
// than the gap between two kernels of a training step. Longer spins (0.4 ms) cost 40% more CPU per training step when the
// machine was oversubscribed, for no gain on an idle one.
static constexpr int kSpinIterations = 2500;

static inline uint32_t generationOf(uint64_t state) { return uint32_t(state >> 32); }
static inline uint32_t taskOf(uint64_t state) { return uint32_t(state); }

ThreadPool::ThreadPool(int threads) : size_(threads < 1 ? 1 : threads) {
  for (int i = 1; i < size_; ++i) workers_.emplace_back([this, i] { workerLoop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_.store(true);
    state_.store((uint64_t(generationOf(state_.load()) + 1) << 32) | 0xffffffffu);
  }
  wake_.notify_all();
  for (auto& w : workers_) w.join();
}

void ThreadPool::drain(uint32_t generation, int thread) {
  uint64_t s = state_.load(std::memory_order_acquire);
  for (;;) {
    if (generationOf(s) != generation) return;
    const int tasks = tasks_.load(std::memory_order_relaxed);
    if (int(taskOf(s)) >= tasks) return;
    if (!state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
    // Claimed: the job's fields stay valid until its tasks are all done, which includes this one.
    fn_.load(std::memory_order_relaxed)(ctx_.load(std::memory_order_relaxed), int(taskOf(s)), thread);
    done_.fetch_add(1, std::memory_order_release);
    s = state_.load(std::memory_order_acquire);
  }
}

void ThreadPool::dispatch(int tasks, TaskFn fn, void* ctx) {
  tasks_.store(tasks, std::memory_order_relaxed);
  fn_.store(fn, std::memory_order_relaxed);
  ctx_.store(ctx, std::memory_order_relaxed);
  done_.store(0, std::memory_order_relaxed);
  uint32_t generation;
  {
    // Publishing under the mutex pairs with the sleepers' wait, so no wake-up is lost.
    std::lock_guard<std::mutex> lock(mutex_);
    generation = generationOf(state_.load(std::memory_order_relaxed)) + 1;
    state_.store(uint64_t(generation) << 32, std::memory_order_release);
  }
  if (sleepers_.load(std::memory_order_acquire) > 0) wake_.notify_all();
  drain(generation, 0);
  int spins = 0;
  while (done_.load(std::memory_order_acquire) < tasks) {
    if (++spins < kSpinIterations) cpuRelax();
    else std::this_thread::yield();
  }
}

void ThreadPool::workerLoop(int id) {
  uint32_t seen = 0;
  for (;;) {
    uint32_t gen = generationOf(state_.load(std::memory_order_acquire));
    for (int spins = 0; gen == seen && spins < kSpinIterations; ++spins) {
      cpuRelax();
      gen = generationOf(state_.load(std::memory_order_acquire));
    }
    if (gen == seen) {
      std::unique_lock<std::mutex> lock(mutex_);
      sleepers_.fetch_add(1);
      wake_.wait(lock, [&] { return generationOf(state_.load(std::memory_order_acquire)) != seen; });
      sleepers_.fetch_sub(1);
      gen = generationOf(state_.load(std::memory_order_acquire));
    }
    seen = gen;
    if (stop_.load()) return;
    drain(gen, id);
  }
}

}  // namespace inkling
