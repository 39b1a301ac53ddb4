// The Node-API surface of the cpu backend: flat functions (context, typed arrays, numbers) that
// run one kernel synchronously on the caller's buffers, no copies. src/nn/backends/cpu/ wraps
// them into the Backend contract (and validates shapes before calling in).
//
// Arguments are read with raw napi calls into a stack array: node-addon-api's CallbackInfo
// heap-allocates past six arguments, and most kernels take more.
#include <napi.h>

#include <cstdlib>
#include <exception>
#include <string>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "context.h"
#include "kernels.h"
#include "preprocess/ink_map.h"
#include "preprocess/png_ink_map.h"

using inkling::ConvShape;
using inkling::Context;
using inkling::i64;
using inkling::PoolShape;

namespace {

constexpr size_t kMaxArgs = 32;

/** What JS holds: the context until destroyContext (dispose) frees it, threads included, at once
 *  rather than whenever the GC finalizes the handle. */
struct ContextHandle {
  Context* context;
};

struct Args {
  napi_env env;
  napi_value argv[kMaxArgs];
  size_t argc = kMaxArgs;

  Args(napi_env e, napi_callback_info info) : env(e) { napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr); }

  Context& ctx() const {
    void* p = nullptr;
    napi_get_value_external(env, argv[0], &p);
    Context* c = p ? static_cast<ContextHandle*>(p)->context : nullptr;
    if (!c) throw std::runtime_error("cpu backend: the backend was disposed; create a new one");
    return *c;
  }
  void* data(size_t i) const {
    napi_valuetype type;
    napi_typeof(env, argv[i], &type);
    if (type == napi_null || type == napi_undefined) return nullptr;
    void* d = nullptr;
    size_t length;
    napi_typedarray_type kind;
    if (napi_get_typedarray_info(env, argv[i], &kind, &length, &d, nullptr, nullptr) != napi_ok)
      throw std::runtime_error("cpu backend: argument " + std::to_string(i) + " must be a typed array");
    return d;
  }
  /** A typed array's data and element count; throws unless it is of `want` type. */
  void* typed(size_t i, napi_typedarray_type want, size_t* length) const {
    void* d = nullptr;
    napi_typedarray_type kind;
    bool is = false;
    napi_is_typedarray(env, argv[i], &is);
    if (!is || napi_get_typedarray_info(env, argv[i], &kind, length, &d, nullptr, nullptr) != napi_ok || kind != want)
      throw std::runtime_error("argument " + std::to_string(i) + " has the wrong type of array");
    return d;
  }
  float* f32(size_t i) const { return static_cast<float*>(data(i)); }
  int32_t* i32(size_t i) const { return static_cast<int32_t*>(data(i)); }
  double num(size_t i) const {
    double v = 0;
    if (napi_get_value_double(env, argv[i], &v) == napi_ok) return v;
    bool b = false;
    napi_get_value_bool(env, argv[i], &b);
    return b ? 1 : 0;
  }
  int integer(size_t i) const { return int(num(i)); }
  i64 count(size_t i) const { return i64(num(i)); }
  bool flag(size_t i) const { return num(i) != 0; }
  uint32_t u32(size_t i) const { return uint32_t(i64(num(i))); }
  ConvShape conv(size_t i) const {
    return ConvShape{integer(i), integer(i + 1), integer(i + 2), integer(i + 3), integer(i + 4),
                     integer(i + 5), integer(i + 6), integer(i + 7), integer(i + 8)};
  }
  PoolShape pool(size_t i) const {
    return PoolShape{integer(i), integer(i + 1), integer(i + 2), integer(i + 3), integer(i + 4), integer(i + 5),
                     integer(i + 6)};
  }
};

template <class F>
napi_value guarded(napi_env env, F&& f) {
  try {
    return f();
  } catch (const std::exception& e) {
    napi_throw_error(env, nullptr, e.what());
  }
  return nullptr;
}

