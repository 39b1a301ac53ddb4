// Cooperative fibers for the emulator's threads: a context switch that saves only the callee-saved
// registers (x86-64 and AArch64 assembly; ucontext elsewhere, ~100x slower because glibc's
// swapcontext makes a signal-mask system call on every switch), stacks from a pool with a
// PROT_NONE guard page at the bottom, and AddressSanitizer's fiber annotations.
#pragma once
#include <cstddef>
#include <vector>

namespace inkling::emu {

class FiberStack {
 public:
  explicit FiberStack(size_t bytes);
  ~FiberStack();
  FiberStack(const FiberStack&) = delete;
  FiberStack& operator=(const FiberStack&) = delete;
  void* bottom() const { return base_; }  // lowest usable address (above the guard page)
  size_t size() const { return size_; }

 private:
  void* mapping_;
  size_t mappingBytes_;
  void* base_;
  size_t size_;
};

/** One execution context. A fiber starts in entry(arg) and must never return from it: it ends by
 *  switching away for good. */
class Fiber {
 public:
  using Entry = void (*)(void* arg);
  Fiber() = default;
  /** Prepares to run entry(arg) on `stack` at the first switchTo. */
  void prepare(FiberStack* stack, Entry entry, void* arg);

  /** Saves the caller in `from` and resumes `to`. */
  static void switchTo(Fiber& from, Fiber& to);
  /** The first thing a fiber's entry does: completes the switch from `origin` (the scheduler). */
  static void onStart(Fiber& origin);
  /** The last thing a fiber does: leaves for `to` and is never resumed. */
  [[noreturn]] static void exitTo(Fiber& from, Fiber& to);

  // Implementation state, public for the assembly trampolines.
  void* sp = nullptr;                 // saved stack pointer (assembly switch)
  void* ucontextStorage = nullptr;    // ucontext_t when the assembly switch is unavailable
  FiberStack* stack = nullptr;        // null for the scheduler's own (OS thread) context
  Entry entry = nullptr;
  void* arg = nullptr;
  void* asanFakeStack = nullptr;
  const void* asanStackBottom = nullptr;
  size_t asanStackSize = 0;
  ~Fiber();
};

/** Stacks reused across blocks and launches (per OS thread). */
class FiberStackPool {
 public:
  FiberStack* take(size_t bytes);
  void give(FiberStack* s);
  ~FiberStackPool();

 private:
  std::vector<FiberStack*> free_;
};

}  // namespace inkling::emu
