// The Metal implementation of Device (../host/device.h): one MTLDevice and command queue, the
// kernel library compiled from source at run time, shared-storage buffers on unified memory, one
// command buffer per training step, asynchronous readback through staging buffers, and
// MPSMatrixMultiplication as the selectable GEMM. Objective-C++ with ARC (binding.gyp).
//
// Apple APIs used (developer.apple.com/documentation/metal and /metalperformanceshaders):
//   MTLCreateSystemDefaultDevice, -[MTLDevice newCommandQueue], -[MTLDevice newLibraryWithSource:
//   options:error:] with MTLCompileOptions (languageVersion MTLLanguageVersion3_0, fastMathEnabled
//   NO; mathMode MTLMathModeSafe on macOS 15), -[MTLLibrary newFunctionWithName:], -[MTLDevice
//   newComputePipelineStateWithFunction:error:], MTLComputePipelineState.threadExecutionWidth and
//   .maxTotalThreadsPerThreadgroup, -[MTLDevice newBufferWithLength:options:] with
//   MTLResourceStorageModeShared and -[MTLBuffer contents], -[MTLCommandQueue commandBuffer],
//   -[MTLCommandBuffer computeCommandEncoder] (serial dispatch: each dispatch sees the previous
//   one's writes), -[MTLComputeCommandEncoder setComputePipelineState:], -setBuffer:offset:atIndex:,
//   -setBytes:length:atIndex: (≤ 4 KB), -dispatchThreadgroups:threadsPerThreadgroup:,
//   -endEncoding, -[MTLCommandBuffer blitCommandEncoder] with -copyFromBuffer:sourceOffset:
//   toBuffer:destinationOffset:size:, -[MTLCommandBuffer commit], MTLCommandBuffer.status
//   (MTLCommandBufferStatusCompleted / MTLCommandBufferStatusError) and .error;
//   MPSSupportsMTLDevice, +[MPSMatrixDescriptor matrixDescriptorWithRows:columns:rowBytes:dataType:],
//   -[MPSMatrix initWithBuffer:offset:descriptor:] (macOS 11+), -[MPSMatrixMultiplication
//   initWithDevice:transposeLeft:transposeRight:resultRows:resultColumns:interiorColumns:alpha:beta:]
//   and -encodeToCommandBuffer:leftMatrix:rightMatrix:resultMatrix:.
// Command buffers retain the buffers they reference (the default retainedReferences = YES), so a
// buffer freed while work still uses it lives until that work completes.
//
// Ordering: all work goes into the *current* command buffer in call order; it is committed when a
// download or flush needs it (once per training step, when the loop reads the loss). An upload into a buffer that no unfinished work
// references is a memcpy into its shared storage; otherwise the bytes are staged and copied by a
// blit in the current command buffer, so earlier kernels still see the old contents.
//
// Never compiled in the session that wrote it (no Mac, no Metal headers on Linux): see
// native/metal/README.md, "What is unverified".
#import <Foundation/Foundation.h>
#import <Metal/Metal.h>
#import <MetalPerformanceShaders/MetalPerformanceShaders.h>

#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include "../host/device.h"

namespace inkling::metal {
namespace {

std::string nsString(NSString* s) { return s ? std::string([s UTF8String]) : std::string(); }

class MetalDevice;

/** The Encoder of the current command buffer (host/launch.h). */
class MetalEncoder final : public Encoder {
 public:
  explicit MetalEncoder(MetalDevice& d) : d_(d) {}
  void dispatch(const char* kernel, const Handle* buffers, int count, const void* args, size_t argBytes, Grid groups,
                uint32_t threads) override;
  Handle scratch(size_t bytes) override;
  bool mpsMatmul(Handle a, Handle b, Handle c, int m, int n, int k, bool transA, bool transB) override;

