// The kernel registry as the dispatcher sees it, without msl.h's MSL names (which must not leak
// into host code: msl.h defines `device`, `constant`, `thread` and `kernel` as macros).
#pragma once
#include <functional>
#include <string>
#include <vector>

namespace msl_emu {

struct BoundArgs;

struct KernelEntry {
  std::function<void(const BoundArgs&)> invoke;
  int bufferParams;  // [[buffer(n)]] parameters the kernel declares
  const char* file;
  int line;
};

/** What the dispatcher hands a kernel: its buffers (bound by index) and the argument block. */
struct BoundArgs {
  std::vector<void*> buffers;
  std::vector<unsigned char> bytes;  // the setBytes block, bound at index buffers.size()
};

/** The kernel registered under `name` by a pre-processed .metal file, or null. */
const KernelEntry* findKernel(const std::string& name);

/** Called by the registrations the pre-pass appends to each .metal file. */
void registerKernel(const char* name, KernelEntry entry);

}  // namespace msl_emu
