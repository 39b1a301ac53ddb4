// Convolution (+ bias, activation) then max pool, for inference: the contract's conv2dMaxPool
// (src/nn/backend.ts). The convolution's output is never written to memory: the direct
// single-channel kernel (conv1) and Winograd (conv2, batches) hand each finished image, or each
// thread's channels of it, to a sink that pools it from a per-thread staging buffer that stays in
// L1/L2 (conv1: 32 planes of 3 KB; conv2: 64 planes of 784 B), with the same maxPoolPlane as
// maxPool2d (so out is bit for bit maxPool2d's) and a throwaway argmax. A 2x2, stride-2 pool
// (poolsTiles) is instead taken in registers, with maxPool2x2Row's select order, and no plane is
// stored: by conv1's direct kernel at any batch (conv_direct.h), by Winograd at a batch of one or
// two (winograd.h's winogradOutputPooledChannels). Other shapes take the general path: conv2d
// into shared scratch, then maxPool2d.
#pragma once

namespace INKLING_NS {

/** Pools channels [c0, c1) of an image's convolution output into out. */
struct PoolingSink {
  Context& ctx;
  float* out;
  const ConvShape& s;
  PoolShape plane;  // one (h, w) plane of the convolution's output: n = c = 1
  i64 convPlane, poolPlane;

  PoolingSink(Context& c, float* o, const ConvShape& shape, int kh, int kw, int stride)
      : ctx(c), out(o), s(shape), plane{1, 1, shape.hOut(), shape.wOut(), kh, kw, stride},
        convPlane(i64(shape.hOut()) * shape.wOut()), poolPlane(i64(plane.hOut()) * plane.wOut()) {}

  float* image(int, int thread) const {
    const size_t n = size_t(s.cOut) * convPlane + VLANES;
    return thread < 0 ? ctx.stage.floats(n) : ctx.perThread[thread].stage.floats(n);
  }

  /** Whether the pool is 2x2 with stride 2, so that a Winograd 2x2 output tile, or a pair of
   *  output rows of the direct kernel, is whole pooling windows: those kernels then pool in
   *  registers and write to pooledOut instead of handing planes to done. */
  bool poolsTiles() const { return plane.kh == 2 && plane.kw == 2 && plane.stride == 2; }
  float* pooledOut(int img) const { return out + i64(img) * s.cOut * poolPlane; }

  void done(int img, int c0, int c1, int thread, const float* image) const {
    int32_t* am = reinterpret_cast<int32_t*>(ctx.perThread[thread].stageIndex.floats(size_t(poolPlane)));
    for (int c = c0; c < c1; ++c) {
      const float* src = image + c * convPlane;
      maxPoolPlane(src, out + (i64(img) * s.cOut + c) * poolPlane, am, plane, PoolInput{}, src + convPlane);
    }
  }

#if INKLING_VEC
  static constexpr int VLANES = VL;
#else
  static constexpr int VLANES = 1;
#endif
};

static void conv2dMaxPool(Context& ctx, const float* x, const float* w, const float* bias, float* out,
                          const ConvShape& s, bool relu, int poolKh, int poolKw, int poolStride, double weightStamp) {
  const PoolingSink sink(ctx, out, s, poolKh, poolKw, poolStride);
  if (convForwardInto(ctx, x, w, bias, s, relu, weightStamp, sink)) return;
  // General path: the whole convolution into shared scratch, then maxPool2d with a throwaway argmax.
  const size_t convSize = size_t(s.n) * s.cOut * sink.convPlane, poolSize = size_t(s.n) * s.cOut * sink.poolPlane;
  float* y = ctx.stage.floats(convSize + poolSize);
  conv2d(ctx, x, w, bias, y, s, relu, weightStamp);
  maxPool2d(ctx, y, out, reinterpret_cast<int32_t*>(y + convSize), PoolShape{s.n, s.cOut, s.hOut(), s.wOut(), poolKh, poolKw, poolStride});
}

}  // namespace INKLING_NS