 private:
  MetalDevice& d_;
};

class MetalDevice final : public Device {
 public:
  explicit MetalDevice(const std::string& source) : encoder_(*this) {
    device_ = MTLCreateSystemDefaultDevice();
    if (!device_) throw MetalError("metal backend: MTLCreateSystemDefaultDevice returned no device");
    queue_ = [device_ newCommandQueue];
    MTLCompileOptions* options = [MTLCompileOptions new];
    options.languageVersion = MTLLanguageVersion3_0;  // macOS 13: the deployment target
#if defined(__MAC_OS_X_VERSION_MAX_ALLOWED) && __MAC_OS_X_VERSION_MAX_ALLOWED >= 150000
    if (@available(macOS 15.0, *)) {
      options.mathMode = MTLMathModeSafe;  // IEEE: NaN propagation and exact division as the ref
    } else {
      options.fastMathEnabled = NO;
    }
#else
    options.fastMathEnabled = NO;  // SDKs before macOS 15 have no mathMode
#endif
    NSError* error = nil;
    library_ = [device_ newLibraryWithSource:[NSString stringWithUTF8String:source.c_str()] options:options error:&error];
    if (!library_) throw MetalError("metal backend: the kernel library does not compile: " + nsString(error.localizedDescription));
    for (int k = 0; k < kKernelCount; k++) {
      id<MTLFunction> fn = [library_ newFunctionWithName:[NSString stringWithUTF8String:kKernelNames[k]]];
      if (!fn) throw MetalError(std::string("metal backend: the library has no kernel ") + kKernelNames[k]);
      id<MTLComputePipelineState> pipeline = [device_ newComputePipelineStateWithFunction:fn error:&error];
      if (!pipeline) {
        throw MetalError(std::string("metal backend: no pipeline for ") + kKernelNames[k] + ": " + nsString(error.localizedDescription));
      }
      // The kernels' reductions assume 32-wide SIMD groups (native/metal/common.h) and 256-thread groups.
      if (pipeline.threadExecutionWidth != 32 || pipeline.maxTotalThreadsPerThreadgroup < 256) {
        throw MetalError(std::string("metal backend: ") + kKernelNames[k] + " runs " + std::to_string(pipeline.threadExecutionWidth) +
                         "-wide SIMD groups, at most " + std::to_string(pipeline.maxTotalThreadsPerThreadgroup) +
                         " threads per group; the kernels need 32 and 256");
      }
      pipelines_[kKernelNames[k]] = pipeline;
    }
    mps_ = MPSSupportsMTLDevice(device_);
  }

  ~MetalDevice() override { dispose(); }

  DeviceInfo info() const override {
    return DeviceInfo{nsString(device_.name), bool(device_.hasUnifiedMemory), uint64_t(device_.maxBufferLength),
                      uint64_t(device_.recommendedMaxWorkingSetSize), mps_};
  }

  Handle alloc(size_t bytes) override {
    check();
    if (bytes >= (size_t(1) << 32)) throw MetalError("metal backend: buffers of 4 GiB or more are not supported; split the tensor");
    id<MTLBuffer> buffer = [device_ newBufferWithLength:(bytes ? bytes : 4) options:MTLResourceStorageModeShared];
    if (!buffer) throw MetalError("metal backend: out of memory allocating " + std::to_string(bytes) + " bytes");
    std::memset(buffer.contents, 0, bytes);
    const uint32_t id = nextId_++;
    buffers_[id] = buffer;
    return makeHandle(id, 0);
  }

  void free(Handle h) override {
    check();
    buffers_.erase(handleId(h));  // in-flight command buffers keep their own reference
    lastUse_.erase(handleId(h));
  }

  void upload(Handle dst, const void* src, size_t bytes) override {
    check();
    if (bytes == 0) return;
    id<MTLBuffer> buffer = lookup(dst);
    reap();
    auto use = lastUse_.find(handleId(dst));
    const bool busy = use != lastUse_.end() && use->second > completedSerial_;
    if (!busy) {
      std::memcpy(static_cast<uint8_t*>(buffer.contents) + handleOffset(dst), src, bytes);
      return;
    }
    id<MTLBuffer> staging = [device_ newBufferWithBytes:src length:bytes options:MTLResourceStorageModeShared];
    blitCopy(staging, 0, buffer, handleOffset(dst), bytes);
    markUse(dst);
  }