// A native function over one kernel of the context's table: BODY runs it (and may `return` a value
// for JS, e.g. boolean(env, ran); otherwise the function returns undefined).
#define KERNEL(NAME, BODY)                                          \
  napi_value NAME(napi_env env, napi_callback_info info) {          \
    return guarded(env, [&]() -> napi_value {                       \
      Args a(env, info);                                            \
      Context& c = a.ctx();                                         \
      const inkling::KernelTable& k = *c.kernels;                   \
      BODY;                                                         \
      return nullptr;                                               \
    });                                                             \
  }

KERNEL(Unary, k.unary(c, a.integer(1), a.f32(2), a.f32(3), a.count(4)))
KERNEL(Binary, k.binary(c, a.integer(1), a.f32(2), a.f32(3), a.f32(4), a.count(5)))
KERNEL(Scale, k.scale(c, a.f32(1), float(a.num(2)), float(a.num(3)), a.f32(4), a.count(5)))
KERNEL(Axpy, k.axpy(c, float(a.num(1)), a.f32(2), a.f32(3), a.count(4)))
KERNEL(ReluBackward, k.reluBackward(c, a.f32(1), a.f32(2), a.f32(3), a.count(4), a.flag(5)))
KERNEL(ChannelSum, k.channelSum(c, a.f32(1), a.f32(2), a.count(3), a.count(4), a.count(5), a.flag(6)))
KERNEL(Argmax, k.argmax(c, a.f32(1), a.i32(2), a.count(3), a.count(4)))
KERNEL(CountEqual, k.countEqual(c, a.i32(1), a.i32(2), a.f32(3), a.count(4), a.flag(5)))
KERNEL(Matmul, k.matmul(c, a.f32(1), a.f32(2), a.f32(3), a.f32(4), a.integer(5), a.integer(6), a.integer(7),
                        a.flag(8), a.flag(9), a.flag(10), a.flag(11)))
KERNEL(Conv2d, k.conv2d(c, a.f32(1), a.f32(2), a.f32(3), a.f32(4), a.conv(5), a.flag(14), a.argc > 15 ? a.num(15) : 0))
// conv2dMaxPool(ctx, x, w, bias, out, n, cIn, h, w, cOut, kh, kw, stride, pad, relu, poolKh, poolKw, poolStride,
//   weightStamp)
KERNEL(Conv2dMaxPool, k.conv2dMaxPool(c, a.f32(1), a.f32(2), a.f32(3), a.f32(4), a.conv(5), a.flag(14), a.integer(15),
                                      a.integer(16), a.integer(17), a.num(18)))
KERNEL(Conv2dBackwardInput, k.conv2dBackwardInput(c, a.f32(1), a.f32(2), a.f32(3), a.conv(4), a.flag(13)))
KERNEL(Conv2dBackwardWeight,
       k.conv2dBackwardWeight(c, a.f32(1), a.f32(2), a.f32(3), a.f32(4), a.conv(5), a.flag(14)))
KERNEL(BatchNormTrain, k.batchNormTrain(c, a.f32(1), a.f32(2), a.f32(3), a.f32(4), a.f32(5), a.f32(6), a.f32(7),
                                        a.f32(8), a.integer(9), a.integer(10), a.count(11), float(a.num(12)),
                                        float(a.num(13)), a.flag(14)))
KERNEL(BatchNormInference, k.batchNormInference(c, a.f32(1), a.f32(2), a.f32(3), a.f32(4), a.f32(5), a.f32(6),
                                                a.integer(7), a.integer(8), a.count(9), float(a.num(10)), a.flag(11)))
KERNEL(BatchNormBackward, k.batchNormBackward(c, a.f32(1), a.f32(2), a.f32(3), a.f32(4), a.f32(5), a.f32(6),
                                              a.f32(7), a.f32(8), a.integer(9), a.integer(10), a.count(11),
                                              a.flag(12)))
// batchNormMaxPoolTrain(ctx, x, gamma, beta, runningMean, runningVar, out, argmax, saveMean, saveInvStd,
//   n, c, h, w, kh, kw, stride, eps, momentum, relu)
KERNEL(BatchNormMaxPoolTrain,
       k.batchNormMaxPoolTrain(c, a.f32(1), a.f32(2), a.f32(3), a.f32(4), a.f32(5), a.f32(6), a.i32(7), a.f32(8),
                               a.f32(9), a.pool(10), float(a.num(17)), float(a.num(18)), a.flag(19)))
