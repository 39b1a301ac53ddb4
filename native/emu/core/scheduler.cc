// The block scheduler (see simt.h and block.h). In fiber mode the scheduler resumes Runnable
// threads pass after pass in the chosen order, and a pass in which no thread could run while some
// still wait is a deadlock. In OS-thread mode each emulated thread runs on a worker of a persistent
// pool, and a thread that starts to wait while every live thread waits reports the deadlock
// (waitUntil, block.h).
#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "block.h"
#include "fiber.h"
#include "sanitizers.h"
#include "simt.h"

extern "C" {
// Bounds of the group-shared section, defined by the linker when INKLING_EMU_GROUP_SHARED is used.
extern char __start_inkling_emu_group_shared[] __attribute__((weak, visibility("hidden")));
extern char __stop_inkling_emu_group_shared[] __attribute__((weak, visibility("hidden")));
}

namespace inkling::emu {
namespace detail {
thread_local ThreadState* tSelf = nullptr;
thread_local const KernelInfo* tKernel = nullptr;
}  // namespace detail

namespace {

using namespace detail;

void onExit(Block& b, ThreadState& t, bool normally) {
  t.state = State::Finished;
  b.live--;
  if (b.aborted || !normally) {
    return;
  }
  b.exited++;
  WarpState& w = (*b.warps)[t.index.warp];
  const uint32_t bit = 1u << t.index.lane;
  w.exited |= bit;
  if (b.barrierArrived > 0) {
    abortWith(b, threadText(t.index) + " exited (returned) while " + std::to_string(b.barrierArrived) +
                     " threads wait at the block barrier at " + siteText(b.barrierSite) +
                     ": a barrier must be reached by every thread of the block (" + describeWaiters(b) + ")");
    return;
  }
  for (uint32_t used = w.inUse; used; used &= used - 1) {
    const OpenCollective& oc = w.open[__builtin_ctz(used)];
    if (!oc.complete && (oc.c.mask & bit) && !(oc.arrived & bit)) {
      abortWith(b, threadText(t.index) + " (warp " + std::to_string(t.index.warp) + ", lane " + std::to_string(t.index.lane) +
                       ") exited while lanes " + laneList(oc.arrived) + " wait for it in " + oc.c.name + " at " +
                       siteText(oc.c.site) + " (mask " + hex(oc.c.mask) + ")");
      return;
    }
  }
  if (b.threadsMode) {
    if (b.live > 0 && b.waiting == b.live) abortWith(b, "deadlock after a thread exited: " + describeWaiters(b));
  }
}

void runThread(ThreadState& t) {
  Block& b = *t.block;
  bool normally = true;
  try {
    (*b.body)();
  } catch (LaunchAborted&) {
    normally = false;
  } catch (const std::exception& e) {
    auto lk = lockBlock(b);
    abortWith(b, threadText(t.index) + " threw: " + e.what());
    normally = false;
  } catch (...) {
    auto lk = lockBlock(b);
    abortWith(b, threadText(t.index) + " threw an exception");
    normally = false;
  }
  auto lk = lockBlock(b);
  onExit(b, t, normally);
}

void fiberEntry(void* arg) {
  ThreadState& t = *static_cast<ThreadState*>(arg);
  Fiber::onStart(t.block->scheduler);
  runThread(t);
  Fiber::exitTo(t.fiber, t.block->scheduler);
}

size_t defaultStackBytes() { return kUnderSanitizer ? (512u << 10) : (128u << 10); }

void runBlockFibers(Block& b, const Options& opt, FiberStackPool& pool) {
  ThreadArray& threads = *b.threads;
  const size_t stackBytes = opt.stackBytes ? opt.stackBytes : defaultStackBytes();
  const bool reverse = opt.order == Order::Reverse;
  for (;;) {
    bool ran = false;
    for (uint32_t k = 0; k < b.total; k++) {
      ThreadState& t = threads[reverse ? b.total - 1 - k : k];
      if (t.state == State::NotStarted) {
        if (b.aborted) {
          t.state = State::Finished;
          b.live--;
          continue;
        }
        t.fiber.prepare(pool.take(stackBytes), &fiberEntry, &t);
        t.state = State::Runnable;
      }
      if (t.state != State::Runnable) continue;
      tSelf = &t;
      Fiber::switchTo(b.scheduler, t.fiber);
      tSelf = nullptr;
      ran = true;
      if (t.state == State::Finished) {
        pool.give(t.fiber.stack);
        t.fiber.stack = nullptr;
      }
    }
    if (b.live == 0) return;
    if (!ran) {
      if (!b.aborted) abortWith(b, "deadlock: every live thread waits and none can proceed: " + describeWaiters(b));
      // Resume every waiter once: it sees the abort and unwinds.
      for (ThreadState& t : threads)
        if (t.state == State::Waiting) wake(b, t);
    }
  }
}

// OS-thread mode runs each emulated thread of a block on its own worker; the workers persist
// across blocks and launches (creating an OS thread per emulated thread per block is slow, under
// ThreadSanitizer very slow). The hand-offs go through a mutex per worker and one for completion,
// so ThreadSanitizer sees block k+1 happen after block k, as the emulator runs them.
class WorkerPool {
 public:
  ~WorkerPool() {
    for (auto& w : workers_) {
      {
        std::lock_guard<std::mutex> lock(w->mu);
        w->quit = true;
      }
      w->cv.notify_one();
      w->thread.join();
    }
  }