  void copy(Handle src, Handle dst, size_t bytes) override {
    check();
    if (bytes == 0) return;
    blitCopy(lookup(src), handleOffset(src), lookup(dst), handleOffset(dst), bytes);
    markUse(src);
    markUse(dst);
  }

  uint32_t beginDownload(Handle src, size_t bytes) override {
    check();
    id<MTLBuffer> staging = nil;
    if (bytes) {
      staging = [device_ newBufferWithLength:bytes options:MTLResourceStorageModeShared];
      blitCopy(lookup(src), handleOffset(src), staging, 0, bytes);
      markUse(src);
    }
    id<MTLCommandBuffer> cb = commitCurrent();
    if (!cb) cb = emptyCommitted();
    const uint32_t id = nextDownload_++;
    downloads_[id] = Download{cb, staging, bytes};
    return id;
  }

  bool poll(uint32_t id) override {
    auto it = downloads_.find(id);
    if (it == downloads_.end()) throw MetalError("metal backend: unknown readback " + std::to_string(id));
    const MTLCommandBufferStatus status = it->second.cb.status;
    if (status == MTLCommandBufferStatusError) {
      const std::string why = nsString(it->second.cb.error.localizedDescription);
      downloads_.erase(it);
      throw MetalError("metal backend: the command buffer failed: " + why);
    }
    return status == MTLCommandBufferStatusCompleted;
  }

  void finishDownload(uint32_t id, void* dst) override {
    auto it = downloads_.find(id);
    if (it == downloads_.end()) return;
    if (dst && it->second.bytes) std::memcpy(dst, it->second.staging.contents, it->second.bytes);
    downloads_.erase(it);
    reap();
  }

  Encoder& encoder() override {
    check();
    return encoder_;
  }

  void dispose() override {
    if (disposed_) return;
    disposed_ = true;
    id<MTLCommandBuffer> last = commitCurrent();
    if (last) [last waitUntilCompleted];
    for (auto& f : inflight_) [f.cb waitUntilCompleted];
    inflight_.clear();
    downloads_.clear();
    buffers_.clear();
    scratchPool_.clear();
    pipelines_.clear();
  }

  // ---- for MetalEncoder ----
  id<MTLComputeCommandEncoder> compute() {
    if (!computeEncoder_) computeEncoder_ = [current() computeCommandEncoder];
    return computeEncoder_;
  }
  id<MTLComputePipelineState> pipeline(const char* name) {
    auto it = pipelines_.find(name);
    if (it == pipelines_.end()) throw MetalError(std::string("metal backend: no pipeline named ") + name);
    return it->second;
  }
  id<MTLBuffer> lookup(Handle h) {
    auto it = buffers_.find(handleId(h));
    if (it == buffers_.end()) throw MetalError("metal backend: buffer handle " + std::to_string(handleId(h)) + " is not live");
    return it->second;
  }
  void markUse(Handle h) { lastUse_[handleId(h)] = serial_; }
  void countDispatch() { dispatches_++; }
  Handle scratch(size_t bytes) {
    check();
    const size_t size = bytes < 256 ? 256 : bytes;
    id<MTLBuffer> buffer = nil;
    for (size_t i = 0; i < scratchPool_.size(); i++) {
      if (scratchPool_[i].length >= size && scratchPool_[i].length <= 2 * size) {
        buffer = scratchPool_[i];
        scratchPool_.erase(scratchPool_.begin() + long(i));
        break;
      }
    }
    if (!buffer) buffer = [device_ newBufferWithLength:size options:MTLResourceStorageModeShared];
    if (!buffer) throw MetalError("metal backend: out of memory for " + std::to_string(size) + " bytes of scratch");
    currentScratch_.push_back(buffer);
    const uint32_t id = nextId_++;
    buffers_[id] = buffer;
    scratchIds_.push_back(id);
    return makeHandle(id, 0);
  }
  bool mps() const { return mps_; }
  id<MTLDevice> device() const { return device_; }
  /** MPS encodes into the command buffer itself: the open compute encoder must end first. */
  id<MTLCommandBuffer> commandBufferForMps() {
    endCompute();
    return current();
  }

