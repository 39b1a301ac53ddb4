// The block scheduler, the barrier and the warp collectives (see simt.h).
//
// All synchronisation state of a block lives in `Block` and changes under its lock (a real mutex
// in OS-thread mode, nothing in fiber mode where only one thread runs at a time). A thread that
// must wait marks itself Waiting; whoever completes what it waits for (the last arrival at a
// barrier or collective) marks it Runnable again. In fiber mode the scheduler resumes Runnable
// threads pass after pass in the chosen order, and a pass in which no thread could run while some
// still wait is a deadlock. In OS-thread mode the same state is checked when a thread starts to
// wait: if every live thread is waiting, nobody can wake them. After any error the launch is
// aborted: every waiting thread is woken and unwinds by exception, threads not yet started never
// start, and launch() returns the first error.
#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "fiber.h"
#include "sanitizers.h"
#include "simt.h"

extern "C" {
// Bounds of the group-shared section, defined by the linker when INKLING_EMU_GROUP_SHARED is used.
extern char __start_inkling_emu_group_shared[] __attribute__((weak, visibility("hidden")));
extern char __stop_inkling_emu_group_shared[] __attribute__((weak, visibility("hidden")));
}

namespace inkling::emu {
namespace {

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
  std::vector<ThreadState>* threads = nullptr;
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
  std::condition_variable cv;
  Fiber scheduler;
  void* dynamicShared = nullptr;
  size_t dynamicSharedBytes = 0;
};

thread_local ThreadState* tSelf = nullptr;
thread_local const KernelInfo* tKernel = nullptr;

// ---------------------------------------------------------------- messages

const char* shortPath(const char* file) {
  // Paths as __FILE__ spells them may be absolute; keep them from "native/" on.
  const char* n = std::strstr(file, "native/");
  return n ? n : file;
}

std::string siteText(SourceSite s) { return std::string(shortPath(s.file)) + ":" + std::to_string(s.line); }

bool sameSite(SourceSite a, SourceSite b) {
  return a.line == b.line && (a.file == b.file || std::strcmp(a.file, b.file) == 0);
}

std::string dimText(Dim3 d) {
  return "(" + std::to_string(d.x) + "," + std::to_string(d.y) + "," + std::to_string(d.z) + ")";
}

std::string threadText(const ThreadIndex& t) { return "thread " + std::to_string(t.linear) + " " + dimText(t.thread); }

// "0-31, 64, 96-127" from a sorted list of indices.
std::string ranges(const std::vector<uint32_t>& ids) {
  std::string out;
  for (size_t i = 0; i < ids.size();) {
    size_t j = i;
    while (j + 1 < ids.size() && ids[j + 1] == ids[j] + 1) j++;
    if (!out.empty()) out += ", ";
    out += std::to_string(ids[i]);
    if (j > i) out += "-" + std::to_string(ids[j]);
    i = j + 1;
  }
  return out;
}

std::string laneList(uint32_t mask) {
  std::vector<uint32_t> ids;
  for (uint32_t l = 0; l < kWarpSize; l++)
    if (mask & (1u << l)) ids.push_back(l);
  return ranges(ids);
}

std::string hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

std::string prefix(const Block& b) {
  return "inkling emulator: kernel " + b.kernel->name + " (launched at " + siteText(b.kernel->launchSite) + "), block " +
         dimText(b.index) + ": ";
}

// Every waiting thread, grouped by what it waits for and where.
std::string describeWaiters(const Block& b) {
  struct Group {
    Wait wait;
    SourceSite site;
    const char* what;
    std::vector<uint32_t> ids;
  };
  std::vector<Group> groups;
  for (const ThreadState& t : *b.threads) {
    if (t.state != State::Waiting) continue;
    auto it = std::find_if(groups.begin(), groups.end(), [&](const Group& g) {
      return g.wait == t.wait && sameSite(g.site, t.site) && std::strcmp(g.what, t.what) == 0;
    });
    if (it == groups.end()) groups.push_back(Group{t.wait, t.site, t.what, {t.index.linear}});
    else it->ids.push_back(t.index.linear);
  }
  std::string out;
  for (const Group& g : groups) {
    if (!out.empty()) out += "; ";
    const char* verb = g.wait == Wait::Barrier ? "wait at the block barrier" : g.wait == Wait::Drain ? "wait for their warp's previous collective to drain" : "wait in";
    out += (g.ids.size() == 1 ? "thread " : "threads ") + ranges(g.ids) + " " + verb +
           (g.wait == Wait::Collective ? std::string(" ") + g.what : "") + " at " + siteText(g.site);
  }
  return out.empty() ? "no thread waits" : out;
}

// ---------------------------------------------------------------- locking and waiting

std::unique_lock<std::mutex> lockBlock(Block& b) {
  std::unique_lock<std::mutex> lk(b.mu, std::defer_lock);
  if (b.threadsMode) lk.lock();
  return lk;
}

// Records the first error and aborts the block (caller holds the lock).
void abortWith(Block& b, const std::string& message) {
  if (!b.aborted) {
    b.aborted = true;
    if (b.error->empty()) *b.error = prefix(b) + message;
  }
  if (b.threadsMode) b.cv.notify_all();
}

[[noreturn]] void raise(Block& b, const std::string& message) {
  abortWith(b, message);
  throw LaunchAborted{};
}

void wake(Block& b, ThreadState& t) {
  if (t.state != State::Waiting) return;
  t.state = State::Runnable;
  t.wait = Wait::None;
  b.waiting--;
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
      b.cv.wait(lk, [&] { return t.state != State::Waiting || b.aborted; });
    } else {
      Fiber::switchTo(t.fiber, b.scheduler);  // the scheduler resumes us when woken (or aborted)
    }
    if (b.aborted) throw LaunchAborted{};
  }
}

