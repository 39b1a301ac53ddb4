// Convolution as im2col + the packed GEMM (see native/cpu/README.md for the measurements that
// chose it). Per image n, with P = hOut·wOut pixels and K = cIn·kh·kw:
//   forward          out_n[cOut, P]  = W[cOut, K] · col_n[K, P]          (+ bias[cOut], relu)
//   backward input   dcol_n[K, P]    = Wᵀ[K, cOut] · dy_n[cOut, P];  dx_n (+)= col2im(dcol_n)
//   backward weight  dWᵀ[K, cOut]   += col_n[K, P] · dy_nᵀ[P, cOut]   (summed over images)
// col_n[(ci·kh + ky)·kw + kx, p] = x_n[ci, oy·s − pad + ky, ox·s − pad + kx] (0 outside), p = oy·wOut + ox.
#pragma once

namespace INKLING_NS {

/** INKLING_CPU_CONV=implicit selects the implicit GEMM (conv_implicit.h) for stride-1 forward and
 *  backward-input passes instead of im2col + GEMM: it measured slower at the seed CNN's shapes
 *  (native/cpu/README.md) and stays for comparison; the tests run the conformance table on it. */
static bool implicitConvSelected() {
  static const bool implicit = [] {
    const char* v = std::getenv("INKLING_CPU_CONV");
    return v && std::string(v) == "implicit";
  }();
  return implicit;
}

/** INKLING_CPU_CONV=im2col turns Winograd off (for measurements; the tests run both paths). */
static bool im2colConvSelected() {
  static const bool forced = [] {
    const char* v = std::getenv("INKLING_CPU_CONV");
    return v && std::string(v) == "im2col";
  }();
  return forced;
}

/** Where Winograd (winograd.h) pays: 3x3 stride 1 (pad <= 2, so that the backward pass to the
 *  input is one too), enough channels on both sides for the transforms to be small next to the
 *  GEMMs (conv1 of the seed CNN, one input channel, stays im2col + GEMM), and enough images for
 *  the weight transform to be amortised: 4+ images, or weights whose transform is cached (the
 *  caller gave their stamp: inference, where the same filters run call after call). */
static bool winogradApplies(const ConvShape& s, bool weightsKnown = false) {
  return s.stride == 1 && s.kh == 3 && s.kw == 3 && s.pad <= 2 && s.cIn >= 8 && s.cOut >= 8 &&
         (s.n >= 4 || weightsKnown) && !im2colConvSelected() && !implicitConvSelected();
}

/** Whether the direct kernels of conv_direct.h take the convolution: one input channel, 3x3,
 *  stride 1 (conv1 of the seed CNN), in the vector builds. INKLING_CPU_CONV=im2col or implicit
 *  keep the general paths (for measurements; the tests run both). */
#if INKLING_VEC
static bool directSingleChannelApplies(const ConvShape& s) {
  return s.cIn == 1 && s.kh == 3 && s.kw == 3 && s.stride == 1 && s.pad <= 2 && !im2colConvSelected() &&
         !implicitConvSelected();
}
#endif

/** Columns [p0, p1) of col_n into dst ([K, p1 − p0], row-major). */
static void im2col(const float* x, const ConvShape& s, int p0, int p1, float* __restrict dst) {
  const int wOut = s.wOut(), np = p1 - p0;
  for (int ci = 0; ci < s.cIn; ++ci) {
    const float* plane = x + i64(ci) * s.h * s.w;
    for (int ky = 0; ky < s.kh; ++ky)
      for (int kx = 0; kx < s.kw; ++kx) {
        float* out = dst;
        dst += np;
        int oy = p0 / wOut, ox = p0 % wOut;
        for (int p = p0; p < p1;) {
          const int seg = std::min(wOut - ox, p1 - p);
          const int iy = oy * s.stride - s.pad + ky;
          if (iy < 0 || iy >= s.h) {
            for (int t = 0; t < seg; ++t) out[t] = 0.f;
          } else {
            const float* src = plane + i64(iy) * s.w;
            const int off = kx - s.pad;
            if (s.stride == 1) {
              // ix = ox + t + off, valid for t in [lo, hi)
              const int lo = std::max(0, std::min(seg, -off - ox));
              const int hi = std::max(lo, std::min(seg, s.w - off - ox));
              for (int t = 0; t < lo; ++t) out[t] = 0.f;
              for (int t = lo; t < hi; ++t) out[t] = src[ox + t + off];
              for (int t = hi; t < seg; ++t) out[t] = 0.f;
            } else {
              for (int t = 0; t < seg; ++t) {
                const int ix = (ox + t) * s.stride + off;
                out[t] = (ix >= 0 && ix < s.w) ? src[ix] : 0.f;
              }
            }
          }
          out += seg;
          p += seg;
          ox = 0;
          ++oy;
        }
      }
  }
}

/** dx_n += col2im(dcol_n), dcol_n [K, P]. The exact inverse walk of im2col. */
static void col2imAdd(const float* __restrict dcol, const ConvShape& s, float* dx) {
  const int hOut = s.hOut(), wOut = s.wOut();
  for (int ci = 0; ci < s.cIn; ++ci) {
    float* plane = dx + i64(ci) * s.h * s.w;
    for (int ky = 0; ky < s.kh; ++ky)
      for (int kx = 0; kx < s.kw; ++kx) {
        const int off = kx - s.pad;
        for (int oy = 0; oy < hOut; ++oy, dcol += wOut) {
          const int iy = oy * s.stride - s.pad + ky;
          if (iy < 0 || iy >= s.h) continue;
          float* dst = plane + i64(iy) * s.w;
          if (s.stride == 1) {
            const int lo = std::max(0, std::min(wOut, -off));
            const int hi = std::max(lo, std::min(wOut, s.w - off));
            for (int ox = lo; ox < hi; ++ox) dst[ox + off] += dcol[ox];
          } else {
            for (int ox = 0; ox < wOut; ++ox) {
              const int ix = ox * s.stride + off;
              if (ix >= 0 && ix < s.w) dst[ix] += dcol[ox];
            }
          }
        }
      }
  }
}

/** Stride 1, the seed CNN's case: one zero-padded copy of each input plane, then every column row
 *  is a run of plain copies with no bounds checks. Columns [p0, p1) of col_n, row-major
 *  ([K, p1 − p0]). (Writing straight into the GEMM's packed-B panels instead measured no faster.) */
static void im2colStride1(const float* x, const ConvShape& s, int p0, int p1, float* __restrict dst, float* padded) {
  const int Hp = s.h + 2 * s.pad, Wp = s.w + 2 * s.pad, wOut = s.wOut(), np = p1 - p0;
  const int oy0 = p0 / wOut, oy1 = (p1 - 1) / wOut;
  for (int ci = 0; ci < s.cIn; ++ci) {
    const float* plane = x + i64(ci) * s.h * s.w;
    // rows oy0 .. oy1 + kh − 1 of the padded plane are all that this chunk reads
    for (int py = oy0; py < std::min(Hp, oy1 + s.kh); ++py) {
      float* row = padded + py * Wp;
      const int iy = py - s.pad;
      if (iy < 0 || iy >= s.h) {
        std::memset(row, 0, sizeof(float) * Wp);
        continue;
      }
      for (int t = 0; t < s.pad; ++t) row[t] = row[Wp - 1 - t] = 0.f;
      std::memcpy(row + s.pad, plane + i64(iy) * s.w, sizeof(float) * s.w);
    }
    for (int ky = 0; ky < s.kh; ++ky)
      for (int kx = 0; kx < s.kw; ++kx) {
        float* out = dst + size_t((ci * s.kh + ky) * s.kw + kx) * np - p0;
        for (int oy = oy0; oy <= oy1; ++oy) {
          const int ox0 = std::max(0, p0 - oy * wOut), ox1 = std::min(wOut, p1 - oy * wOut);
          const float* src = padded + (oy + ky) * Wp + kx;
          float* o = out + oy * wOut;
          for (int ox = ox0; ox < ox1; ++ox) o[ox] = src[ox];
        }
      }
  }
}

/** dx_n (+)= col2im(dcol_n) for stride 1: adds into a zero-padded plane (no bounds checks), then
 *  crops it into dx. */
static void col2imStride1(const float* __restrict dcol, const ConvShape& s, float* dx, bool accumulate, float* padded) {
  const int Hp = s.h + 2 * s.pad, Wp = s.w + 2 * s.pad, hOut = s.hOut(), wOut = s.wOut();
  for (int ci = 0; ci < s.cIn; ++ci) {
    std::memset(padded, 0, sizeof(float) * Hp * Wp);
    for (int ky = 0; ky < s.kh; ++ky)
      for (int kx = 0; kx < s.kw; ++kx)
        for (int oy = 0; oy < hOut; ++oy, dcol += wOut) {
          float* dst = padded + (oy + ky) * Wp + kx;
          for (int ox = 0; ox < wOut; ++ox) dst[ox] += dcol[ox];
        }
    float* plane = dx + i64(ci) * s.h * s.w;
    for (int iy = 0; iy < s.h; ++iy) {
      const float* src = padded + (iy + s.pad) * Wp + s.pad;
      float* out = plane + i64(iy) * s.w;
      if (accumulate)
        for (int ix = 0; ix < s.w; ++ix) out[ix] += src[ix];
      else
        std::memcpy(out, src, sizeof(float) * s.w);
    }
  }
}

/** The forward paths that hand each image's output to a sink (winograd.h's ConvOutputSink writes
 *  it to out, conv_pool.h's PoolingSink pools it): Winograd (batch 1-2 with cached filters, or
 *  the tiled path) and the direct single-channel kernel. conv2d and conv2dMaxPool both choose
 *  through here; false when neither takes the shape (im2col + GEMM, or the implicit GEMM). */
template <class Sink>
static bool convForwardInto(Context& ctx, const float* x, const float* w, const float* bias, const ConvShape& s,
                            bool relu, double weightStamp, const Sink& sink) {
  if (winogradApplies(s, weightStamp > 0)) {
    if (winogradFewApplies(s, weightStamp))
      winogradForwardFewInto(ctx, x, winogradForwardFilters(ctx, w, s, weightStamp, 1), bias, s, relu, sink);
    else
      winogradConvInto(ctx, x, winogradForwardFilters(ctx, w, s, weightStamp), bias, s, relu, false, sink);
    return true;
  }
#if INKLING_VEC
  if (directSingleChannelApplies(s)) {
    directSingleChannelForwardInto(ctx, x, w, bias, s, relu, sink);
    return true;
  }
#endif
  return false;
}

static void conv2d(Context& ctx, const float* x, const float* w, const float* bias, float* out, const ConvShape& s,
                   bool relu, double weightStamp) {
  if (s.stride == 1 && implicitConvSelected()) return convImplicit(ctx, x, s, w, bias, relu, out, false);
  if (convForwardInto(ctx, x, w, bias, s, relu, weightStamp, ConvOutputSink{out, i64(s.cOut) * s.hOut() * s.wOut()}))
    return;
  const int P = s.hOut() * s.wOut(), K = s.cIn * s.kh * s.kw, threads = ctx.pool.size();
  // Split images into pixel chunks (multiples of NR) when there are fewer images than threads.
  const int panels = (P + NR - 1) / NR;
  const int chunks = s.n >= 2 * threads ? 1 : std::min(panels, (2 * threads + s.n - 1) / s.n);
  const i64 xImage = i64(s.cIn) * s.h * s.w, outImage = i64(s.cOut) * P;
  ctx.pool.run(s.n * chunks, [&](int task, int thread) {
    const int img = task / chunks, chunk = task % chunks;
    const int p0 = std::min(P, panels * chunk / chunks * NR), p1 = std::min(P, panels * (chunk + 1) / chunks * NR);
    if (p0 >= p1) return;
    ThreadScratch& scratch = ctx.perThread[thread];
    Epilogue ep{bias, nullptr, relu};
    float* col = scratch.columns.floats(size_t(K) * (p1 - p0));
    if (s.stride == 1)
      im2colStride1(x + img * xImage, s, p0, p1, col, scratch.tile.floats(size_t(s.h + 2 * s.pad) * (s.w + 2 * s.pad)));
    else
      im2col(x + img * xImage, s, p0, p1, col);
    gemmSingle(s.cOut, p1 - p0, K, View{w, K, 1}, View{col, p1 - p0, 1}, out + img * outImage + p0, P, false, ep,
               scratch);
  });
}

static void conv2dBackwardInput(Context& ctx, const float* dy, const float* w, float* dx, const ConvShape& s,
                                bool accumulate) {
  if (implicitBackwardInputApplies(s) && implicitConvSelected()) return convImplicitBackwardInput(ctx, dy, w, dx, s, accumulate);
  if (winogradApplies(s)) return winogradBackwardInput(ctx, dy, w, dx, s, accumulate);
  const int P = s.hOut() * s.wOut(), K = s.cIn * s.kh * s.kw;
  const i64 xImage = i64(s.cIn) * s.h * s.w, yImage = i64(s.cOut) * P;
  // Wᵀ [K, cOut] row-major, once per call: the GEMM then reads A in place for every image
  // instead of packing the strided transpose again per image.
  float* wT = ctx.weights.floats(size_t(K) * s.cOut);
  for (int co = 0; co < s.cOut; ++co)
    for (int k = 0; k < K; ++k) wT[i64(k) * s.cOut + co] = w[i64(co) * K + k];
  ctx.pool.run(s.n, [&](int img, int thread) {
    ThreadScratch& scratch = ctx.perThread[thread];
    float* dcol = scratch.columns.floats(size_t(K) * P);
    gemmSingle(K, P, s.cOut, View{wT, s.cOut, 1}, View{dy + img * yImage, P, 1}, dcol, P, false, Epilogue{}, scratch);
    float* dxn = dx + img * xImage;
    if (s.stride == 1) {
      col2imStride1(dcol, s, dxn, accumulate, scratch.tile.floats(size_t(s.h + 2 * s.pad) * (s.w + 2 * s.pad)));
      return;
    }
    if (!accumulate) std::memset(dxn, 0, sizeof(float) * xImage);
    col2imAdd(dcol, s, dxn);
  });
}

/** Images are split into a fixed number of groups (independent of the thread count); each group
 *  sums its images' products in order into its own partial, and the partials are added in
 *  group order: identical results for any thread count, no atomics. */
static void conv2dBackwardWeight(Context& ctx, const float* x, const float* dy, float* dw, float* db,
                                 const ConvShape& s, bool accumulate) {
#if INKLING_VEC
  if (directSingleChannelApplies(s)) return directSingleChannelBackwardWeight(ctx, x, dy, dw, db, s, accumulate);
#endif
  const int P = s.hOut() * s.wOut(), K = s.cIn * s.kh * s.kw, C = s.cOut;
  const i64 xImage = i64(s.cIn) * s.h * s.w, yImage = i64(C) * P;
  const int groups = std::max(1, std::min(s.n, 8));
  const size_t partialSize = size_t(K) * C + C;
  const bool winograd = winogradApplies(s);
  float* partials = ctx.partials.floats(partialSize * groups);
  ctx.pool.run(groups, [&](int g, int thread) {
    ThreadScratch& scratch = ctx.perThread[thread];
    float* dwT = partials + g * partialSize;  // [K, C]
    float* dbPart = dwT + size_t(K) * C;
    const int i0 = s.n * g / groups, i1 = s.n * (g + 1) / groups;
    for (int c = 0; c < C; ++c) dbPart[c] = 0.f;
    if (winograd) winogradBackwardWeightGroup(x, dy, s, i0, i1, dwT, scratch);
    float* col = winograd ? nullptr : scratch.columns.floats(size_t(K) * P);
    float* padded = winograd ? nullptr : scratch.tile.floats(size_t(s.h + 2 * s.pad) * (s.w + 2 * s.pad));
    for (int img = i0; img < i1; ++img) {
      const float* dyn = dy + img * yImage;
      if (!winograd) {
        if (s.stride == 1)
          im2colStride1(x + img * xImage, s, 0, P, col, padded);
        else
          im2col(x + img * xImage, s, 0, P, col);
        gemmSingle(K, C, P, View{col, P, 1}, View{dyn, 1, P}, dwT, C, img > i0, Epilogue{}, scratch);
      }
      if (db)
        // 8 interleaved sums: a single running sum is a chain of dependent adds (4 cycles
        // each), which cost conv1 more than its whole weight-gradient GEMM.
        for (int c = 0; c < C; ++c) dbPart[c] += sumFixedOrder(dyn + i64(c) * P, P);
    }
    if (i0 == i1 && !winograd) std::memset(dwT, 0, sizeof(float) * K * C);
  });
  // dw[c, k] (+)= Σ_g partial_g[k, c], in group order.
  ctx.pool.run(C, [&](int c, int) {
    for (int kk = 0; kk < K; ++kk) {
      float sum = 0.f;
      for (int g = 0; g < groups; ++g) sum += partials[g * partialSize + size_t(kk) * C + c];
      dw[i64(c) * K + kk] = accumulate ? dw[i64(c) * K + kk] + sum : sum;
    }
    if (db) {
      float sum = 0.f;
      for (int g = 0; g < groups; ++g) sum += partials[g * partialSize + size_t(K) * C + c];
      db[c] = accumulate ? db[c] + sum : sum;
    }
  });
}

}  // namespace INKLING_NS
