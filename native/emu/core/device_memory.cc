// See device_memory.h.
#include "device_memory.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <new>

#include "sanitizers.h"
#include "simt.h"

namespace inkling::emu {
namespace {

// The guard pattern: bytes that no float or int a kernel computes is likely to produce.
constexpr unsigned char kGuardPattern[4] = {0xDE, 0xAD, 0xBE, 0xEF};

struct Allocation {
  void* raw;        // what malloc returned
  size_t bytes;     // user bytes
  uint64_t serial;
};

struct Table {
  std::mutex mu;
  std::map<uintptr_t, Allocation> live;  // user pointer → allocation
  uint64_t nextSerial = 1;
  size_t liveBytes = 0;
};

Table& table() {
  static Table* t = new Table();  // never destroyed: addon teardown may free after static dtors
  return *t;
}

void fillGuard(unsigned char* p) {
  for (size_t i = 0; i < kDeviceGuardBytes; i++) p[i] = kGuardPattern[i % 4];
}

// First and last damaged byte offsets in a guard, or false when intact.
bool damagedRange(const unsigned char* p, size_t* first, size_t* last) {
  bool bad = false;
  for (size_t i = 0; i < kDeviceGuardBytes; i++) {
    if (p[i] != kGuardPattern[i % 4]) {
      if (!bad) *first = i;
      *last = i;
      bad = true;
    }
  }
  return bad;
}

unsigned char* before(uintptr_t user) { return reinterpret_cast<unsigned char*>(user) - kDeviceGuardBytes; }
unsigned char* after(uintptr_t user, size_t bytes) { return reinterpret_cast<unsigned char*>(user) + bytes; }

}  // namespace

void* deviceAlloc(size_t bytes) {
  // [slack to align][guard][user bytes][guard]
  const size_t total = kDeviceAlignment + kDeviceGuardBytes + bytes + kDeviceGuardBytes;
  void* raw = std::malloc(total);
  if (!raw) throw std::bad_alloc();
  uintptr_t user = reinterpret_cast<uintptr_t>(raw) + kDeviceGuardBytes;
  user = (user + kDeviceAlignment - 1) & ~(uintptr_t)(kDeviceAlignment - 1);
  fillGuard(before(user));
  fillGuard(after(user, bytes));
  std::memset(reinterpret_cast<void*>(user), kPoisonByte, bytes);
  asanPoison(before(user), kDeviceGuardBytes);
  asanPoison(after(user, bytes), kDeviceGuardBytes);
  Table& t = table();
  std::lock_guard<std::mutex> lock(t.mu);
  t.live[user] = Allocation{raw, bytes, t.nextSerial++};
  t.liveBytes += bytes;
  return reinterpret_cast<void*>(user);
}

bool deviceFree(void* p) {
  Table& t = table();
  std::lock_guard<std::mutex> lock(t.mu);
  auto it = t.live.find(reinterpret_cast<uintptr_t>(p));
  if (it == t.live.end()) return false;
  asanUnpoison(before(it->first), kDeviceGuardBytes);
  asanUnpoison(after(it->first, it->second.bytes), kDeviceGuardBytes);
  t.liveBytes -= it->second.bytes;
  std::free(it->second.raw);
  t.live.erase(it);
  return true;
}

bool findDeviceAllocation(const void* p, size_t bytes, DeviceAllocation* out) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  Table& t = table();
  std::lock_guard<std::mutex> lock(t.mu);
  auto it = t.live.upper_bound(a);
  if (it == t.live.begin()) return false;
  --it;
  const uintptr_t begin = it->first;
  const size_t size = it->second.bytes;
  if (a < begin || a > begin + size) return false;
  if (bytes > 0 && (a == begin + size || bytes > begin + size - a)) return false;
  if (out) *out = DeviceAllocation{begin, size, it->second.serial};
  return true;
}

std::string describeAllocation(const DeviceAllocation& a) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "device buffer #%llu (%zu bytes at 0x%llx)", (unsigned long long)a.serial, a.bytes,
                (unsigned long long)a.begin);
  return buf;
}

std::string checkDeviceGuards() {
  Table& t = table();
  std::lock_guard<std::mutex> lock(t.mu);
  std::string report;
  for (auto& [user, a] : t.live) {
    const DeviceAllocation info{user, a.bytes, a.serial};
    size_t first = 0, last = 0;
    asanUnpoison(before(user), kDeviceGuardBytes);
    asanUnpoison(after(user, a.bytes), kDeviceGuardBytes);
    if (damagedRange(before(user), &first, &last)) {
      report += "wrote before the start of " + describeAllocation(info) + ": bytes " +
                std::to_string((long long)first - (long long)kDeviceGuardBytes) + " to " +
                std::to_string((long long)last - (long long)kDeviceGuardBytes) + " relative to its start\n";
      fillGuard(before(user));
    }
    if (damagedRange(after(user, a.bytes), &first, &last)) {
      report += "wrote past the end of " + describeAllocation(info) + ": bytes +" + std::to_string(first) + " to +" +
                std::to_string(last) + " after its end\n";
      fillGuard(after(user, a.bytes));
    }
    asanPoison(before(user), kDeviceGuardBytes);
    asanPoison(after(user, a.bytes), kDeviceGuardBytes);
  }
  return report;
}

size_t liveDeviceAllocations() {
  Table& t = table();
  std::lock_guard<std::mutex> lock(t.mu);
  return t.live.size();
}

size_t liveDeviceBytes() {
  Table& t = table();
  std::lock_guard<std::mutex> lock(t.mu);
  return t.liveBytes;
}

}  // namespace inkling::emu