  /** Runs runThread on each of `jobs` concurrently, one worker each; returns when all are done.
   *  Throws std::system_error when the workers cannot be started. */
  void run(const std::vector<ThreadState*>& jobs, const KernelInfo* kernel) {
    while (workers_.size() < jobs.size()) {
      auto w = std::make_unique<Worker>();
      Worker* raw = w.get();
      w->thread = std::thread([this, raw] { loop(*raw); });
      workers_.push_back(std::move(w));
    }
    {
      std::lock_guard<std::mutex> lock(doneMu_);
      pending_ = static_cast<uint32_t>(jobs.size());
    }
    for (size_t i = 0; i < jobs.size(); i++) {
      Worker& w = *workers_[i];
      {
        std::lock_guard<std::mutex> lock(w.mu);
        w.job = jobs[i];
        w.kernel = kernel;
      }
      w.cv.notify_one();
    }
    std::unique_lock<std::mutex> lock(doneMu_);
    doneCv_.wait(lock, [&] { return pending_ == 0; });
  }

 private:
  struct Worker {
    std::thread thread;
    std::mutex mu;
    std::condition_variable cv;
    ThreadState* job = nullptr;
    const KernelInfo* kernel = nullptr;
    bool quit = false;
  };

  void loop(Worker& w) {
    for (;;) {
      ThreadState* job;
      {
        std::unique_lock<std::mutex> lock(w.mu);
        w.cv.wait(lock, [&] { return w.job != nullptr || w.quit; });
        if (w.quit) return;
        job = w.job;
        w.job = nullptr;
        tKernel = w.kernel;
      }
      tSelf = job;
      runThread(*job);
      tSelf = nullptr;
      tKernel = nullptr;
      std::lock_guard<std::mutex> lock(doneMu_);
      if (--pending_ == 0) doneCv_.notify_one();
    }
  }

