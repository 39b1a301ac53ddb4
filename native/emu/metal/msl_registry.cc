// See msl_registry.h.
#include "msl_registry.h"

#include <map>

namespace msl_emu {
namespace {
std::map<std::string, KernelEntry>& registry() {
  static std::map<std::string, KernelEntry> kernels;  // filled by static initialisers, read after load
  return kernels;
}
}  // namespace

const KernelEntry* findKernel(const std::string& name) {
  auto it = registry().find(name);
  return it == registry().end() ? nullptr : &it->second;
}

void registerKernel(const char* name, KernelEntry entry) { registry()[name] = std::move(entry); }

}  // namespace msl_emu
