// The N-API surface of the Metal backend (node-addon-api, C++ exceptions on: every device or
// compile error is a C++ exception that becomes a JavaScript Error with Metal's own text).
// Plain C++ over the Device interface (device.h): the Metal addon (../addon/metal_device.mm) and
// the emulator's addon (native/emu/metal/) link this same file, so the argument decoding below is
// exercised on Linux too. Argument orders are those of src/nn/backends/device/native-context.ts
// (the cuda addon's); buffers are handles (device.h: id << 32 | byte offset) passed as numbers.
#include <napi.h>

#include <cmath>
#include <memory>

#include "device.h"

namespace {

using inkling::metal::Device;
using inkling::metal::GemmMode;
using inkling::metal::Handle;
using inkling::metal::MetalError;

inline Handle h(const Napi::CallbackInfo& info, size_t i) { return Handle(info[i].As<Napi::Number>().Int64Value()); }
inline int intArg(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int32Value(); }
inline uint64_t countArg(const Napi::CallbackInfo& info, size_t i) {
  const int64_t v = info[i].As<Napi::Number>().Int64Value();
  return v < 0 ? 0 : uint64_t(v);
}
inline float floatArg(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().FloatValue(); }
inline double doubleArg(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().DoubleValue(); }
inline uint32_t u32Arg(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Uint32Value(); }
inline bool boolArg(const Napi::CallbackInfo& info, size_t i) { return info[i].ToBoolean().Value(); }

inkling::metal::ConvShape convArg(const Napi::CallbackInfo& info, size_t i) {
  return {intArg(info, i), intArg(info, i + 1), intArg(info, i + 2), intArg(info, i + 3), intArg(info, i + 4), intArg(info, i + 5),
          intArg(info, i + 6), intArg(info, i + 7), intArg(info, i + 8), intArg(info, i + 9), intArg(info, i + 10)};
}
inkling::metal::PoolShape poolArg(const Napi::CallbackInfo& info, size_t i) {
  return {intArg(info, i), intArg(info, i + 1), intArg(info, i + 2), intArg(info, i + 3), intArg(info, i + 4),
          intArg(info, i + 5), intArg(info, i + 6), intArg(info, i + 7), intArg(info, i + 8)};
}
inkling::metal::BnShape bnArg(const Napi::CallbackInfo& info, size_t i) {
  return {intArg(info, i), intArg(info, i + 1), intArg(info, i + 2), floatArg(info, i + 3), floatArg(info, i + 4)};
}

class MetalContext : public Napi::ObjectWrap<MetalContext> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "MetalContext",
        {
            InstanceMethod<&MetalContext::Info>("info"),
            InstanceMethod<&MetalContext::SetGemm>("setGemm"),
            InstanceMethod<&MetalContext::Dispose>("dispose"),
            InstanceMethod<&MetalContext::Alloc>("alloc"),
            InstanceMethod<&MetalContext::Free>("free"),
            InstanceMethod<&MetalContext::Upload>("upload"),
            InstanceMethod<&MetalContext::Copy>("copy"),
            InstanceMethod<&MetalContext::BeginDownload>("beginDownload"),
            InstanceMethod<&MetalContext::Poll>("poll"),
            InstanceMethod<&MetalContext::FinishDownload>("finishDownload"),
            InstanceMethod<&MetalContext::Fill32>("fill32"),
            InstanceMethod<&MetalContext::Unary>("unary"),
            InstanceMethod<&MetalContext::Binary>("binary"),
            InstanceMethod<&MetalContext::Scale>("scale"),
            InstanceMethod<&MetalContext::Axpy>("axpy"),
            InstanceMethod<&MetalContext::ReluBackward>("reluBackward"),
            InstanceMethod<&MetalContext::ChannelSum>("channelSum"),
            InstanceMethod<&MetalContext::Argmax>("argmax"),
            InstanceMethod<&MetalContext::CountEqual>("countEqual"),
            InstanceMethod<&MetalContext::Matmul>("matmul"),
            InstanceMethod<&MetalContext::Conv2d>("conv2d"),
            InstanceMethod<&MetalContext::Conv2dBackwardInput>("conv2dBackwardInput"),
            InstanceMethod<&MetalContext::Conv2dBackwardWeight>("conv2dBackwardWeight"),
            InstanceMethod<&MetalContext::BatchNormTrain>("batchNormTrain"),
            InstanceMethod<&MetalContext::BatchNormInference>("batchNormInference"),
            InstanceMethod<&MetalContext::BatchNormBackward>("batchNormBackward"),
            InstanceMethod<&MetalContext::MaxPool2d>("maxPool2d"),
            InstanceMethod<&MetalContext::MaxPool2dBackward>("maxPool2dBackward"),
            InstanceMethod<&MetalContext::AvgPool2d>("avgPool2d"),
            InstanceMethod<&MetalContext::AvgPool2dBackward>("avgPool2dBackward"),
            InstanceMethod<&MetalContext::Dropout>("dropout"),
            InstanceMethod<&MetalContext::Softmax>("softmax"),
            InstanceMethod<&MetalContext::SoftmaxCrossEntropy>("softmaxCrossEntropy"),
            InstanceMethod<&MetalContext::SoftmaxCrossEntropyBackward>("softmaxCrossEntropyBackward"),
            InstanceMethod<&MetalContext::SgdStep>("sgdStep"),
            InstanceMethod<&MetalContext::AdamStep>("adamStep"),
        });
  }

  /** new MetalContext(librarySource: string, gemm: 0 simdgroup | 1 mps) */
  explicit MetalContext(const Napi::CallbackInfo& info) : Napi::ObjectWrap<MetalContext>(info) {
    device_ = inkling::metal::createDevice(info[0].As<Napi::String>().Utf8Value());
    gemm_ = intArg(info, 1) == 1 ? GemmMode::Mps : GemmMode::Simdgroup;
  }

 private:
  Device& dev() {
    if (!device_) throw MetalError("metal backend: used after dispose()");
    return *device_;
  }
  inkling::metal::Encoder& enc() { return dev().encoder(); }

  Napi::Value Info(const Napi::CallbackInfo& info) {
    const inkling::metal::DeviceInfo d = dev().info();
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("name", d.name);
    o.Set("unifiedMemory", d.unifiedMemory);
    o.Set("maxBufferLength", double(d.maxBufferLength));
    o.Set("workingSetBytes", double(d.workingSetBytes));
    o.Set("mps", d.mps);
    o.Set("gemm", gemm_ == GemmMode::Mps ? "mps" : "simdgroup");
    return o;
  }
  void SetGemm(const Napi::CallbackInfo& info) { gemm_ = intArg(info, 0) == 1 ? GemmMode::Mps : GemmMode::Simdgroup; }
  void Dispose(const Napi::CallbackInfo&) {
    if (device_) device_->dispose();
    device_.reset();
  }

  Napi::Value Alloc(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), double(dev().alloc(size_t(countArg(info, 0)))));
  }
  void Free(const Napi::CallbackInfo& info) { dev().free(h(info, 0)); }
  void Upload(const Napi::CallbackInfo& info) {
    Napi::TypedArray a = info[1].As<Napi::TypedArray>();
    const uint8_t* src = static_cast<const uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset();
    dev().upload(h(info, 0), src, a.ByteLength());
  }
  void Copy(const Napi::CallbackInfo& info) { dev().copy(h(info, 0), h(info, 1), size_t(countArg(info, 2))); }
  Napi::Value BeginDownload(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), dev().beginDownload(h(info, 0), size_t(countArg(info, 1))));
  }
  Napi::Value Poll(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), dev().poll(u32Arg(info, 0))); }
  void FinishDownload(const Napi::CallbackInfo& info) {
    void* dst = nullptr;
    if (info[1].IsTypedArray()) {
      Napi::TypedArray a = info[1].As<Napi::TypedArray>();
      dst = static_cast<uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset();
    }
    dev().finishDownload(u32Arg(info, 0), dst);
  }

  void Fill32(const Napi::CallbackInfo& i) { launchFill32(enc(), h(i, 0), u32Arg(i, 1), countArg(i, 2)); }
  void Unary(const Napi::CallbackInfo& i) { launchUnary(enc(), intArg(i, 0), h(i, 1), h(i, 2), countArg(i, 3)); }
  void Binary(const Napi::CallbackInfo& i) { launchBinary(enc(), intArg(i, 0), h(i, 1), h(i, 2), h(i, 3), countArg(i, 4)); }
  void Scale(const Napi::CallbackInfo& i) { launchScale(enc(), h(i, 0), floatArg(i, 1), floatArg(i, 2), h(i, 3), countArg(i, 4)); }
  void Axpy(const Napi::CallbackInfo& i) { launchAxpy(enc(), floatArg(i, 0), h(i, 1), h(i, 2), countArg(i, 3)); }
  void ReluBackward(const Napi::CallbackInfo& i) {
    launchReluBackward(enc(), h(i, 0), h(i, 1), h(i, 2), countArg(i, 3), boolArg(i, 4));
  }
  void ChannelSum(const Napi::CallbackInfo& i) {
    launchChannelSum(enc(), h(i, 0), h(i, 1), intArg(i, 2), intArg(i, 3), intArg(i, 4), boolArg(i, 5));
  }
  void Argmax(const Napi::CallbackInfo& i) { launchArgmax(enc(), h(i, 0), h(i, 1), intArg(i, 2), intArg(i, 3)); }
  void CountEqual(const Napi::CallbackInfo& i) { launchCountEqual(enc(), h(i, 0), h(i, 1), h(i, 2), countArg(i, 3), boolArg(i, 4)); }
  void Matmul(const Napi::CallbackInfo& i) {
    launchMatmul(enc(), gemm_, h(i, 0), h(i, 1), h(i, 2), h(i, 3), intArg(i, 4), intArg(i, 5), intArg(i, 6), boolArg(i, 7),
                 boolArg(i, 8), boolArg(i, 9), boolArg(i, 10));
  }
  void Conv2d(const Napi::CallbackInfo& i) { launchConv2d(enc(), h(i, 0), h(i, 1), h(i, 2), h(i, 3), convArg(i, 4), boolArg(i, 15)); }
  void Conv2dBackwardInput(const Napi::CallbackInfo& i) {
    launchConv2dBackwardInput(enc(), h(i, 0), h(i, 1), h(i, 2), convArg(i, 3), boolArg(i, 14));
  }
  void Conv2dBackwardWeight(const Napi::CallbackInfo& i) {
    launchConv2dBackwardWeight(enc(), h(i, 0), h(i, 1), h(i, 2), h(i, 3), convArg(i, 4), boolArg(i, 15));
  }
  void BatchNormTrain(const Napi::CallbackInfo& i) {
    launchBatchNormTrain(enc(), h(i, 0), h(i, 1), h(i, 2), h(i, 3), h(i, 4), h(i, 5), h(i, 6), h(i, 7), bnArg(i, 8), boolArg(i, 13));
  }
  void BatchNormInference(const Napi::CallbackInfo& i) {
    launchBatchNormInference(enc(), h(i, 0), h(i, 1), h(i, 2), h(i, 3), h(i, 4), h(i, 5), bnArg(i, 6), boolArg(i, 11));
  }
  void BatchNormBackward(const Napi::CallbackInfo& i) {
    launchBatchNormBackward(enc(), h(i, 0), h(i, 1), h(i, 2), h(i, 3), h(i, 4), h(i, 5), h(i, 6), h(i, 7), bnArg(i, 8), boolArg(i, 13));
  }
  void MaxPool2d(const Napi::CallbackInfo& i) { launchMaxPool2d(enc(), h(i, 0), h(i, 1), h(i, 2), poolArg(i, 3)); }
  void MaxPool2dBackward(const Napi::CallbackInfo& i) { launchMaxPool2dBackward(enc(), h(i, 0), h(i, 1), h(i, 2), poolArg(i, 3)); }
  void AvgPool2d(const Napi::CallbackInfo& i) { launchAvgPool2d(enc(), h(i, 0), h(i, 1), poolArg(i, 2)); }
  void AvgPool2dBackward(const Napi::CallbackInfo& i) { launchAvgPool2dBackward(enc(), h(i, 0), h(i, 1), poolArg(i, 2)); }
  // dropout(x, out, n, seed, step, keepThreshold, keepScale, spatial, backward, accumulate)
  void Dropout(const Napi::CallbackInfo& i) {
    launchDropout(enc(), h(i, 0), h(i, 1), countArg(i, 2), u32Arg(i, 3), u32Arg(i, 4), u32Arg(i, 5), floatArg(i, 6),
                  countArg(i, 7), boolArg(i, 8) && boolArg(i, 9));
  }
  void Softmax(const Napi::CallbackInfo& i) { launchSoftmax(enc(), h(i, 0), h(i, 1), intArg(i, 2), intArg(i, 3), boolArg(i, 4)); }
  void SoftmaxCrossEntropy(const Napi::CallbackInfo& i) {
    launchSoftmaxCrossEntropy(enc(), h(i, 0), h(i, 1), h(i, 2), h(i, 3), intArg(i, 4), intArg(i, 5), floatArg(i, 6));
  }
  void SoftmaxCrossEntropyBackward(const Napi::CallbackInfo& i) {
    launchSoftmaxCrossEntropyBackward(enc(), h(i, 0), h(i, 1), h(i, 2), h(i, 3), intArg(i, 4), intArg(i, 5), floatArg(i, 6),
                                      boolArg(i, 7));
  }
  // sgdStep(param, grad, velocity, n, lr, momentum, dampening, weightDecay, nesterov)
  void SgdStep(const Napi::CallbackInfo& i) {
    launchSgdStep(enc(), h(i, 0), h(i, 1), h(i, 2), countArg(i, 3), floatArg(i, 4), floatArg(i, 5), floatArg(i, 6),
                  floatArg(i, 7), boolArg(i, 8));
  }
  // adamStep(param, grad, m, v, n, lr, beta1, beta2, eps, weightDecay, decoupled, step)
  void AdamStep(const Napi::CallbackInfo& i) {
    launchAdamStep(enc(), h(i, 0), h(i, 1), h(i, 2), h(i, 3), countArg(i, 4), floatArg(i, 5), doubleArg(i, 6), doubleArg(i, 7),
                   floatArg(i, 8), floatArg(i, 9), boolArg(i, 10), doubleArg(i, 11));
  }

  std::unique_ptr<Device> device_;
  GemmMode gemm_ = GemmMode::Simdgroup;
};

/** unavailableReason(): why this addon has no device here, or null. Compiles nothing. */
Napi::Value UnavailableReason(const Napi::CallbackInfo& info) {
  const std::string why = inkling::metal::deviceUnavailableReason();
  return why.empty() ? info.Env().Null() : Napi::String::New(info.Env(), why);
}

/** kernelNames(): every kernel the library must define (host/launch.cc). */
Napi::Value KernelNames(const Napi::CallbackInfo& info) {
  Napi::Array names = Napi::Array::New(info.Env(), size_t(inkling::metal::kKernelCount));
  for (int k = 0; k < inkling::metal::kKernelCount; k++) names.Set(uint32_t(k), inkling::metal::kKernelNames[k]);
  return names;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("MetalContext", MetalContext::Define(env));
  exports.Set("unavailableReason", Napi::Function::New(env, UnavailableReason));
  exports.Set("kernelNames", Napi::Function::New(env, KernelNames));
  return exports;
}

}  // namespace

NODE_API_MODULE(inkling_metal, Init)