// batchNormMaxPoolBackward(ctx, x, out, argmax, dy, gamma, saveMean, saveInvStd, dx, dgamma, dbeta,
//   n, c, h, w, kh, kw, stride, relu, accumulate)
KERNEL(BatchNormMaxPoolBackward,
       k.batchNormMaxPoolBackward(c, a.f32(1), a.f32(2), a.i32(3), a.f32(4), a.f32(5), a.f32(6), a.f32(7), a.f32(8),
                                  a.f32(9), a.f32(10), a.pool(11), a.flag(18), a.flag(19)))
/** A kernel's answer to JS: whether it ran (false: no fused kernel for this shape here). */
napi_value boolean(napi_env env, bool value) {
  napi_value result;
  napi_get_boolean(env, value, &result);
  return result;
}
// convBatchNormMaxPoolApplies(ctx, n, cIn, h, w, cOut, kh, kw, stride, pad)
KERNEL(ConvBatchNormMaxPoolApplies, return boolean(env, k.convBatchNormMaxPoolApplies(a.conv(1))))
// convBatchNormMaxPoolTrain(ctx, x, w, bias, gamma, beta, runningMean, runningVar, out, argmax, saveMean,
//   saveInvStd, n, cIn, h, w, cOut, kh, kw, stride, pad, poolKh, poolKw, poolStride, eps, momentum, relu, xStamp)
KERNEL(ConvBatchNormMaxPoolTrain,
       return boolean(env, k.convBatchNormMaxPoolTrain(c, a.f32(1), a.f32(2), a.f32(3), a.f32(4), a.f32(5), a.f32(6),
                                                       a.f32(7), a.f32(8), a.i32(9), a.f32(10), a.f32(11), a.conv(12),
                                                       a.integer(21), a.integer(22), a.integer(23), float(a.num(24)),
                                                       float(a.num(25)), a.flag(26), a.num(27))))
// convBatchNormMaxPoolBackward(ctx, x, w, bias, out, argmax, dy, gamma, beta, saveMean, saveInvStd, dw, dgamma,
//   dbeta, n, cIn, h, w, cOut, kh, kw, stride, pad, poolKh, poolKw, poolStride, relu, accumulate, xStamp)
KERNEL(ConvBatchNormMaxPoolBackward,
       return boolean(env, k.convBatchNormMaxPoolBackward(c, a.f32(1), a.f32(2), a.f32(3), a.f32(4), a.i32(5), a.f32(6),
                                                          a.f32(7), a.f32(8), a.f32(9), a.f32(10), a.f32(11), a.f32(12),
                                                          a.f32(13), a.conv(14), a.integer(23), a.integer(24),
                                                          a.integer(25), a.flag(26), a.flag(27), a.num(28))))
KERNEL(MaxPool2d, k.maxPool2d(c, a.f32(1), a.f32(2), a.i32(3), a.pool(4)))
KERNEL(MaxPool2dBackward, k.maxPool2dBackward(c, a.f32(1), a.i32(2), a.f32(3), a.pool(4)))
KERNEL(AvgPool2d, k.avgPool2d(c, a.f32(1), a.f32(2), a.pool(3)))
KERNEL(AvgPool2dBackward, k.avgPool2dBackward(c, a.f32(1), a.f32(2), a.pool(3)))
KERNEL(Dropout, k.dropout(c, a.f32(1), a.f32(2), a.count(3), a.num(4), a.u32(5), a.u32(6), a.count(7), a.flag(8)))
KERNEL(Softmax, k.softmax(c, a.f32(1), a.f32(2), a.count(3), a.count(4), a.flag(5)))
KERNEL(SoftmaxCrossEntropy,
       k.softmaxCrossEntropy(c, a.f32(1), a.i32(2), a.f32(3), a.f32(4), a.count(5), a.count(6), a.num(7)))
KERNEL(SoftmaxCrossEntropyBackward, k.softmaxCrossEntropyBackward(c, a.f32(1), a.i32(2), a.f32(3), a.f32(4),
                                                                  a.count(5), a.count(6), a.num(7), a.flag(8)))
