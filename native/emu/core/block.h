// The state of a running block, shared by the scheduler (scheduler.cc), the barrier and warp
// collectives (sync.cc) and the messages (diagnostics.cc). Internal to the core: a language layer
// uses simt.h only.
//
// All synchronisation state of a block lives in `Block` and changes under its lock (a real mutex
// in OS-thread mode, nothing in fiber mode where only one thread runs at a time). A thread that
// must wait marks itself Waiting; whoever completes what it waits for (the last arrival at a
// barrier or collective) marks it Runnable again (wake). After any error the launch is aborted:
// every waiting thread is woken and unwinds by the LaunchAborted exception.
#pragma once
#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "fiber.h"
#include "simt.h"

namespace inkling::emu::detail {

struct LaunchAborted {};  // unwinds a kernel thread after the launch failed

enum class State : uint8_t { NotStarted, Runnable, Waiting, Finished };
enum class Wait : uint8_t { None, Barrier, Collective, Drain };

struct Block;

struct ThreadState {
  ThreadIndex index{};
  State state = State::NotStarted;
  Wait wait = Wait::None;
  SourceSite site{};            // where it waits, or last synchronised
  const char* what = "";        // the collective's name while waiting in one
  Block* block = nullptr;
  Fiber fiber;
  std::condition_variable cv;   // OS-thread mode: signalled when woken (no thundering herd)
};

// The threads of a block (not a std::vector: a ThreadState holds a condition variable and cannot move).
struct ThreadArray {
  std::unique_ptr<ThreadState[]> items;
  uint32_t count = 0;
  void reset(uint32_t n) {
    if (n != count) items.reset(new ThreadState[n]);
    count = n;
  }
  ThreadState* data() { return items.get(); }
  ThreadState* begin() { return items.get(); }
  ThreadState* end() { return items.get() + count; }
  const ThreadState* begin() const { return items.get(); }
  const ThreadState* end() const { return items.get() + count; }
  ThreadState& operator[](size_t i) { return items[i]; }
};

struct OpenCollective {
  bool inUse = false;
  bool complete = false;
  Collective c{};
  uint32_t arrived = 0;  // lanes that deposited
  uint32_t pending = 0;  // lanes that have yet to read a complete collective
};

struct WarpState {
  uint32_t existing = 0;
  uint32_t exited = 0;
  uint32_t inUse = 0;  // bit i: open[i] is in use
  OpenCollective open[kWarpSize];  // masks of open collectives are disjoint: at most 32
  alignas(16) unsigned char slots[kWarpSize][kMaxExchangeBytes];
};

struct Block {
  const KernelInfo* kernel = nullptr;
  const std::function<void()>* body = nullptr;
  Dim3 index{};
  bool threadsMode = false;
  ThreadArray* threads = nullptr;
  std::vector<WarpState>* warps = nullptr;
  uint32_t total = 0;
  uint32_t live = 0;     // not finished
  uint32_t waiting = 0;
  uint32_t exited = 0;   // finished normally (not by abort)
  // the block barrier
  uint32_t barrierArrived = 0;
  SourceSite barrierSite{};
  uint64_t barrierGeneration = 0;
  bool aborted = false;
  std::string* error = nullptr;
  std::mutex mu;
  Fiber scheduler;
  void* dynamicShared = nullptr;
  size_t dynamicSharedBytes = 0;
};

/** The emulated thread running on this OS thread (null outside a kernel), and its kernel. */
extern thread_local ThreadState* tSelf;
extern thread_local const KernelInfo* tKernel;

// ---------------------------------------------------------------- messages (diagnostics.cc)

std::string siteText(SourceSite s);
bool sameSite(SourceSite a, SourceSite b);
std::string dimText(Dim3 d);
std::string threadText(const ThreadIndex& t);
/** "0-31, 64, 96-127" from a sorted list of indices. */
std::string ranges(const std::vector<uint32_t>& ids);
std::string laneList(uint32_t mask);
std::string hex(uint32_t v);
/** "inkling emulator: kernel K (launched at file:line), block (x,y,z): " */
std::string prefix(const Block& b);
/** Every waiting thread, grouped by what it waits for and where. */
std::string describeWaiters(const Block& b);

// ---------------------------------------------------------------- locking and waiting

inline std::unique_lock<std::mutex> lockBlock(Block& b) {
  std::unique_lock<std::mutex> lk(b.mu, std::defer_lock);
  if (b.threadsMode) lk.lock();
  return lk;
}

inline void notifyAll(Block& b) {
  for (ThreadState& t : *b.threads) t.cv.notify_one();
}

// Records the first error and aborts the block (caller holds the lock).
inline void abortWith(Block& b, const std::string& message) {
  if (!b.aborted) {
    b.aborted = true;
    if (b.error->empty()) *b.error = prefix(b) + message;
  }
  if (b.threadsMode) notifyAll(b);
}

[[noreturn]] inline void raise(Block& b, const std::string& message) {
  abortWith(b, message);
  throw LaunchAborted{};
}

inline void wake(Block& b, ThreadState& t) {
  if (t.state != State::Waiting) return;
  t.state = State::Runnable;
  t.wait = Wait::None;
  b.waiting--;
  if (b.threadsMode) t.cv.notify_one();
}

// Blocks the calling thread until ready() holds (caller holds the lock; wakes may be spurious).
template <class Ready>
void waitUntil(Block& b, ThreadState& t, std::unique_lock<std::mutex>& lk, Wait kind, SourceSite site, const char* what,
               Ready ready) {
  while (!ready()) {
    t.state = State::Waiting;
    t.wait = kind;
    t.site = site;
    t.what = what;
    b.waiting++;
    if (b.threadsMode) {
      if (b.waiting == b.live) raise(b, "deadlock: every live thread waits and none can proceed: " + describeWaiters(b));
      t.cv.wait(lk, [&] { return t.state != State::Waiting || b.aborted; });
    } else {
      Fiber::switchTo(t.fiber, b.scheduler);  // the scheduler resumes us when woken (or aborted)
    }
    if (b.aborted) throw LaunchAborted{};
  }
}

// The threads of warp w: a contiguous range of the block's threads (linear index order).
struct ThreadRange {
  ThreadState* first;
  ThreadState* last;
  ThreadState* begin() const { return first; }
  ThreadState* end() const { return last; }
};
inline ThreadRange warpThreads(Block& b, uint32_t warp) {
  ThreadState* base = b.threads->data();
  const uint32_t lo = warp * kWarpSize, hi = std::min(b.total, lo + kWarpSize);
  return ThreadRange{base + lo, base + hi};
}

inline ThreadState& current() {
  if (!tSelf) {
    std::fprintf(stderr, "inkling emulator: a kernel-only function was called outside a kernel\n");
    std::abort();
  }
  return *tSelf;
}

}  // namespace inkling::emu::detail
