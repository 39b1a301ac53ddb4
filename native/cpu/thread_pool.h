// A persistent pool of worker threads for the cpu backend's kernels.
//
// `run(tasks, f)` calls f(task, thread) once for every task in [0, tasks) and returns when all
// are done. The calling thread works too (it is thread 0). Tasks are handed out dynamically, so
// which thread runs a task varies, but every kernel makes a task's result depend only on the
// task index (never on the thread), and reductions combine per-task partials in task order: the
// results are therefore identical for any thread count.
//
// Workers spin briefly after each job (kernels of a training step come back to back) and then
// sleep on a condition variable, so an idle backend costs no CPU.
//
// The caller waits only for tasks that were actually claimed, never for workers to check in: on
// a shared machine a worker may be descheduled for milliseconds, and the caller then simply runs
// the remaining tasks itself. A task is claimed by a compare-and-swap on (job generation, next
// task index), so a worker that wakes late cannot claim a task of a job it did not see start; and
// run() closes its job's state before it returns, so a worker that read a finished job's state
// cannot claim from it with the next job's task count (test/cpu/thread-pool.test.ts).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace inkling {

class ThreadPool {
 public:
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return size_; }

  template <class F>
  void run(int tasks, F&& f) {
    if (tasks <= 0) return;
    using Fn = std::remove_reference_t<F>;
    // One compiled copy of the task body, called by both paths: were the single-thread loop to call
    // f directly, GCC would compile f's body twice (inlined here and in the trampoline), and with
    // -ffp-contract=fast the two copies may round differently, so a result would depend on which
    // thread ran a task (seen: an ulp in convBatchNormMaxPoolBackward's dw; one copy fixed it).
    TaskFn body = [](void* ctx, int task, int thread) __attribute__((noinline)) {
      (*static_cast<Fn*>(ctx))(task, thread);
    };
    if (tasks == 1 || size_ == 1) {
      for (int t = 0; t < tasks; ++t) body(&f, t, 0);
      return;
    }
    dispatch(tasks, body, &f);
  }

 private:
  using TaskFn = void (*)(void*, int, int);
  void dispatch(int tasks, TaskFn fn, void* ctx);
  void workerLoop(int id);
  /** Claims and runs tasks of job `generation` until none is left; false if the job is stale. */
  void drain(uint32_t generation, int thread);

  int size_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  /** (generation << 32) | next task index of the current job. */
  std::atomic<uint64_t> state_{0};
  std::atomic<int> done_{0};
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};
  // The current job; written before its generation is published, stable until all its tasks are done.
  std::atomic<int> tasks_{0};
  std::atomic<TaskFn> fn_{nullptr};
  std::atomic<void*> ctx_{nullptr};
};

}  // namespace inkling
