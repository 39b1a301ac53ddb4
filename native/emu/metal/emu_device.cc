// The emulator's Device (native/metal/host/device.h): the C++ dispatcher that replaces the
// Objective-C++ layer (native/metal/addon/metal_device.mm) for metal-emu. Everything above it — the
// N-API surface, the launchers (native/metal/host/) and the TypeScript backend — is the code a Mac
// runs; the kernels are the real native/metal/*.metal sources compiled as C++ (msl.h, prepass.mjs).
//
// Memory: each buffer is a core device allocation (guard zones, poisoned with NaN when fresh);
// handles are (id << 32 | byte offset) as on Metal. Work runs at dispatch time, synchronously and
// in call order, so uploads, copies and downloads are plain copies and a download's completion is
// immediate. A dispatch binds buffers by index (checked against the kernel's [[buffer(n)]]
// parameters: a launcher binding the wrong number fails with the kernel's name), runs the kernel on
// the SIMT core (INKLING_EMU_MODE / INKLING_EMU_ORDER apply), then checks every allocation's guards
// and reports a damaged one with the kernel that damaged it. Scratch lives until the next
// download or flush, as it lives until its command buffer completes on Metal. No MPS here:
// INKLING_METAL_GEMM=mps falls back to the simdgroup kernel.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include "../../metal/host/device.h"
#include "../core/device_memory.h"
#include "../core/simt.h"
#include "msl_registry.h"

namespace inkling::metal {
namespace {

class EmuDevice;

class EmuEncoder final : public Encoder {
 public:
  explicit EmuEncoder(EmuDevice& d) : d_(d) {}
  void dispatch(const char* kernel, const Handle* buffers, int count, const void* args, size_t argBytes, Grid groups,
                uint32_t threads) override;
  Handle scratch(size_t bytes) override;
  bool mpsMatmul(Handle, Handle, Handle, int, int, int, bool, bool) override { return false; }

 private:
  EmuDevice& d_;
};

struct Buffer {
  void* base;
  size_t bytes;
};

class EmuDevice final : public Device {
 public:
  EmuDevice() : encoder_(*this) {}
  ~EmuDevice() override { dispose(); }

  DeviceInfo info() const override {
    return DeviceInfo{"metal-emu: native/metal kernels on the SIMT emulator (CPU)", true, uint64_t(1) << 32,
                      uint64_t(4) << 30, false};
  }

  Handle alloc(size_t bytes) override {
    check();
    if (bytes >= (size_t(1) << 32)) throw MetalError("metal-emu: buffers of 4 GiB or more are not supported");
    void* p = emu::deviceAlloc(bytes);
    std::memset(p, 0, bytes);  // as the Metal device: a new buffer is zero-filled
    const uint32_t id = nextId_++;
    buffers_[id] = Buffer{p, bytes};
    return makeHandle(id, 0);
  }

  void free(Handle h) override {
    check();
    auto it = buffers_.find(handleId(h));
    if (it == buffers_.end()) throw MetalError("metal-emu: free of a buffer that is not live");
    emu::deviceFree(it->second.base);
    buffers_.erase(it);
  }

  void upload(Handle dst, const void* src, size_t bytes) override {
    check();
    if (bytes) std::memcpy(range(dst, bytes, "upload"), src, bytes);
  }

  void copy(Handle src, Handle dst, size_t bytes) override {
    check();
    if (bytes) std::memmove(range(dst, bytes, "copy"), range(src, bytes, "copy"), bytes);
  }

  uint32_t beginDownload(Handle src, size_t bytes) override {
    check();
    std::vector<unsigned char> staged(bytes);
    if (bytes) std::memcpy(staged.data(), range(src, bytes, "download"), bytes);
    releaseScratch();  // the "command buffer" ends here
    const uint32_t id = nextDownload_++;
    downloads_[id] = std::move(staged);
    return id;
  }

  bool poll(uint32_t id) override {
    if (!downloads_.count(id)) throw MetalError("metal-emu: unknown readback " + std::to_string(id));
    return true;
  }

  void finishDownload(uint32_t id, void* dst) override {
    auto it = downloads_.find(id);
    if (it == downloads_.end()) return;
    if (dst && !it->second.empty()) std::memcpy(dst, it->second.data(), it->second.size());
    downloads_.erase(it);
  }