KERNEL(SgdStep, k.sgdStep(c, a.f32(1), a.f32(2), a.f32(3), a.count(4), a.num(5), a.num(6), a.num(7), a.flag(8),
                          a.num(9)))
KERNEL(AdamStep, k.adamStep(c, a.f32(1), a.f32(2), a.f32(3), a.f32(4), a.count(5), a.num(6), a.num(7), a.num(8),
                            a.num(9), a.num(10), a.flag(11), a.num(12)))

napi_value PeakFmaGflops(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info);
    Context& c = a.ctx();
    napi_value out;
    napi_create_double(env, c.kernels->peakFmaGflops(c, a.integer(1), a.num(2)), &out);
    return out;
  });
}

napi_value TriadGBps(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info);
    Context& c = a.ctx();
    napi_value out;
    napi_create_double(env, c.kernels->triadGBps(c, a.integer(1), a.num(2)), &out);
    return out;
  });
}

/** inkMap(rgba: Uint8Array, width, height, stride, offset, ink: Float32Array, thumbnail: Uint8Array,
 *  info: Int32Array(2)): the service's ink map (preprocess/ink_map.h); no context needed. Writes
 *  [strokePixels, lightInk] into info. The sizes are checked here, so a wrong call throws rather
 *  than reading or writing out of bounds. */
napi_value InkMap(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info);
    if (a.argc < 8) throw std::runtime_error("inkMap: 8 arguments expected");
    size_t srcLen = 0, inkLen = 0, thumbLen = 0, infoLen = 0;
    const auto* src = static_cast<const uint8_t*>(a.typed(0, napi_uint8_array, &srcLen));
    const int width = a.integer(1), height = a.integer(2);
    const int64_t stride = a.count(3), offset = a.count(4);
    auto* ink = static_cast<float*>(a.typed(5, napi_float32_array, &inkLen));
    auto* thumb = static_cast<uint8_t*>(a.typed(6, napi_uint8_array, &thumbLen));
    auto* out = static_cast<int32_t*>(a.typed(7, napi_int32_array, &infoLen));
    if (width < 1 || height < 1 || stride < int64_t(width) * 4 || offset < 0)
      throw std::runtime_error("inkMap: bad image geometry");
    if (uint64_t(offset) + uint64_t(height - 1) * uint64_t(stride) + uint64_t(width) * 4 > srcLen)
      throw std::runtime_error("inkMap: the pixel array is shorter than the image");
    const inkling::WorkSize ws = inkling::workSize(width, height);
    const size_t n = size_t(ws.width) * size_t(ws.height);
    if (inkLen != n || thumbLen != n * 3 || infoLen < 2) throw std::runtime_error("inkMap: output arrays of the wrong size");
    const inkling::InkMapResult r = inkling::inkMap(src, width, height, stride, offset, ink, thumb);
    out[0] = r.strokePixels;
    out[1] = r.lightInk ? 1 : 0;
    return nullptr;
  });
}

/** inkMapFromPng(png: Uint8Array, ink: Float32Array, thumbnail: Uint8Array, info: Float64Array(3)):
 *  true with [strokePixels, lightInk, decodeMs] in info when the PNG took the streaming
 *  path; false when the caller must decode it in TypeScript (preprocess/png_ink_map.h). The
 *  output arrays must be sized for the image's working size (checked). */
napi_value InkMapFromPng(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info);
    if (a.argc < 4) throw std::runtime_error("inkMapFromPng: 4 arguments expected");
    size_t pngLen = 0, inkLen = 0, thumbLen = 0, infoLen = 0;
    const auto* png = static_cast<const uint8_t*>(a.typed(0, napi_uint8_array, &pngLen));
    auto* ink = static_cast<float*>(a.typed(1, napi_float32_array, &inkLen));
    auto* thumb = static_cast<uint8_t*>(a.typed(2, napi_uint8_array, &thumbLen));
    auto* out = static_cast<double*>(a.typed(3, napi_float64_array, &infoLen));
    if (infoLen < 3) throw std::runtime_error("inkMapFromPng: info needs 3 slots");
    inkling::InkMapResult r{};
    double decodeMs = 0;
    const bool ok = inkling::inkMapFromPng(png, pngLen, ink, inkLen, thumb, thumbLen, r, decodeMs);
    if (ok) {
      out[0] = r.strokePixels;
      out[1] = r.lightInk ? 1 : 0;
      out[2] = decodeMs;
    }
    napi_value result;
    napi_get_boolean(env, ok, &result);
    return result;
  });
}

