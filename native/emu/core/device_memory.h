// Emulated device memory: an allocation table with guard zones.
//
// Every allocation is host memory laid out as [guard | user bytes | guard], the user pointer
// 256-byte aligned (like cudaMalloc). Fresh user bytes are poisoned (kPoisonByte: NaN floats), so
// a kernel that reads memory nothing wrote gets NaN. The guards hold a known pattern; the
// language layer calls checkGuards() after every launch, which names each buffer whose guard
// changed (a write past either end) and restores it.
//
// Under AddressSanitizer the guard zones are also poisoned for ASan, so any read or write into
// them is reported at once with the kernel's stack.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace inkling::emu {

constexpr size_t kDeviceGuardBytes = 256;
constexpr size_t kDeviceAlignment = 256;

/** Allocates `bytes` (0 allowed: a unique pointer with guards), poisoned. Throws std::bad_alloc. */
void* deviceAlloc(size_t bytes);
/** Frees an allocation made by deviceAlloc. False when `p` is not the start of a live one. */
bool deviceFree(void* p);

struct DeviceAllocation {
  uintptr_t begin;
  size_t bytes;
  uint64_t serial;  // 1, 2, ... in allocation order (a stable name in messages)
};

/** The live allocation containing [p, p + bytes), if any (bytes 0: the one containing p, or p
 *  one past its end). */
bool findDeviceAllocation(const void* p, size_t bytes, DeviceAllocation* out);

/** Checks every live allocation's guards; returns one line per damaged guard ("" when intact)
 *  and restores them. */
std::string checkDeviceGuards();

size_t liveDeviceAllocations();
size_t liveDeviceBytes();

/** "buffer #7 (4096 bytes at 0x...)" */
std::string describeAllocation(const DeviceAllocation& a);

}  // namespace inkling::emu