  Encoder& encoder() override {
    check();
    return encoder_;
  }

  void dispose() override {
    if (disposed_) return;
    disposed_ = true;
    releaseScratch();
    for (auto& [id, b] : buffers_) emu::deviceFree(b.base);
    buffers_.clear();
    downloads_.clear();
  }

  /** The host address of [h, h + bytes), checked to lie inside its buffer. */
  unsigned char* range(Handle h, size_t bytes, const char* what) {
    auto it = buffers_.find(handleId(h));
    if (it == buffers_.end()) throw MetalError(std::string("metal-emu: ") + what + " of a buffer that is not live");
    if (size_t(handleOffset(h)) + bytes > it->second.bytes) {
      throw MetalError(std::string("metal-emu: ") + what + " of " + std::to_string(bytes) + " bytes at offset " +
                       std::to_string(handleOffset(h)) + " runs past the buffer's " + std::to_string(it->second.bytes) + " bytes");
    }
    return static_cast<unsigned char*>(it->second.base) + handleOffset(h);
  }

  Handle scratch(size_t bytes) {
    const Handle h = alloc(bytes);
    scratch_.push_back(h);
    return h;
  }

 private:
  void check() const {
    if (disposed_) throw MetalError("metal-emu backend: used after dispose()");
  }
  void releaseScratch() {
    for (Handle h : scratch_) {
      auto it = buffers_.find(handleId(h));
      if (it != buffers_.end()) {
        emu::deviceFree(it->second.base);
        buffers_.erase(it);
      }
    }
    scratch_.clear();
  }

  EmuEncoder encoder_;
  std::unordered_map<uint32_t, Buffer> buffers_;
  std::unordered_map<uint32_t, std::vector<unsigned char>> downloads_;
  std::vector<Handle> scratch_;
  uint32_t nextId_ = 1, nextDownload_ = 1;
  bool disposed_ = false;
};

void EmuEncoder::dispatch(const char* kernel, const Handle* buffers, int count, const void* args, size_t argBytes, Grid groups,
                          uint32_t threads) {
  const msl_emu::KernelEntry* entry = msl_emu::findKernel(kernel);
  if (!entry) throw MetalError(std::string("metal-emu: no kernel named ") + kernel + " in the library");
  if (entry->bufferParams != count + 1) {
    throw MetalError(std::string("metal-emu: ") + kernel + " declares " + std::to_string(entry->bufferParams) +
                     " [[buffer(n)]] parameters, the launcher bound " + std::to_string(count) + " buffers and an argument block");
  }
  msl_emu::BoundArgs bound;
  for (int i = 0; i < count; i++) bound.buffers.push_back(d_.range(buffers[i], 0, kernel));
  bound.bytes.assign(static_cast<const unsigned char*>(args), static_cast<const unsigned char*>(args) + argBytes);
  emu::LaunchShape shape;
  shape.grid = emu::Dim3{groups.x, groups.y, groups.z};
  shape.block = emu::Dim3{threads, 1, 1};
  const auto t0 = std::chrono::steady_clock::now();
  const emu::LaunchResult r = emu::launch(emu::KernelInfo{kernel, emu::SourceSite{entry->file, entry->line}}, shape,
                                          [&] { entry->invoke(bound); }, emu::optionsFromEnvironment());
  if (!r.ok) throw MetalError("metal-emu: " + r.error);
  // INKLING_METAL_EMU_PROFILE=1: one line per dispatch on stderr (kernel, grid, ms) — where the
  // emulator's time goes, for choosing the stage's shapes.
  static const bool profile = std::getenv("INKLING_METAL_EMU_PROFILE") != nullptr;
  if (profile) {
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "metal-emu %-24s grid %ux%ux%u × %u  %.2f ms\n", kernel, groups.x, groups.y, groups.z, threads, ms);
  }
  const std::string guards = emu::checkDeviceGuards();
  if (!guards.empty()) throw MetalError(std::string("metal-emu: kernel ") + kernel + " wrote outside its buffers: " + guards);
}

Handle EmuEncoder::scratch(size_t bytes) { return d_.scratch(bytes); }

}  // namespace

std::unique_ptr<Device> createDevice(const std::string&) { return std::make_unique<EmuDevice>(); }

std::string deviceUnavailableReason() { return ""; }

}  // namespace inkling::metal