 private:
  struct Download {
    id<MTLCommandBuffer> cb;
    id<MTLBuffer> staging;
    size_t bytes;
  };
  struct Inflight {
    id<MTLCommandBuffer> cb;
    uint64_t serial;
    std::vector<id<MTLBuffer>> scratch;
  };

  void check() const {
    if (disposed_) throw MetalError("metal backend: used after dispose()");
  }
  id<MTLCommandBuffer> current() {
    if (!commandBuffer_) {
      commandBuffer_ = [queue_ commandBuffer];
      serial_++;
    }
    return commandBuffer_;
  }
  void endCompute() {
    if (computeEncoder_) [computeEncoder_ endEncoding];
    computeEncoder_ = nil;
  }
  void blitCopy(id<MTLBuffer> src, size_t srcOffset, id<MTLBuffer> dst, size_t dstOffset, size_t bytes) {
    endCompute();
    id<MTLBlitCommandEncoder> blit = [current() blitCommandEncoder];
    [blit copyFromBuffer:src sourceOffset:srcOffset toBuffer:dst destinationOffset:dstOffset size:bytes];
    [blit endEncoding];
  }
  /** Commits the current command buffer (if any); its scratch returns to the pool when it completes. */
  id<MTLCommandBuffer> commitCurrent() {
    if (!commandBuffer_) return nil;
    endCompute();
    id<MTLCommandBuffer> cb = commandBuffer_;
    [cb commit];
    for (uint32_t id : scratchIds_) {
      buffers_.erase(id);
      lastUse_.erase(id);
    }
    scratchIds_.clear();
    inflight_.push_back(Inflight{cb, serial_, std::move(currentScratch_)});
    currentScratch_.clear();
    commandBuffer_ = nil;
    dispatches_ = 0;
    return cb;
  }
  id<MTLCommandBuffer> emptyCommitted() {
    id<MTLCommandBuffer> cb = [queue_ commandBuffer];
    [cb commit];
    return cb;
  }
  /** Recycles the scratch of completed command buffers (a queue completes them in order). */
  void reap() {
    size_t done = 0;
    while (done < inflight_.size()) {
      const MTLCommandBufferStatus s = inflight_[done].cb.status;
      if (s != MTLCommandBufferStatusCompleted && s != MTLCommandBufferStatusError) break;
      completedSerial_ = inflight_[done].serial;
      for (id<MTLBuffer> b : inflight_[done].scratch) scratchPool_.push_back(b);
      done++;
    }
    inflight_.erase(inflight_.begin(), inflight_.begin() + long(done));
    if (scratchPool_.size() > 64) scratchPool_.erase(scratchPool_.begin(), scratchPool_.end() - 64);
  }

