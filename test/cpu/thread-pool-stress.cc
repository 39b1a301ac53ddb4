// Stress test of the cpu backend's thread pool (native/cpu/thread_pool.cc), built with
// -DINKLING_POOL_TEST_HOOKS by thread-pool.test.ts. The hooks make the rare interleavings common:
// a worker is sometimes "descheduled" (it sleeps) between reading the pool's state and the job's
// task count, and the caller sometimes pauses between storing a job and publishing it, as a
// shared host's vCPUs do at any instruction.
//
// Every job runs with its own record; each task marks its slot. A job is correct when, as run()
// returns, every task ran exactly once, with this job's function, and nothing of it runs later.
// Prints "jobs J, violations V" and exits 1 when V > 0.
//
// usage: thread-pool-stress <threads> <jobs>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "thread_pool.h"

namespace inkling {

static thread_local std::minstd_rand rng{std::random_device{}()};

static void nap(int permille, int maxMicros) {
  if (int(rng() % 1000) < permille) std::this_thread::sleep_for(std::chrono::microseconds(rng() % maxMicros));
}

void poolTestHookClaim(int thread) {
  if (thread != 0) nap(20, 30);
}

void poolTestHookPublish() { nap(5, 20); }

}  // namespace inkling

struct Job {
  int tasks = 0;
  std::vector<std::atomic<int>> hits;
  std::atomic<bool> returned{false};
  explicit Job(int n) : tasks(n), hits(size_t(n)) {}
};

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  const int jobs = argc > 2 ? std::atoi(argv[2]) : 20000;
  inkling::ThreadPool pool(threads);
  std::atomic<long> violations{0};
  // Jobs are kept until the end, so that a task run late or with the wrong job's record is
  // counted, not a crash.
  std::vector<std::unique_ptr<Job>> done;
  done.reserve(size_t(jobs));
  for (int j = 0; j < jobs; ++j) {
    // Task counts that grow and shrink: a stale claim needs the next job to have more tasks.
    const int tasks = 2 + (j % 3) * 3;
    auto job = std::make_unique<Job>(tasks);
    Job* record = job.get();
    pool.run(tasks, [record, &violations](int task, int) {
      if (task < 0 || task >= record->tasks || record->returned.load()) {
        violations.fetch_add(1);
        return;
      }
      // a short task, so that workers often find the job finished
      volatile int sink = 0;
      for (int i = 0; i < 50; ++i) sink = sink + i;
      record->hits[size_t(task)].fetch_add(1);
    });
    record->returned.store(true);
    for (int t = 0; t < tasks; ++t)
      if (record->hits[size_t(t)].load() != 1) violations.fetch_add(1);
    done.push_back(std::move(job));
  }
  // late runs of earlier jobs' tasks, counted as they happen above; give stragglers a moment
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::printf("jobs %d, violations %ld\n", jobs, violations.load());
  return violations.load() == 0 ? 0 : 1;
}
