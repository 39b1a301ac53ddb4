// The emulator's messages: where (file:line), which threads (compressed ranges), what they wait for.
#include <algorithm>
#include <cstdio>
#include <cstring>

#include "block.h"

namespace inkling::emu::detail {

namespace {

const char* shortPath(const char* file) {
  // Paths as __FILE__ spells them may be absolute; keep them from "native/" on.
  const char* n = std::strstr(file, "native/");
  return n ? n : file;
}

}  // namespace

std::string siteText(SourceSite s) { return std::string(shortPath(s.file)) + ":" + std::to_string(s.line); }

bool sameSite(SourceSite a, SourceSite b) {
  return a.line == b.line && (a.file == b.file || std::strcmp(a.file, b.file) == 0);
}

std::string dimText(Dim3 d) {
  return "(" + std::to_string(d.x) + "," + std::to_string(d.y) + "," + std::to_string(d.z) + ")";
}

std::string threadText(const ThreadIndex& t) { return "thread " + std::to_string(t.linear) + " " + dimText(t.thread); }

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

}  // namespace inkling::emu::detail
