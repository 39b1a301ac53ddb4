// What the N-API surface (addon_surface.cc) needs from a device: memory addressed by handles
// (launch.h), ordered uploads and copies, asynchronous readback, and the Encoder the launchers
// write into. Implemented twice: with Metal (../addon/metal_device.mm) and by the emulator
// (native/emu/metal/), so the surface and the launchers are one copy for both.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "launch.h"

namespace inkling::metal {

struct DeviceInfo {
  std::string name;          // MTLDevice.name, or the emulator's description
  bool unifiedMemory;        // MTLDevice.hasUnifiedMemory
  uint64_t maxBufferLength;  // MTLDevice.maxBufferLength
  uint64_t workingSetBytes;  // MTLDevice.recommendedMaxWorkingSetSize
  bool mps;                  // MPSSupportsMTLDevice: MPSMatrixMultiplication can run
};

class Device {
 public:
  virtual ~Device() = default;
  virtual DeviceInfo info() const = 0;
  /** A zero-filled buffer of `bytes` (> 0), as a handle with offset 0; ids start at 1. */
  virtual Handle alloc(size_t bytes) = 0;
  virtual void free(Handle buffer) = 0;
  /** In stream order with the kernels already encoded; `src` may be reused once this returns. */
  virtual void upload(Handle dst, const void* src, size_t bytes) = 0;
  virtual void copy(Handle src, Handle dst, size_t bytes) = 0;
  /** Copies `bytes` from `src` into staging after all work encoded so far, and submits that work
   *  (bytes = 0: a flush). Returns an id for poll/finish. */
  virtual uint32_t beginDownload(Handle src, size_t bytes) = 0;
  /** True once the work of `id` has completed; throws with the device's error if it failed. */
  virtual bool poll(uint32_t id) = 0;
  /** Copies the staged bytes of a completed `id` into `dst` (null: just release) and forgets it. */
  virtual void finishDownload(uint32_t id, void* dst) = 0;
  virtual Encoder& encoder() = 0;
  /** Waits for submitted work and releases everything; later calls throw. */
  virtual void dispose() = 0;
};

/** The addon's device: compiles `librarySource` (every .metal file, includes inlined, see
 *  src/nn/backends/metal/library-source.ts) and builds a pipeline for each of kKernelNames.
 *  Throws MetalError with the reason when there is no device or the source does not compile. */
std::unique_ptr<Device> createDevice(const std::string& librarySource);

/** Why no device can be created here, or "" when one can (no compilation). */
std::string deviceUnavailableReason();

/** The handle's buffer id and byte offset. */
inline uint32_t handleId(Handle h) { return uint32_t(h >> 32); }
inline uint32_t handleOffset(Handle h) { return uint32_t(h & 0xffffffffu); }
inline Handle makeHandle(uint32_t id, uint32_t offset) { return (Handle(id) << 32) | offset; }

}  // namespace inkling::metal
