// The N-API surface of the cuda backend (node-addon-api, C++ exceptions on: every CUDA error is a
// C++ exception that becomes a JavaScript Error carrying cudaGetErrorString's text).
//
// Loading this module touches no CUDA API: the runtime is linked statically and only dlopens the
// driver (libcuda) on the first call, so `require` works on machines without a GPU and the error
// surfaces from deviceCount() / new CudaContext() instead.
//
// Device pointers cross into JavaScript as numbers (doubles hold 53 bits; x86-64 and arm64 GPU
// virtual addresses use at most 49), and 0 means null. The TS wrapper (src/nn/backends/cuda/)
// validates shapes and lengths before calling in; this layer trusts its arguments.
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <memory>

#include "context.h"

namespace {

using inkling::Context;
using inkling::GemmVariant;

inline void* ptrArg(const Napi::CallbackInfo& info, size_t i) {
  return reinterpret_cast<void*>(static_cast<uintptr_t>(info[i].As<Napi::Number>().Int64Value()));
}
inline float* fptr(const Napi::CallbackInfo& info, size_t i) { return static_cast<float*>(ptrArg(info, i)); }
inline int32_t* iptr(const Napi::CallbackInfo& info, size_t i) { return static_cast<int32_t*>(ptrArg(info, i)); }
inline int intArg(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int32Value(); }
inline long long longArg(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int64Value(); }
inline float floatArg(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().FloatValue(); }
inline uint32_t u32Arg(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Uint32Value(); }
inline bool boolArg(const Napi::CallbackInfo& info, size_t i) { return info[i].ToBoolean().Value(); }
inline Napi::Number ptrValue(Napi::Env env, void* p) {
  return Napi::Number::New(env, static_cast<double>(reinterpret_cast<uintptr_t>(p)));
}

inkling::ConvShape convArg(const Napi::CallbackInfo& info, size_t i) {
  return inkling::ConvShape{intArg(info, i),     intArg(info, i + 1), intArg(info, i + 2), intArg(info, i + 3),
                            intArg(info, i + 4), intArg(info, i + 5), intArg(info, i + 6), intArg(info, i + 7),
                            intArg(info, i + 8), intArg(info, i + 9), intArg(info, i + 10)};
}
inkling::PoolShape poolArg(const Napi::CallbackInfo& info, size_t i) {
  return inkling::PoolShape{intArg(info, i),     intArg(info, i + 1), intArg(info, i + 2),
                            intArg(info, i + 3), intArg(info, i + 4), intArg(info, i + 5),
                            intArg(info, i + 6), intArg(info, i + 7), intArg(info, i + 8)};
}
inkling::BnShape bnArg(const Napi::CallbackInfo& info, size_t i) {
  return inkling::BnShape{intArg(info, i), intArg(info, i + 1), intArg(info, i + 2), floatArg(info, i + 3), floatArg(info, i + 4)};
}

class CudaContext : public Napi::ObjectWrap<CudaContext> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "CudaContext",
        {
            InstanceMethod<&CudaContext::Info>("info"),
            InstanceMethod<&CudaContext::SetGemm>("setGemm"),
            InstanceMethod<&CudaContext::Dispose>("dispose"),
            InstanceMethod<&CudaContext::Alloc>("alloc"),
            InstanceMethod<&CudaContext::Free>("free"),
            InstanceMethod<&CudaContext::Reserved>("reservedBytes"),
            InstanceMethod<&CudaContext::Upload>("upload"),
            InstanceMethod<&CudaContext::CopyD2D>("copy"),
            InstanceMethod<&CudaContext::BeginDownload>("beginDownload"),
            InstanceMethod<&CudaContext::Poll>("poll"),
            InstanceMethod<&CudaContext::FinishDownload>("finishDownload"),
            InstanceMethod<&CudaContext::BeginCapture>("beginCapture"),
            InstanceMethod<&CudaContext::EndCapture>("endCapture"),
            InstanceMethod<&CudaContext::AbortCapture>("abortCapture"),
            InstanceMethod<&CudaContext::Replay>("replay"),
            InstanceMethod<&CudaContext::ReleaseGraph>("releaseGraph"),
            InstanceMethod<&CudaContext::Fill32>("fill32"),
            InstanceMethod<&CudaContext::Unary>("unary"),
            InstanceMethod<&CudaContext::Binary>("binary"),
            InstanceMethod<&CudaContext::Scale>("scale"),
            InstanceMethod<&CudaContext::Axpy>("axpy"),
            InstanceMethod<&CudaContext::ReluBackward>("reluBackward"),
            InstanceMethod<&CudaContext::ChannelSum>("channelSum"),
            InstanceMethod<&CudaContext::Argmax>("argmax"),
            InstanceMethod<&CudaContext::CountEqual>("countEqual"),
            InstanceMethod<&CudaContext::Matmul>("matmul"),
            InstanceMethod<&CudaContext::Conv2d>("conv2d"),
            InstanceMethod<&CudaContext::Conv2dBackwardInput>("conv2dBackwardInput"),
            InstanceMethod<&CudaContext::Conv2dBackwardWeight>("conv2dBackwardWeight"),
            InstanceMethod<&CudaContext::BatchNormTrain>("batchNormTrain"),
            InstanceMethod<&CudaContext::BatchNormInference>("batchNormInference"),
            InstanceMethod<&CudaContext::BatchNormBackward>("batchNormBackward"),
            InstanceMethod<&CudaContext::MaxPool2d>("maxPool2d"),
            InstanceMethod<&CudaContext::MaxPool2dBackward>("maxPool2dBackward"),
            InstanceMethod<&CudaContext::AvgPool2d>("avgPool2d"),
            InstanceMethod<&CudaContext::AvgPool2dBackward>("avgPool2dBackward"),
            InstanceMethod<&CudaContext::Dropout>("dropout"),
            InstanceMethod<&CudaContext::Softmax>("softmax"),
            InstanceMethod<&CudaContext::SoftmaxCrossEntropy>("softmaxCrossEntropy"),
            InstanceMethod<&CudaContext::SoftmaxCrossEntropyBackward>("softmaxCrossEntropyBackward"),
            InstanceMethod<&CudaContext::SgdStep>("sgdStep"),
            InstanceMethod<&CudaContext::AdamStep>("adamStep"),
        });
  }

  // new CudaContext(deviceIndex, gemmVariant: 0 simt | 1 tf32)
  explicit CudaContext(const Napi::CallbackInfo& info) : Napi::ObjectWrap<CudaContext>(info) {
    ctx_ = std::make_unique<Context>(intArg(info, 0), intArg(info, 1) == 1 ? GemmVariant::Tf32 : GemmVariant::Simt);
  }

 private:
  Context& ctx() {
    if (!ctx_) throw inkling::CudaError("cuda backend: used after dispose()");
    return *ctx_;
  }
  // Runs one launcher with a fresh LaunchEnv and returns its scratch afterwards (also on error).
  template <class F>
  void launch(F&& f) {
    Context& c = ctx();
    inkling::LaunchEnv env = c.env();
    try {
      f(env, c.gemmVariant());
    } catch (...) {
      c.endLaunch();
      throw;
    }
    c.endLaunch();
  }

  Napi::Value Info(const Napi::CallbackInfo& info) {
    const auto& d = ctx().info();
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("name", d.name);
    o.Set("computeCapability", std::to_string(d.major) + "." + std::to_string(d.minor));
    o.Set("smCount", d.smCount);
    o.Set("totalMemory", static_cast<double>(d.totalMemory));
    o.Set("driverVersion", d.driverVersion);
    o.Set("runtimeVersion", d.runtimeVersion);
    o.Set("gemm", ctx().gemmVariant() == GemmVariant::Tf32 ? "tf32" : "simt");
    return o;
  }
  void SetGemm(const Napi::CallbackInfo& info) { ctx().setGemmVariant(intArg(info, 0) == 1 ? GemmVariant::Tf32 : GemmVariant::Simt); }
  void Dispose(const Napi::CallbackInfo&) {
    if (ctx_) ctx_->dispose();
    ctx_.reset();
  }

  // ---- memory ----
  Napi::Value Alloc(const Napi::CallbackInfo& info) { return ptrValue(info.Env(), ctx().allocate(static_cast<size_t>(longArg(info, 0)))); }
  void Free(const Napi::CallbackInfo& info) { ctx().release(ptrArg(info, 0)); }
  Napi::Value Reserved(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(ctx().reservedBytes())); }
  // upload(dstPtr, typedArray): the whole array's bytes to dstPtr (the wrapper adds the offset).
  void Upload(const Napi::CallbackInfo& info) {
    Napi::TypedArray a = info[1].As<Napi::TypedArray>();
    const uint8_t* src = static_cast<const uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset();
    ctx().upload(ptrArg(info, 0), src, a.ByteLength());
  }
  void CopyD2D(const Napi::CallbackInfo& info) { ctx().copyDeviceToDevice(ptrArg(info, 1), ptrArg(info, 0), static_cast<size_t>(longArg(info, 2))); }
  // beginDownload(srcPtr, bytes) → id (bytes 0: a flush marker)
  Napi::Value BeginDownload(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), ctx().beginDownload(ptrArg(info, 0), static_cast<size_t>(longArg(info, 1))));
  }
  Napi::Value Poll(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), ctx().poll(u32Arg(info, 0))); }
  // finishDownload(id, typedArray | null)
  void FinishDownload(const Napi::CallbackInfo& info) {
    void* dst = nullptr;
    if (info[1].IsTypedArray()) {
      Napi::TypedArray a = info[1].As<Napi::TypedArray>();
      dst = static_cast<uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset();
    }
    ctx().finishDownload(u32Arg(info, 0), dst);
  }

  // ---- graphs ----
  void BeginCapture(const Napi::CallbackInfo&) { ctx().beginCapture(); }
  void EndCapture(const Napi::CallbackInfo&) { ctx().endCapture(); }
  void AbortCapture(const Napi::CallbackInfo&) { ctx().abortCapture(); }
  void Replay(const Napi::CallbackInfo& info) { ctx().replay(info[0].IsNumber() ? floatArg(info, 0) : NAN); }
  void ReleaseGraph(const Napi::CallbackInfo&) { ctx().releaseGraph(); }

  // ---- kernels (argument order documented in src/nn/backends/cuda/native.ts) ----
  void Fill32(const Napi::CallbackInfo& info) {
    launch([&](auto& env, auto) { inkling::launchFill32(env, static_cast<uint32_t*>(ptrArg(info, 0)), u32Arg(info, 1), longArg(info, 2)); });
  }
  void Unary(const Napi::CallbackInfo& info) {
    launch([&](auto& env, auto) { inkling::launchUnary(env, static_cast<inkling::UnaryOp>(intArg(info, 0)), fptr(info, 1), fptr(info, 2), longArg(info, 3)); });
  }
  void Binary(const Napi::CallbackInfo& info) {
    launch([&](auto& env, auto) {
      inkling::launchBinary(env, static_cast<inkling::BinaryOp>(intArg(info, 0)), fptr(info, 1), fptr(info, 2), fptr(info, 3), longArg(info, 4));
    });
  }
  void Scale(const Napi::CallbackInfo& info) {
    launch([&](auto& env, auto) { inkling::launchScale(env, fptr(info, 0), floatArg(info, 1), floatArg(info, 2), fptr(info, 3), longArg(info, 4)); });
  }
  void Axpy(const Napi::CallbackInfo& info) {
    launch([&](auto& env, auto) { inkling::launchAxpy(env, floatArg(info, 0), fptr(info, 1), fptr(info, 2), longArg(info, 3)); });
  }
  void ReluBackward(const Napi::CallbackInfo& info) {
    launch([&](auto& env, auto) { inkling::launchReluBackward(env, fptr(info, 0), fptr(info, 1), fptr(info, 2), longArg(info, 3), boolArg(info, 4)); });
  }
  void ChannelSum(const Napi::CallbackInfo& info) {
    launch([&](auto& env, auto) {
      inkling::launchChannelSum(env, fptr(info, 0), fptr(info, 1), intArg(info, 2), intArg(info, 3), intArg(info, 4), boolArg(info, 5));
    });
  }
  void Argmax(const Napi::CallbackInfo& info) {
    launch([&](auto& env, auto) { inkling::launchArgmax(env, fptr(info, 0), iptr(info, 1), intArg(info, 2), intArg(info, 3)); });
  }
  void CountEqual(const Napi::CallbackInfo& info) {
    launch([&](auto& env, auto) { inkling::launchCountEqual(env, iptr(info, 0), iptr(info, 1), fptr(info, 2), longArg(info, 3), boolArg(info, 4)); });
  }
  // matmul(a, b, bias, out, m, n, k, transA, transB, accumulate, relu)
  void Matmul(const Napi::CallbackInfo& info) {
    launch([&](auto& env, GemmVariant v) {
      inkling::launchMatmul(env, v, fptr(info, 0), fptr(info, 1), fptr(info, 2), fptr(info, 3), intArg(info, 4), intArg(info, 5),
                            intArg(info, 6), boolArg(info, 7), boolArg(info, 8), boolArg(info, 9), boolArg(info, 10));
    });
  }
  // conv2d(x, w, bias, out, ...shape(11), relu)
  void Conv2d(const Napi::CallbackInfo& info) {
    launch([&](auto& env, GemmVariant v) {
      inkling::launchConv2d(env, v, fptr(info, 0), fptr(info, 1), fptr(info, 2), fptr(info, 3), convArg(info, 4), boolArg(info, 15));
    });
  }
  // conv2dBackwardInput(dy, w, dx, ...shape(11), accumulate)
  void Conv2dBackwardInput(const Napi::CallbackInfo& info) {
    launch([&](auto& env, GemmVariant v) {
      inkling::launchConv2dBackwardInput(env, v, fptr(info, 0), fptr(info, 1), fptr(info, 2), convArg(info, 3), boolArg(info, 14));
    });
  }
  // conv2dBackwardWeight(x, dy, dw, db, ...shape(11), accumulate)
  void Conv2dBackwardWeight(const Napi::CallbackInfo& info) {
    launch([&](auto& env, GemmVariant v) {
      inkling::launchConv2dBackwardWeight(env, v, fptr(info, 0), fptr(info, 1), fptr(info, 2), fptr(info, 3), convArg(info, 4), boolArg(info, 15));
    });
  }
  // batchNormTrain(x, gamma, beta, rMean, rVar, out, saveMean, saveInvStd, n, c, spatial, eps, momentum, relu)
  void BatchNormTrain(const Napi::CallbackInfo& info) {
    launch([&](auto& env, auto) {
      inkling::launchBatchNormTrain(env, fptr(info, 0), fptr(info, 1), fptr(info, 2), fptr(info, 3), fptr(info, 4), fptr(info, 5),
                                    fptr(info, 6), fptr(info, 7), bnArg(info, 8), boolArg(info, 13));
    });
  }
  // batchNormInference(x, gamma, beta, rMean, rVar, out, n, c, spatial, eps, momentum, relu)
  void BatchNormInference(const Napi::CallbackInfo& info) {
    launch([&](auto& env, auto) {
      inkling::launchBatchNormInference(env, fptr(info, 0), fptr(info, 1), fptr(info, 2), fptr(info, 3), fptr(info, 4), fptr(info, 5),
                                        bnArg(info, 6), boolArg(info, 11));
    });
  }
  // batchNormBackward(x, dy, gamma, saveMean, saveInvStd, dx, dgamma, dbeta, n, c, spatial, eps, momentum, accumulate)
  void BatchNormBackward(const Napi::CallbackInfo& info) {
    launch([&](auto& env, auto) {
      inkling::launchBatchNormBackward(env, fptr(info, 0), fptr(info, 1), fptr(info, 2), fptr(info, 3), fptr(info, 4), fptr(info, 5),
                                       fptr(info, 6), fptr(info, 7), bnArg(info, 8), boolArg(info, 13));
    });
  }
  // maxPool2d(x, out, argmax, ...pool(9))
  void MaxPool2d(const Napi::CallbackInfo& info) {
    launch([&](auto& env, auto) { inkling::launchMaxPool2d(env, fptr(info, 0), fptr(info, 1), iptr(info, 2), poolArg(info, 3)); });
  }
  // maxPool2dBackward(dy, argmax, dx, ...pool(9))
  void MaxPool2dBackward(const Napi::CallbackInfo& info) {
    launch([&](auto& env, auto) { inkling::launchMaxPool2dBackward(env, fptr(info, 0), iptr(info, 1), fptr(info, 2), poolArg(info, 3)); });
  }
  void AvgPool2d(const Napi::CallbackInfo& info) {
    launch([&](auto& env, auto) { inkling::launchAvgPool2d(env, fptr(info, 0), fptr(info, 1), poolArg(info, 2)); });
  }
  void AvgPool2dBackward(const Napi::CallbackInfo& info) {
    launch([&](auto& env, auto) { inkling::launchAvgPool2dBackward(env, fptr(info, 0), fptr(info, 1), poolArg(info, 2)); });
  }
  // dropout(x, out, n, seed, step, keepThreshold, keepScale, spatial, backward, accumulate)
  void Dropout(const Napi::CallbackInfo& info) {
    launch([&](auto& env, auto) {
      inkling::launchDropout(env, fptr(info, 0), fptr(info, 1), longArg(info, 2), u32Arg(info, 3), u32Arg(info, 4), u32Arg(info, 5),
                             floatArg(info, 6), longArg(info, 7), boolArg(info, 8), boolArg(info, 9));
    });
  }
  // softmax(x, out, rows, cols, log)
  void Softmax(const Napi::CallbackInfo& info) {
    launch([&](auto& env, auto) { inkling::launchSoftmax(env, fptr(info, 0), fptr(info, 1), intArg(info, 2), intArg(info, 3), boolArg(info, 4)); });
  }
  // softmaxCrossEntropy(logits, labels, probs, loss, rows, cols, smoothing)
  void SoftmaxCrossEntropy(const Napi::CallbackInfo& info) {
    launch([&](auto& env, auto) {
      inkling::launchSoftmaxCrossEntropy(env, fptr(info, 0), iptr(info, 1), fptr(info, 2), fptr(info, 3), intArg(info, 4), intArg(info, 5),
                                         floatArg(info, 6));
    });
  }
  // softmaxCrossEntropyBackward(probs, labels, dloss, dlogits, rows, cols, smoothing, accumulate)
  void SoftmaxCrossEntropyBackward(const Napi::CallbackInfo& info) {
    launch([&](auto& env, auto) {
      inkling::launchSoftmaxCrossEntropyBackward(env, fptr(info, 0), iptr(info, 1), fptr(info, 2), fptr(info, 3), intArg(info, 4),
                                                 intArg(info, 5), floatArg(info, 6), boolArg(info, 7));
    });
  }
  // sgdStep(param, grad, velocity, n, lr, momentum, dampening, weightDecay, nesterov)
  void SgdStep(const Napi::CallbackInfo& info) {
    launch([&](auto& env, auto) {
      inkling::SgdArgs a{floatArg(info, 4), floatArg(info, 5), floatArg(info, 6), floatArg(info, 7), boolArg(info, 8)};
      inkling::launchSgdStep(env, fptr(info, 0), fptr(info, 1), fptr(info, 2), longArg(info, 3), a);
    });
  }
  // adamStep(param, grad, m, v, n, lr, beta1, beta2, eps, weightDecay, decoupled, step)
  void AdamStep(const Napi::CallbackInfo& info) {
    launch([&](auto& env, auto) {
      inkling::AdamArgs a{floatArg(info, 5), floatArg(info, 6), floatArg(info, 7), floatArg(info, 8), floatArg(info, 9),
                          boolArg(info, 10), u32Arg(info, 11)};
      inkling::launchAdamStep(env, fptr(info, 0), fptr(info, 1), fptr(info, 2), fptr(info, 3), longArg(info, 4), a);
    });
  }

  std::unique_ptr<Context> ctx_;
};

// deviceCount() → { count, error }: error is the cudaGetDeviceCount error text, or null.
Napi::Value DeviceCount(const Napi::CallbackInfo& info) {
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("count", err == cudaSuccess ? count : 0);
  if (err == cudaSuccess) o.Set("error", info.Env().Null());
  else o.Set("error", std::string(cudaGetErrorString(err)) + " (" + cudaGetErrorName(err) + ")");
  (void)cudaGetLastError();
  return o;
}

// The toolkit this addon was compiled with, without touching the driver.
Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("cudaRuntime", CUDART_VERSION);
  o.Set("architectures", INKLING_CUDA_ARCHS);
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("CudaContext", CudaContext::Define(env));
  exports.Set("deviceCount", Napi::Function::New(env, DeviceCount));
  exports.Set("buildInfo", Napi::Function::New(env, BuildInfo));
  return exports;
}

}  // namespace

NODE_API_MODULE(inkling_cuda, Init)