  MetalEncoder encoder_;
  id<MTLDevice> device_ = nil;
  id<MTLCommandQueue> queue_ = nil;
  id<MTLLibrary> library_ = nil;
  std::unordered_map<std::string, id<MTLComputePipelineState>> pipelines_;
  std::unordered_map<uint32_t, id<MTLBuffer>> buffers_;
  std::unordered_map<uint32_t, uint64_t> lastUse_;  // buffer id → serial of the last command buffer using it
  std::unordered_map<uint32_t, Download> downloads_;
  std::vector<Inflight> inflight_;
  std::vector<id<MTLBuffer>> currentScratch_;
  std::vector<uint32_t> scratchIds_;
  std::vector<id<MTLBuffer>> scratchPool_;
  id<MTLCommandBuffer> commandBuffer_ = nil;
  id<MTLComputeCommandEncoder> computeEncoder_ = nil;
  uint64_t serial_ = 0, completedSerial_ = 0;
  uint32_t nextId_ = 1, nextDownload_ = 1;
  int dispatches_ = 0;
  bool mps_ = false, disposed_ = false;
};

void MetalEncoder::dispatch(const char* kernel, const Handle* buffers, int count, const void* args, size_t argBytes,
                            Grid groups, uint32_t threads) {
  id<MTLComputeCommandEncoder> enc = d_.compute();
  [enc setComputePipelineState:d_.pipeline(kernel)];
  for (int i = 0; i < count; i++) {
    [enc setBuffer:d_.lookup(buffers[i]) offset:handleOffset(buffers[i]) atIndex:NSUInteger(i)];
    d_.markUse(buffers[i]);
  }
  [enc setBytes:args length:argBytes atIndex:NSUInteger(count)];
  [enc dispatchThreadgroups:MTLSizeMake(groups.x, groups.y, groups.z) threadsPerThreadgroup:MTLSizeMake(threads, 1, 1)];
  d_.countDispatch();
}

Handle MetalEncoder::scratch(size_t bytes) { return d_.scratch(bytes); }

bool MetalEncoder::mpsMatmul(Handle a, Handle b, Handle c, int m, int n, int k, bool transA, bool transB) {
  if (!d_.mps()) return false;
  // Row-major matrices as stored: A is [m,k] (or [k,m] when transposed), B [k,n] (or [n,k]).
  MPSMatrixDescriptor* da = [MPSMatrixDescriptor matrixDescriptorWithRows:NSUInteger(transA ? k : m)
                                                                  columns:NSUInteger(transA ? m : k)
                                                                 rowBytes:NSUInteger(transA ? m : k) * sizeof(float)
                                                                 dataType:MPSDataTypeFloat32];
  MPSMatrixDescriptor* db = [MPSMatrixDescriptor matrixDescriptorWithRows:NSUInteger(transB ? n : k)
                                                                  columns:NSUInteger(transB ? k : n)
                                                                 rowBytes:NSUInteger(transB ? k : n) * sizeof(float)
                                                                 dataType:MPSDataTypeFloat32];
  MPSMatrixDescriptor* dc = [MPSMatrixDescriptor matrixDescriptorWithRows:NSUInteger(m)
                                                                  columns:NSUInteger(n)
                                                                 rowBytes:NSUInteger(n) * sizeof(float)
                                                                 dataType:MPSDataTypeFloat32];
  MPSMatrix* ma = [[MPSMatrix alloc] initWithBuffer:d_.lookup(a) offset:handleOffset(a) descriptor:da];
  MPSMatrix* mb = [[MPSMatrix alloc] initWithBuffer:d_.lookup(b) offset:handleOffset(b) descriptor:db];
  MPSMatrix* mc = [[MPSMatrix alloc] initWithBuffer:d_.lookup(c) offset:handleOffset(c) descriptor:dc];
  MPSMatrixMultiplication* mm = [[MPSMatrixMultiplication alloc] initWithDevice:d_.device()
                                                                  transposeLeft:transA
                                                                 transposeRight:transB
                                                                     resultRows:NSUInteger(m)
                                                                  resultColumns:NSUInteger(n)
                                                                interiorColumns:NSUInteger(k)
                                                                          alpha:1.0
                                                                           beta:0.0];
  [mm encodeToCommandBuffer:d_.commandBufferForMps() leftMatrix:ma rightMatrix:mb resultMatrix:mc];
  d_.markUse(a);
  d_.markUse(b);
  d_.markUse(c);
  d_.countDispatch();
  return true;
}

}  // namespace

std::unique_ptr<Device> createDevice(const std::string& librarySource) {
  @autoreleasepool {
    return std::make_unique<MetalDevice>(librarySource);
  }
}

std::string deviceUnavailableReason() {
  @autoreleasepool {
    id<MTLDevice> device = MTLCreateSystemDefaultDevice();
    return device ? std::string() : std::string("MTLCreateSystemDefaultDevice returned no device (no Metal-capable GPU)");
  }
}

}  // namespace inkling::metal