ThreadState& current() {
  if (!tSelf) {
    std::fprintf(stderr, "inkling emulator: a kernel-only function was called outside a kernel\n");
    std::abort();
  }
  return *tSelf;
}

// ---------------------------------------------------------------- thread lifecycle

void onExit(Block& b, ThreadState& t, bool normally) {
  t.state = State::Finished;
  b.live--;
  if (b.aborted || !normally) {
    if (b.threadsMode) b.cv.notify_all();
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
    b.cv.notify_all();
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
  std::vector<ThreadState>& threads = *b.threads;
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

void runBlockThreads(Block& b, const Options& opt) {
  std::vector<ThreadState>& threads = *b.threads;
  std::vector<std::thread> workers;
  workers.reserve(b.total);
  const KernelInfo* kernel = b.kernel;
  try {
    for (uint32_t k = 0; k < b.total; k++) {
      ThreadState& t = threads[opt.order == Order::Reverse ? b.total - 1 - k : k];
      {
        auto lk = lockBlock(b);
        t.state = State::Runnable;
      }
      workers.emplace_back([&t, kernel] {
        tSelf = &t;
        tKernel = kernel;
        runThread(t);
        tSelf = nullptr;
        tKernel = nullptr;
      });
    }
  } catch (const std::system_error& e) {
    auto lk = lockBlock(b);
    for (ThreadState& t : threads) {
      if (t.state != State::NotStarted) continue;
      t.state = State::Finished;
      b.live--;
    }
    abortWith(b, std::string("could not start an OS thread per emulated thread (") + e.what() +
                     "); OS-thread mode is for tiny shapes");
  }
  for (std::thread& w : workers) w.join();
}

// Group-shared memory: the static section and the dynamic buffer get the poison byte.
void poisonGroupShared(void* dynamic, size_t dynamicBytes) {
  char* begin = __start_inkling_emu_group_shared;
  char* end = __stop_inkling_emu_group_shared;
  if (begin && end > begin) std::memset(begin, kPoisonByte, static_cast<size_t>(end - begin));
  if (dynamicBytes) std::memset(dynamic, kPoisonByte, dynamicBytes);
}

struct Scratch {
  std::vector<ThreadState> threads;
  std::vector<WarpState> warps;
  std::vector<unsigned char> dynamicShared;
  FiberStackPool pool;
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

}  // namespace

// ---------------------------------------------------------------- public API

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
    if (s.threads.size() != n) s.threads.resize(n);
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
    if (b.threadsMode) runBlockThreads(b, opt);
    else runBlockFibers(b, opt, s.pool);
  }
  tKernel = outer;
  if (!error.empty()) {
    result.ok = false;
    result.error = error;
  }
  return result;
}

const ThreadIndex& self() { return current().index; }

void barrier(SourceSite site) {
  ThreadState& t = current();
  Block& b = *t.block;
  auto lk = lockBlock(b);
  if (b.aborted) throw LaunchAborted{};
  if (b.exited > 0) {
    std::vector<uint32_t> gone;
    for (const ThreadState& o : *b.threads)
      if (o.state == State::Finished) gone.push_back(o.index.linear);
    raise(b, threadText(t.index) + " reached the block barrier at " + siteText(site) + " after threads " + ranges(gone) +
                 " exited (returned) without reaching it: a barrier must be reached by every thread of the block");
  }
  if (b.barrierArrived == 0) {
    b.barrierSite = site;
  } else if (!sameSite(site, b.barrierSite)) {
    raise(b, "divergent barrier: " + threadText(t.index) + " arrives at " + siteText(site) + " while " + describeWaiters(b) +
                 " (every thread must reach the same barrier)");
  }
  t.site = site;
  if (++b.barrierArrived == b.total) {
    b.barrierArrived = 0;
    b.barrierGeneration++;
    for (ThreadState& o : *b.threads)
      if (o.state == State::Waiting && o.wait == Wait::Barrier) wake(b, o);
    if (b.threadsMode) b.cv.notify_all();
    return;
  }
  const uint64_t generation = b.barrierGeneration;
  waitUntil(b, t, lk, Wait::Barrier, site, "barrier", [&] { return b.barrierGeneration != generation; });
}

