// See fiber.h. The x86-64 switch saves rbx, rbp, r12–r15, MXCSR and the x87 control word (the
// System V callee-saved state) on the old stack, stores the stack pointer, loads the new one and
// pops the same. A new fiber's stack is laid out as if it had called the switch from a
// trampoline, which calls entry(arg) with a 16-byte aligned stack.
#include "fiber.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>

#include "sanitizers.h"

#if defined(__x86_64__) && defined(__linux__)
#define INKLING_EMU_ASM_SWITCH 1
#else
#include <ucontext.h>
#endif

#ifdef INKLING_EMU_ASM_SWITCH
extern "C" void inkling_emu_switch(void** saveSp, void* newSp);
extern "C" void inkling_emu_trampoline();
asm(R"(
  .text
  .globl inkling_emu_switch
  .hidden inkling_emu_switch
  .type inkling_emu_switch, @function
inkling_emu_switch:
  .cfi_startproc
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .cfi_endproc
  .size inkling_emu_switch, .-inkling_emu_switch

  .globl inkling_emu_trampoline
  .hidden inkling_emu_trampoline
  .type inkling_emu_trampoline, @function
inkling_emu_trampoline:
  .cfi_startproc
  .cfi_undefined rip
  movq %r12, %rdi
  callq *%r13
  ud2
  .cfi_endproc
  .size inkling_emu_trampoline, .-inkling_emu_trampoline
)");
#endif

namespace inkling::emu {

FiberStack::FiberStack(size_t bytes) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  size_ = (bytes + page - 1) / page * page;
  mappingBytes_ = size_ + page;
  mapping_ = mmap(nullptr, mappingBytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapping_ == MAP_FAILED) throw std::bad_alloc();
  // The lowest page traps a stack overflow instead of silently overwriting the next stack.
  mprotect(mapping_, page, PROT_NONE);
  base_ = static_cast<char*>(mapping_) + page;
}

FiberStack::~FiberStack() { munmap(mapping_, mappingBytes_); }

FiberStack* FiberStackPool::take(size_t bytes) {
  while (!free_.empty()) {
    FiberStack* s = free_.back();
    free_.pop_back();
    if (s->size() >= bytes) return s;
    delete s;
  }
  return new FiberStack(bytes);
}

void FiberStackPool::give(FiberStack* s) { free_.push_back(s); }

FiberStackPool::~FiberStackPool() {
  for (FiberStack* s : free_) delete s;
}

#ifndef INKLING_EMU_ASM_SWITCH
namespace {
void ucontextEntry(unsigned hi, unsigned lo) {
  Fiber* f = reinterpret_cast<Fiber*>((static_cast<uintptr_t>(hi) << 32) | lo);
  f->entry(f->arg);
  std::abort();  // entries never return
}
}  // namespace
#endif

void Fiber::prepare(FiberStack* s, Entry e, void* a) {
  stack = s;
  entry = e;
  arg = a;
  asanStackBottom = s->bottom();
  asanStackSize = s->size();
#ifdef INKLING_EMU_ASM_SWITCH
  uintptr_t top = (reinterpret_cast<uintptr_t>(s->bottom()) + s->size()) & ~uintptr_t(15);
  auto* slot = reinterpret_cast<uint64_t*>(top);
  // After the switch pops the frame and returns into the trampoline, rsp = top − 16 (aligned).
  slot[-3] = reinterpret_cast<uint64_t>(&inkling_emu_trampoline);  // return address
  slot[-4] = 0;                                                     // rbp: end of the frame chain
  slot[-5] = 0;                                                     // rbx
  slot[-6] = reinterpret_cast<uint64_t>(a);                         // r12 → first argument
  slot[-7] = reinterpret_cast<uint64_t>(e);                         // r13 → callee
  slot[-8] = 0;                                                     // r14
  slot[-9] = 0;                                                     // r15
  uint32_t mxcsr;
  uint16_t fcw;
  asm volatile("stmxcsr %0" : "=m"(mxcsr));
  asm volatile("fnstcw %0" : "=m"(fcw));
  auto* fpState = reinterpret_cast<uint32_t*>(&slot[-10]);
  fpState[0] = mxcsr;
  fpState[1] = fcw;
  sp = &slot[-10];
#else
  auto* uc = static_cast<ucontext_t*>(ucontextStorage);
  if (!uc) ucontextStorage = uc = new ucontext_t();
  getcontext(uc);
  uc->uc_stack.ss_sp = s->bottom();
  uc->uc_stack.ss_size = s->size();
  uc->uc_link = nullptr;
  const uintptr_t self = reinterpret_cast<uintptr_t>(this);
  makecontext(uc, reinterpret_cast<void (*)()>(&ucontextEntry), 2, static_cast<unsigned>(self >> 32),
              static_cast<unsigned>(self & 0xffffffffu));
#endif
}

void Fiber::switchTo(Fiber& from, Fiber& to) {
#ifdef INKLING_EMU_ASAN
  __sanitizer_start_switch_fiber(&from.asanFakeStack, to.asanStackBottom, to.asanStackSize);
#endif
#ifdef INKLING_EMU_ASM_SWITCH
  inkling_emu_switch(&from.sp, to.sp);
#else
  auto* fromUc = static_cast<ucontext_t*>(from.ucontextStorage);
  if (!fromUc) from.ucontextStorage = fromUc = new ucontext_t();
  swapcontext(fromUc, static_cast<ucontext_t*>(to.ucontextStorage));
#endif
#ifdef INKLING_EMU_ASAN
  // Back in `from`: whoever switched here was the other side of the scheduler pair.
  const void* bottom = nullptr;
  size_t size = 0;
  __sanitizer_finish_switch_fiber(from.asanFakeStack, &bottom, &size);
  if (!to.stack) {  // `to` is the scheduler's OS-thread context: remember its bounds
    to.asanStackBottom = bottom;
    to.asanStackSize = size;
  }
#endif
}

void Fiber::onStart(Fiber& origin) {
#ifdef INKLING_EMU_ASAN
  __sanitizer_finish_switch_fiber(nullptr, &origin.asanStackBottom, &origin.asanStackSize);
#else
  (void)origin;
#endif
}

void Fiber::exitTo(Fiber& from, Fiber& to) {
#ifdef INKLING_EMU_ASAN
  __sanitizer_start_switch_fiber(nullptr, to.asanStackBottom, to.asanStackSize);  // frees our fake stack
#endif
#ifdef INKLING_EMU_ASM_SWITCH
  inkling_emu_switch(&from.sp, to.sp);
#else
  auto* fromUc = static_cast<ucontext_t*>(from.ucontextStorage);
  if (!fromUc) from.ucontextStorage = fromUc = new ucontext_t();
  swapcontext(fromUc, static_cast<ucontext_t*>(to.ucontextStorage));
#endif
  std::abort();  // a finished fiber is never resumed
}

Fiber::~Fiber() {
#ifndef INKLING_EMU_ASM_SWITCH
  delete static_cast<ucontext_t*>(ucontextStorage);
#endif
}

}  // namespace inkling::emu
