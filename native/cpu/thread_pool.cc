#include "thread_pool.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
static inline void cpuRelax() { _mm_pause(); }
#else
static inline void cpuRelax() { std::this_thread::yield(); }
#endif

namespace inkling {

// How long a worker polls for the next job before it sleeps: about 50-100 us on current CPUs,
// longer than the gap between two kernels of a training step, far shorter than a human notices.
static constexpr int kSpinIterations = 20000;

ThreadPool::ThreadPool(int threads) : size_(threads < 1 ? 1 : threads) {
  for (int i = 1; i < size_; ++i) workers_.emplace_back([this, i] { workerLoop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_.store(true);
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  for (auto& w : workers_) w.join();
}

void ThreadPool::drain(int thread) {
  for (;;) {
    int task = nextTask_.fetch_add(1, std::memory_order_relaxed);
    if (task >= tasks_) break;
    fn_(ctx_, task, thread);
  }
}

void ThreadPool::dispatch(int tasks, TaskFn fn, void* ctx) {
  tasks_ = tasks;
  fn_ = fn;
  ctx_ = ctx;
  nextTask_.store(0, std::memory_order_relaxed);
  busyWorkers_.store(size_ - 1, std::memory_order_relaxed);
  {
    // Publishing under the mutex pairs with the sleepers' wait, so no wake-up is lost.
    std::lock_guard<std::mutex> lock(mutex_);
    generation_.fetch_add(1, std::memory_order_release);
  }
  if (sleepers_.load(std::memory_order_acquire) > 0) wake_.notify_all();
  drain(0);
  // Wait until every worker has left this job, so the next dispatch can reuse the fields.
  int spins = 0;
  while (busyWorkers_.load(std::memory_order_acquire) > 0) {
    if (++spins < kSpinIterations) cpuRelax();
    else std::this_thread::yield();
  }
}

void ThreadPool::workerLoop(int id) {
  uint64_t seen = 0;
  for (;;) {
    uint64_t gen = generation_.load(std::memory_order_acquire);
    for (int spins = 0; gen == seen && spins < kSpinIterations; ++spins) {
      cpuRelax();
      gen = generation_.load(std::memory_order_acquire);
    }
    if (gen == seen) {
      std::unique_lock<std::mutex> lock(mutex_);
      sleepers_.fetch_add(1);
      wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
      sleepers_.fetch_sub(1);
      gen = generation_.load(std::memory_order_acquire);
    }
    seen = gen;
    if (stop_.load()) return;
    drain(id);
    busyWorkers_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

}  // namespace inkling