  std::vector<std::unique_ptr<Worker>> workers_;
  std::mutex doneMu_;
  std::condition_variable doneCv_;
  uint32_t pending_ = 0;
};

void runBlockThreads(Block& b, const Options& opt, WorkerPool& pool) {
  ThreadArray& threads = *b.threads;
  std::vector<ThreadState*> jobs;
  jobs.reserve(b.total);
  for (uint32_t k = 0; k < b.total; k++) {
    ThreadState& t = threads[opt.order == Order::Reverse ? b.total - 1 - k : k];
    t.state = State::Runnable;
    jobs.push_back(&t);
  }
  try {
    pool.run(jobs, b.kernel);
  } catch (const std::system_error& e) {
    auto lk = lockBlock(b);
    abortWith(b, std::string("could not start the OS threads of OS-thread mode (") + e.what() + "); it is meant for tiny shapes");
  }
}

// Group-shared memory: the static section and the dynamic buffer get the poison byte.
void poisonGroupShared(void* dynamic, size_t dynamicBytes) {
  char* begin = __start_inkling_emu_group_shared;
  char* end = __stop_inkling_emu_group_shared;
  if (begin && end > begin) std::memset(begin, kPoisonByte, static_cast<size_t>(end - begin));
  if (dynamicBytes) std::memset(dynamic, kPoisonByte, dynamicBytes);
}

struct Scratch {
  ThreadArray threads;
  std::vector<WarpState> warps;
  std::vector<unsigned char> dynamicShared;
  FiberStackPool pool;
  WorkerPool workers;
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

}  // namespace


Options optionsFromEnvironment() {
  Options o;
  if (const char* m = std::getenv("INKLING_EMU_MODE"); m && *m) {
    if (!std::strcmp(m, "fibers")) o.mode = Mode::Fibers;
    else if (!std::strcmp(m, "threads")) o.mode = Mode::Threads;
    else throw std::invalid_argument(std::string("INKLING_EMU_MODE must be 'fibers' or 'threads', got '") + m + "'");
  }
  if (const char* r = std::getenv("INKLING_EMU_ORDER"); r && *r) {
    if (!std::strcmp(r, "forward")) o.order = Order::Forward;
    else if (!std::strcmp(r, "reverse")) o.order = Order::Reverse;
    else throw std::invalid_argument(std::string("INKLING_EMU_ORDER must be 'forward' or 'reverse', got '") + r + "'");
  }
  if (const char* s = std::getenv("INKLING_EMU_STACK_KB"); s && *s) {
    char* end = nullptr;
    long kb = std::strtol(s, &end, 10);
    if (*end || kb < 16 || kb > 65536) throw std::invalid_argument(std::string("INKLING_EMU_STACK_KB must be 16..65536, got '") + s + "'");
    o.stackBytes = static_cast<size_t>(kb) << 10;
  }
#ifdef INKLING_EMU_TSAN
  o.mode = Mode::Threads;  // ThreadSanitizer follows OS threads, not fibers
#endif
  return o;
}

const KernelInfo* currentKernel() { return tKernel; }

LaunchResult launch(const KernelInfo& kernel, const LaunchShape& shape, const std::function<void()>& body, const Options& opt) {
  LaunchResult result;
  const Dim3 g = shape.grid, d = shape.block;
  const uint64_t perBlock = (uint64_t)d.x * d.y * d.z;
  const uint64_t blocks = (uint64_t)g.x * g.y * g.z;
  auto fail = [&](const std::string& why) {
    result.ok = false;
    result.error = "inkling emulator: kernel " + kernel.name + " (launched at " + siteText(kernel.launchSite) + "): " + why;
    return result;
  };
  if (blocks == 0 || perBlock == 0) return fail("invalid launch shape: grid " + dimText(g) + ", block " + dimText(d) + " (a zero extent)");
  if (perBlock > kMaxBlockThreads) return fail("block " + dimText(d) + " has " + std::to_string(perBlock) + " threads, more than " + std::to_string(kMaxBlockThreads));

  Scratch& s = scratch();
  const uint32_t n = static_cast<uint32_t>(perBlock);
  const uint32_t numWarps = (n + kWarpSize - 1) / kWarpSize;
  if (s.warps.size() < numWarps) s.warps.resize(numWarps);
  s.dynamicShared.assign(shape.dynamicSharedBytes + 16, 0);
  void* dyn = reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(s.dynamicShared.data()) + 15) & ~uintptr_t(15));

  std::string error;
  const KernelInfo* outer = tKernel;
  tKernel = &kernel;
  for (uint64_t k = 0; k < blocks && error.empty(); k++) {
    const uint64_t linear = opt.order == Order::Reverse ? blocks - 1 - k : k;
    Block b;
    b.kernel = &kernel;
    b.body = &body;
    b.index = Dim3{static_cast<uint32_t>(linear % g.x), static_cast<uint32_t>((linear / g.x) % g.y),
                   static_cast<uint32_t>(linear / ((uint64_t)g.x * g.y))};
    b.threadsMode = opt.mode == Mode::Threads;
    b.total = b.live = n;
    b.error = &error;
    b.dynamicShared = dyn;
    b.dynamicSharedBytes = shape.dynamicSharedBytes;
    // Fresh per-thread and per-warp state (the vectors are reused to avoid reallocating).
    s.threads.reset(n);
    for (uint32_t i = 0; i < n; i++) {
      ThreadState& t = s.threads[i];
      t.state = State::NotStarted;
      t.wait = Wait::None;
      t.fiber.stack = nullptr;
      t.index.thread = Dim3{i % d.x, (i / d.x) % d.y, i / (d.x * d.y)};
      t.index.block = b.index;
      t.index.blockDim = d;
      t.index.gridDim = g;
      t.index.linear = i;
      t.index.lane = i % kWarpSize;
      t.index.warp = i / kWarpSize;
      t.block = &b;
    }
    for (uint32_t w = 0; w < numWarps; w++) {
      WarpState& ws = s.warps[w];
      const uint32_t lanes = std::min(kWarpSize, n - w * kWarpSize);
      ws.existing = lanes == kWarpSize ? 0xffffffffu : ((1u << lanes) - 1);
      ws.exited = 0;
      ws.inUse = 0;
    }
    b.threads = &s.threads;
    b.warps = &s.warps;
    poisonGroupShared(dyn, shape.dynamicSharedBytes);
    if (b.threadsMode) runBlockThreads(b, opt, s.workers);
    else runBlockFibers(b, opt, s.pool);
  }
  tKernel = outer;
  if (!error.empty()) {
    result.ok = false;
    result.error = error;
  }
  return result;
}

}  // namespace inkling::emu
