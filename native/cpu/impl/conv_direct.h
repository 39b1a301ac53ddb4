// Direct 3x3 stride-1 convolution of single-channel inputs (the seed CNN's conv1, 1 -> 32 channels),
// forward and weight gradient. Through im2col + GEMM its K is 9: every C tile of the GEMM is
// stored after only nine rank-1 updates, and each image's column matrix (9 x P) is built and then
// packed again before the GEMM reads it. Here each image is zero-padded once and every output
// vector is nine FMAs on shifted loads of the padded plane; the weight gradient is ten vector dot
// products per output channel (nine taps and the bias) in one read of dy, where im2col + GEMM
// also read dy a second time for the bias.
// Orders: an output is ((w0·x0 + w1·x1 + w2·x2) + (w3·x3 + … + w5·x5)) + (w6·x6 + … + w8·x8) (each
// kernel row's taps in kx order), + bias, then ReLU. The weight
// gradient sums images in a fixed number of groups (as conv2dBackwardWeight), each group's images
// and vector lanes in a fixed order, the groups in group order: no result depends on the threads.
#pragma once

namespace INKLING_NS {

#if INKLING_VEC
/** Row stride of the zero-padded plane: the w + 2·pad columns, then zeros up to where the last
 *  (partial) step of `span` output columns reaches with its taps, so that every load of x is a
 *  whole vector and the lanes past a row read zeros, never the next row's values (AVX2's masked
 *  loads cost conv1's weight gradient more than its full vectors did). The span is a vector, or
 *  two when the forward pools in registers. */
static inline int directPaddedStride(const ConvShape& s, int span = VL) {
  return std::max(s.w + 2 * s.pad, (s.wOut() + span - 1) / span * span + s.kw - 1);
}

/** Floats of one zero-padded plane, plus a vector of slack. */
static inline size_t directPaddedSize(const ConvShape& s, int span = VL) {
  return size_t(s.h + 2 * s.pad) * directPaddedStride(s, span) + VL;
}

static void padPlane(const float* x, const ConvShape& s, float* padded, int span = VL) {
  const int Wp = directPaddedStride(s, span);
  std::memset(padded, 0, sizeof(float) * directPaddedSize(s, span));
  for (int iy = 0; iy < s.h; ++iy) std::memcpy(padded + (iy + s.pad) * Wp + s.pad, x + i64(iy) * s.w, sizeof(float) * s.w);
}

/** The forward pass, each image's output where `sink` says (winograd.h's ConvOutputSink), or,
 *  when the sink pools 2x2 windows with stride 2 (conv_pool.h's poolsTiles), pooled in registers:
 *  a pair of output rows is what one row of pooling windows reads, and two vectors of a row
 *  split into their even and odd columns are its windows' left and right halves. The select tree
 *  is maxPool2x2Row's (left or right, per row, then top or bottom; NaNs and ties keep the first),
 *  so the pooled values are bit for bit the pool of the stored planes, and the planes are never
 *  stored (at batch 1, pooling them cost as much as computing them). */
template <class Sink>
static void directSingleChannelForwardInto(Context& ctx, const float* x, const float* w, const float* bias,
                                           const ConvShape& s, bool relu, const Sink& sink) {
  const int hOut = s.hOut(), wOut = s.wOut(), threads = ctx.pool.size();
  const bool pooled = sink.poolsTiles();
  const int span = pooled ? 2 * VL : VL, Wp = directPaddedStride(s, span);
  const int ph = hOut / 2, pw = wOut / 2;
  const i64 outPlane = i64(hOut) * wOut, pooledPlane = i64(ph) * pw;
  // Output channels are split too when there are fewer images than threads (batch-1 inference).
  const int groups = s.n >= 2 * threads ? 1 : std::min(s.cOut, (2 * threads + s.n - 1) / s.n);
  ctx.pool.run(s.n * groups, [&](int task, int thread) {
    const int img = task / groups, grp = task % groups;
    const int c0 = s.cOut * grp / groups, c1 = s.cOut * (grp + 1) / groups;
    float* padded = ctx.perThread[thread].tile.floats(directPaddedSize(s, span));
    padPlane(x + i64(img) * s.h * s.w, s, padded, span);
    float* image = pooled ? sink.pooledOut(img) : sink.image(img, thread);
    // Stores run in address order, so a row's last partial vector may be stored whole: its spill
    // lands on outputs this task writes later (AVX2 has no cheap masked store), unless it would
    // pass the end of the task's channels.
    const float* rangeEnd = image + i64(c1) * (pooled ? pooledPlane : outPlane);
    const auto put = [&](float* dst, vf v, int n) {
      if (dst + VL <= rangeEnd) vstore(dst, v);
      else vstoreN(dst, v, n);
    };
    for (int co = c0; co < c1; ++co) {
      vf wk[9];
      for (int k = 0; k < 9; ++k) wk[k] = vset1(w[co * 9 + k]);
      const vf b = vset1(bias ? bias[co] : 0.f), zero = vzero();
      // One kernel row's three taps: its own FMA chain, so that a pair of output rows keeps six
      // independent chains in flight (one chain of nine FMAs per output waited on its latency).
      const auto taps = [&](const float* r, int k) {
        return vfmadd(wk[k + 2], vload(r + 2), vfmadd(wk[k + 1], vload(r + 1), vmul(wk[k], vload(r))));
      };
      const auto finish = [&](vf top, vf mid, vf bottom) {
        const vf v = vadd(vadd(vadd(top, mid), bottom), b);
        return relu ? vmax(v, zero) : v;
      };
      // output rows oy and oy + 1 at columns [ox, ox + VL)
      const auto rowPair = [&](const float* r0, int ox, vf& upper, vf& lower) {
        const float *r1 = r0 + Wp, *r2 = r1 + Wp, *r3 = r2 + Wp;
        upper = finish(taps(r0 + ox, 0), taps(r1 + ox, 3), taps(r2 + ox, 6));
        lower = finish(taps(r1 + ox, 0), taps(r2 + ox, 3), taps(r3 + ox, 6));
      };
      if (pooled) {
        float* o = image + i64(co) * pooledPlane;
        for (int py = 0; py < ph; ++py) {
          const float* r0 = padded + 2 * py * Wp;
          for (int ox = 0; ox < 2 * pw; ox += 2 * VL) {
            vf u0, l0, u1, l1, ue, uo, le, lo;
            rowPair(r0, ox, u0, l0);
            rowPair(r0, ox + VL, u1, l1);
            vdeinterleave(u0, u1, ue, uo);
            vdeinterleave(l0, l1, le, lo);
            // maxPool2x2Row's tree: left or right per row, then top or bottom (winograd.h's
            // greaterOf, the select the batch-1 Winograd pool uses too)
            using L = WideLanes;
            const vf best = L::greaterOf(L::greaterOf(ue, uo), L::greaterOf(le, lo));
            put(o + py * pw + ox / 2, best, std::min(VL, pw - ox / 2));
          }
        }
        continue;
      }
      float* o = image + i64(co) * outPlane;
      int oy = 0;
      for (; oy + 2 <= hOut; oy += 2) {
        const float* r0 = padded + oy * Wp;
        float* upper = o + oy * wOut;
        float* lower = upper + wOut;
        for (int ox = 0; ox < wOut; ox += VL) {
          vf u, l;
          rowPair(r0, ox, u, l);
          const int n = std::min(VL, wOut - ox);
          // the upper row's spill would land on the lower row's outputs stored already
          vstoreN(upper + ox, u, n);
          put(lower + ox, l, n);
        }
      }
      for (; oy < hOut; ++oy) {
        const float* r0 = padded + oy * Wp;
        for (int ox = 0; ox < wOut; ox += VL) {
          const vf v = finish(taps(r0 + ox, 0), taps(r0 + Wp + ox, 3), taps(r0 + 2 * Wp + ox, 6));
          put(o + oy * wOut + ox, v, std::min(VL, wOut - ox));
        }
      }
    }
    if (!pooled) sink.done(img, c0, c1, thread, image);
  });
}


/** dw (+)= Σ_images dy ⋆ x, db (+)= Σ dy, in one pass over dy. */
static void directSingleChannelBackwardWeight(Context& ctx, const float* x, const float* dy, float* dw, float* db,
                                              const ConvShape& s, bool accumulate) {
  const int hOut = s.hOut(), wOut = s.wOut(), Wp = directPaddedStride(s), C = s.cOut;
  const i64 outPlane = i64(hOut) * wOut;
  const int groups = std::max(1, std::min(s.n, 8));
  const size_t padSize = directPaddedSize(s);
  float* partials = ctx.partials.floats(size_t(groups) * C * 10);  // [group][co][9 taps, bias]
  ctx.pool.run(groups, [&](int g, int thread) {
    const int i0 = s.n * g / groups, i1 = s.n * (g + 1) / groups;
    // The group's padded images (16 of conv1's at batch 128: 58 KB) stay in L2 while every
    // output channel's dy streams past them.
    float* padded = ctx.perThread[thread].columns.floats(padSize * std::max(1, i1 - i0));
    for (int img = i0; img < i1; ++img) padPlane(x + i64(img) * s.h * s.w, s, padded + (img - i0) * padSize);
    for (int co = 0; co < C; ++co) {
      vf acc[10];
      for (int k = 0; k < 10; ++k) acc[k] = vzero();
      for (int img = i0; img < i1; ++img) {
        const float* xp = padded + (img - i0) * padSize;
        const float* d = dy + (i64(img) * C + co) * outPlane;
        for (int oy = 0; oy < hOut; ++oy) {
          const float* r[3] = {xp + oy * Wp, xp + (oy + 1) * Wp, xp + (oy + 2) * Wp};
          for (int ox = 0; ox < wOut; ox += VL) {
            const int n = std::min(VL, wOut - ox);
            // Past the row, g's lanes are zero and x's read the padded plane's zero columns (not
            // the next row's values, which may be infinite: inf · 0 would poison the sums).
            const vf g = n == VL ? vload(d + oy * wOut + ox) : vloadN(d + oy * wOut + ox, n);
            for (int ky = 0; ky < 3; ++ky)
              for (int kx = 0; kx < 3; ++kx) acc[ky * 3 + kx] = vfmadd(g, vload(r[ky] + ox + kx), acc[ky * 3 + kx]);
            acc[9] = vadd(acc[9], g);
          }
        }
      }
      float* part = partials + (size_t(g) * C + co) * 10;
      for (int k = 0; k < 10; ++k) part[k] = vsum(acc[k]);
    }
  });
  for (int co = 0; co < C; ++co)
    for (int k = 0; k < 10; ++k) {
      float sum = 0.f;
      for (int g = 0; g < groups; ++g) sum += partials[(size_t(g) * C + co) * 10 + k];
      if (k < 9) dw[co * 9 + k] = accumulate ? dw[co * 9 + k] + sum : sum;
      else if (db) db[co] = accumulate ? db[co] + sum : sum;
    }
}
#endif

}  // namespace INKLING_NS