void warpExchange(const Collective& c, const void* mine, size_t bytes, void* all) {
  ThreadState& t = current();
  Block& b = *t.block;
  const uint32_t lane = t.index.lane, bit = 1u << lane;
  auto lk = lockBlock(b);
  if (b.aborted) throw LaunchAborted{};
  WarpState& w = (*b.warps)[t.index.warp];
  auto who = [&] { return threadText(t.index) + " (warp " + std::to_string(t.index.warp) + ", lane " + std::to_string(lane) + ")"; };
  if (bytes > kMaxExchangeBytes) raise(b, std::string(c.name) + " exchanges " + std::to_string(bytes) + " bytes per lane, more than the emulator's " + std::to_string(kMaxExchangeBytes));
  if (!(c.mask & bit)) raise(b, who() + " calls " + c.name + " at " + siteText(c.site) + " with mask " + hex(c.mask) + ", which does not include itself");
  if (c.mask & ~w.existing) raise(b, who() + " calls " + c.name + " at " + siteText(c.site) + " with mask " + hex(c.mask) + ", but lanes " + laneList(c.mask & ~w.existing) + " do not exist in this block (" + std::to_string(b.total) + " threads)");
  if (c.mask & w.exited) raise(b, who() + " calls " + c.name + " at " + siteText(c.site) + " with mask " + hex(c.mask) + ", but lanes " + laneList(c.mask & w.exited) + " have exited");

  // A complete collective overlapping ours must drain (every lane read its result) first.
  auto overlapping = [&]() -> OpenCollective* {
    for (uint32_t used = w.inUse; used; used &= used - 1) {
      OpenCollective& oc = w.open[__builtin_ctz(used)];
      if (oc.c.mask & c.mask) return &oc;
    }
    return nullptr;
  };
  waitUntil(b, t, lk, Wait::Drain, c.site, c.name, [&] {
    OpenCollective* oc = overlapping();
    return !oc || !oc->complete;
  });
  OpenCollective* oc = overlapping();
  if (oc) {
    const bool agree = oc->c.mask == c.mask && oc->c.kind == c.kind && oc->c.variant == c.variant &&
                       (!c.aligned || sameSite(oc->c.site, c.site));
    if (!agree) {
      raise(b, "warp " + std::to_string(t.index.warp) + " lanes disagree: lanes " + laneList(oc->arrived) + " are in " + oc->c.name +
                   " at " + siteText(oc->c.site) + " with mask " + hex(oc->c.mask) + ", but " + who() + " calls " + c.name + " at " +
                   siteText(c.site) + " with mask " + hex(c.mask) +
                   (c.aligned ? " (an .aligned collective must be executed at the same site by all its lanes)" : ""));
    }
  } else {
    const int free = __builtin_ctz(~w.inUse);  // masks are disjoint and non-empty: a slot is free
    w.inUse |= 1u << free;
    oc = &w.open[free];
    *oc = OpenCollective{};
    oc->inUse = true;
    oc->c = c;
  }
  std::memcpy(w.slots[lane], mine, bytes);
  oc->arrived |= bit;
  if (oc->arrived == oc->c.mask) {
    oc->complete = true;
    oc->pending = oc->c.mask;
    for (ThreadState& o : *b.threads)
      if (o.state == State::Waiting && o.wait == Wait::Collective && o.index.warp == t.index.warp) wake(b, o);
    if (b.threadsMode) b.cv.notify_all();
  } else {
    waitUntil(b, t, lk, Wait::Collective, c.site, c.name, [&] { return oc->complete; });
  }
  auto* out = static_cast<unsigned char*>(all);
  for (uint32_t l = 0; l < kWarpSize; l++)
    if (oc->c.mask & (1u << l)) std::memcpy(out + l * bytes, w.slots[l], bytes);
  oc->pending &= ~bit;
  if (oc->pending == 0) {
    oc->inUse = false;
    oc->complete = false;
    w.inUse &= ~(1u << (oc - w.open));
    for (ThreadState& o : *b.threads)
      if (o.state == State::Waiting && o.wait == Wait::Drain && o.index.warp == t.index.warp) wake(b, o);
    if (b.threadsMode) b.cv.notify_all();
  }
}

uint32_t liveLanes() {
  ThreadState& t = current();
  Block& b = *t.block;
  auto lk = lockBlock(b);
  const WarpState& w = (*b.warps)[t.index.warp];
  return w.existing & ~w.exited;
}

void* dynamicGroupShared() { return current().block->dynamicShared; }
size_t dynamicGroupSharedBytes() { return current().block->dynamicSharedBytes; }

void fail(const std::string& what, SourceSite site) {
  ThreadState& t = current();
  Block& b = *t.block;
  auto lk = lockBlock(b);
  raise(b, threadText(t.index) + ": " + what + " at " + siteText(site));
}

}  // namespace inkling::emu
