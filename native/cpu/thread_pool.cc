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
/** The task index of a finished job: above any task count, so nothing more is claimed from it. */
static constexpr uint32_t kClosed = 0x7fffffffu;

#ifdef INKLING_POOL_TEST_HOOKS
// test/cpu/thread-pool-stress.cc defines these to widen the race windows (a worker descheduled
// between reading the state and the task count, a caller between storing a job and publishing it).
void poolTestHookClaim(int thread);
void poolTestHookPublish();
#else
static inline void poolTestHookClaim(int) {}
static inline void poolTestHookPublish() {}
#endif

ThreadPool::ThreadPool(int threads) : size_(threads < 1 ? 1 : threads) {
  for (int i = 1; i < size_; ++i) workers_.emplace_back([this, i] { workerLoop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_.store(true);
    state_.store((uint64_t(generationOf(state_.load()) + 1) << 32) | kClosed);
  }
  wake_.notify_all();
  for (auto& w : workers_) w.join();
}

void ThreadPool::drain(uint32_t generation, int thread) {
  uint64_t s = state_.load(std::memory_order_acquire);
  for (;;) {
    if (generationOf(s) != generation) return;
    poolTestHookClaim(thread);
    // Acquire: if this is already the next job's count, the close of this one (dispatch's last
    // store to state_) happened before, and the compare-exchange below fails.
    const int tasks = tasks_.load(std::memory_order_acquire);
    if (int(taskOf(s)) >= tasks) return;
    if (!state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
    // Claimed: the job's fields stay valid until its tasks are all done, which includes this one.
    fn_.load(std::memory_order_relaxed)(ctx_.load(std::memory_order_relaxed), int(taskOf(s)), thread);
    done_.fetch_add(1, std::memory_order_release);
    s = state_.load(std::memory_order_acquire);
  }
}

void ThreadPool::dispatch(int tasks, TaskFn fn, void* ctx) {
  // Release: pairs with drain's acquire load (see the close below).
  tasks_.store(tasks, std::memory_order_release);
  fn_.store(fn, std::memory_order_relaxed);
  ctx_.store(ctx, std::memory_order_relaxed);
  done_.store(0, std::memory_order_relaxed);
  poolTestHookPublish();
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
  // Close the job. Its state now reads (generation, tasks) and stays so until the next publish;
  // a worker that read it, was descheduled and then read the NEXT job's larger task count (stored
  // before that job is published) would claim task `tasks` of this generation with the next job's
  // function, and count it done for the next job, whose caller could then return while one of
  // its tasks still runs (seen once, in a bench:train run: a divide error in a worker reading a
  // returned caller's frame). With the state moved on, that compare-exchange fails.
  state_.store((uint64_t(generation) << 32) | kClosed, std::memory_order_release);
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
