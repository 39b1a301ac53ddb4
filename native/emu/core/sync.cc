// The block barrier and the warp collectives of simt.h (and the other calls a kernel makes).
// Each runs under the block's lock, checks what the hardware would leave undefined (divergence,
// masks, exited threads), and waits through waitUntil (block.h).
#include <cstring>
#include <string>

#include "block.h"

namespace inkling::emu {

using namespace detail;

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
    // "thread 5" for one, as the exit-side report (scheduler.cc) names it: which of the two fires
    // depends on the order the threads ran in, which OS-thread mode does not fix.
    raise(b, threadText(t.index) + " reached the block barrier at " + siteText(site) + (gone.size() == 1 ? " after thread " : " after threads ") + ranges(gone) +
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
    return;
  }
  const uint64_t generation = b.barrierGeneration;
  waitUntil(b, t, lk, Wait::Barrier, site, "barrier", [&] { return b.barrierGeneration != generation; });
}

void warpExchange(const Collective& c, const void* mine, size_t bytes, void* all) { warpExchange(c, mine, bytes, all, 0xffffffffu); }

void warpExchange(const Collective& c, const void* mine, size_t bytes, void* all, uint32_t wanted) {
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
    for (ThreadState& o : warpThreads(b, t.index.warp))
      if (o.state == State::Waiting && o.wait == Wait::Collective) wake(b, o);
  } else {
    waitUntil(b, t, lk, Wait::Collective, c.site, c.name, [&] { return oc->complete; });
  }
  auto* out = static_cast<unsigned char*>(all);
  for (uint32_t copy = oc->c.mask & wanted; copy; copy &= copy - 1) {
    const uint32_t l = static_cast<uint32_t>(__builtin_ctz(copy));
    std::memcpy(out + l * bytes, w.slots[l], bytes);
  }
  oc->pending &= ~bit;
  if (oc->pending == 0) {
    oc->inUse = false;
    oc->complete = false;
    w.inUse &= ~(1u << (oc - w.open));
    for (ThreadState& o : warpThreads(b, t.index.warp))
      if (o.state == State::Waiting && o.wait == Wait::Drain) wake(b, o);
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