/** createContext(threads, isa): threads 0 = one per core; isa "auto" | "avx512" | "avx2" | "neon" | "portable". */
Napi::Value CreateContext(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int threads = info[0].As<Napi::Number>().Int32Value();
  std::string isa = info[1].As<Napi::String>().Utf8Value();
  if (threads <= 0) threads = int(std::thread::hardware_concurrency());
  if (threads <= 0) threads = 1;
  const inkling::KernelTable* table = nullptr;
  try {
    table = inkling::selectKernels(isa.c_str());
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
  auto* handle = new ContextHandle{new Context(threads, table)};
  return Napi::External<ContextHandle>::New(env, handle, [](Napi::Env, ContextHandle* h) {
    delete h->context;
    delete h;
  });
}

/** destroyContext(ctx): joins the threads and frees the scratch now; later calls throw. */
Napi::Value DestroyContext(const Napi::CallbackInfo& info) {
  ContextHandle* h = info[0].As<Napi::External<ContextHandle>>().Data();
  delete h->context;
  h->context = nullptr;
  return info.Env().Undefined();
}

Napi::Value ContextInfo(const Napi::CallbackInfo& info) {
  Context* ctx = info[0].As<Napi::External<ContextHandle>>().Data()->context;
  if (!ctx) throw Napi::Error::New(info.Env(), "cpu backend: the backend was disposed");
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("isa", ctx->kernels->isa);
  out.Set("threads", ctx->pool.size());
  out.Set("avx2Available", inkling::avx2Unavailable().empty());
  out.Set("avx512Available", inkling::avx512Unavailable().empty());
  out.Set("neonAvailable", inkling::neonKernels() != nullptr && inkling::cpuHasNeon());
  return out;
}

/** cpuFeatures() → what CPUID and XGETBV say on this machine; cpuFeatures(leaf1Ecx, leaf7Ebx, xcr0)
 *  → the same decision on given register values (tests check the XGETBV rule with them). Each
 *  answer carries why the AVX2 and AVX-512 paths could not run ("" when they can). */
Napi::Value CpuFeaturesJs(const Napi::CallbackInfo& info) {
  const bool given = info.Length() >= 3;
  const inkling::CpuFeatures f = given ? inkling::cpuFeaturesFrom(info[0].As<Napi::Number>().Uint32Value(),
                                                                   info[1].As<Napi::Number>().Uint32Value(),
                                                                   uint64_t(info[2].As<Napi::Number>().Int64Value()))
                                       : inkling::detectCpuFeatures();
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("fma", f.fma);
  out.Set("osxsave", f.osxsave);
  out.Set("avx2", f.avx2);
  out.Set("avx512f", f.avx512f);
  out.Set("avx512bw", f.avx512bw);
  out.Set("avx512dq", f.avx512dq);
  out.Set("avx512vl", f.avx512vl);
  out.Set("osYmm", f.osYmm);
  out.Set("osZmm", f.osZmm);
  out.Set("xcr0", double(f.xcr0));
  out.Set("avx2Missing", inkling::avx2Missing(f));
  out.Set("avx512Missing", inkling::avx512Missing(f));
  return out;
}

/** Why each vector table of THIS build cannot run here ("" = it can), and whether the AVX-512
 *  table is the SIMDe emulation (test-only build). */
Napi::Value IsaAvailability(const Napi::CallbackInfo& info) {
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("avx512", inkling::avx512Unavailable());
  out.Set("avx2", inkling::avx2Unavailable());
  out.Set("avx512Emulated", inkling::avx512Emulated());
  return out;
}

/** limitMallocRetention(mmapThresholdBytes, arenaMax): true when glibc took both settings; false
 *  elsewhere (other C libraries). For the service (src/server/malloc-tuning.ts): glibc's dynamic
 *  mmap threshold rises to the size of any large block freed, after which 5 MB upload buffers and
 *  decodes come from arenas that keep their pages, and it creates up to 8 arenas per core. */
Napi::Value LimitMallocRetention(const Napi::CallbackInfo& info) {
  const int threshold = info[0].As<Napi::Number>().Int32Value();
  const int arenas = info[1].As<Napi::Number>().Int32Value();
#if defined(__GLIBC__)
  const bool ok = mallopt(M_MMAP_THRESHOLD, threshold) == 1 && mallopt(M_ARENA_MAX, arenas) == 1;
  return Napi::Boolean::New(info.Env(), ok);
#else
  (void)threshold;
  (void)arenas;
  return Napi::Boolean::New(info.Env(), false);
#endif
}

void addRaw(Napi::Env env, Napi::Object exports, const char* name, napi_callback cb) {
  napi_value fn;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, nullptr, &fn);
  exports.Set(name, Napi::Value(env, fn));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("createContext", Napi::Function::New(env, CreateContext, "createContext"));
  exports.Set("contextInfo", Napi::Function::New(env, ContextInfo, "contextInfo"));
  exports.Set("destroyContext", Napi::Function::New(env, DestroyContext, "destroyContext"));
  exports.Set("cpuFeatures", Napi::Function::New(env, CpuFeaturesJs, "cpuFeatures"));
  exports.Set("isaAvailability", Napi::Function::New(env, IsaAvailability, "isaAvailability"));
  exports.Set("limitMallocRetention", Napi::Function::New(env, LimitMallocRetention, "limitMallocRetention"));
  addRaw(env, exports, "unary", Unary);
  addRaw(env, exports, "binary", Binary);
  addRaw(env, exports, "scale", Scale);
  addRaw(env, exports, "axpy", Axpy);
  addRaw(env, exports, "reluBackward", ReluBackward);
  addRaw(env, exports, "channelSum", ChannelSum);
  addRaw(env, exports, "argmax", Argmax);
  addRaw(env, exports, "countEqual", CountEqual);
  addRaw(env, exports, "matmul", Matmul);
  addRaw(env, exports, "conv2d", Conv2d);
  addRaw(env, exports, "conv2dBackwardInput", Conv2dBackwardInput);
  addRaw(env, exports, "conv2dMaxPool", Conv2dMaxPool);
  addRaw(env, exports, "conv2dBackwardWeight", Conv2dBackwardWeight);
  addRaw(env, exports, "batchNormTrain", BatchNormTrain);
  addRaw(env, exports, "batchNormInference", BatchNormInference);
  addRaw(env, exports, "batchNormBackward", BatchNormBackward);
  addRaw(env, exports, "batchNormMaxPoolTrain", BatchNormMaxPoolTrain);
  addRaw(env, exports, "batchNormMaxPoolBackward", BatchNormMaxPoolBackward);
  addRaw(env, exports, "convBatchNormMaxPoolApplies", ConvBatchNormMaxPoolApplies);
  addRaw(env, exports, "convBatchNormMaxPoolTrain", ConvBatchNormMaxPoolTrain);
  addRaw(env, exports, "convBatchNormMaxPoolBackward", ConvBatchNormMaxPoolBackward);
  addRaw(env, exports, "maxPool2d", MaxPool2d);
  addRaw(env, exports, "maxPool2dBackward", MaxPool2dBackward);
  addRaw(env, exports, "avgPool2d", AvgPool2d);
  addRaw(env, exports, "avgPool2dBackward", AvgPool2dBackward);
  addRaw(env, exports, "dropout", Dropout);
  addRaw(env, exports, "softmax", Softmax);
  addRaw(env, exports, "softmaxCrossEntropy", SoftmaxCrossEntropy);
  addRaw(env, exports, "softmaxCrossEntropyBackward", SoftmaxCrossEntropyBackward);
  addRaw(env, exports, "sgdStep", SgdStep);
  addRaw(env, exports, "adamStep", AdamStep);
  addRaw(env, exports, "peakFmaGflops", PeakFmaGflops);
  addRaw(env, exports, "triadGBps", TriadGBps);
  addRaw(env, exports, "inkMap", InkMap);
  addRaw(env, exports, "inkMapFromPng", InkMapFromPng);
  return exports;
}

}  // namespace

NODE_API_MODULE(inkling_cpu, Init)
