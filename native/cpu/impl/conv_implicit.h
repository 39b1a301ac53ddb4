// Stride-1 convolution as an implicit GEMM, the method that won at the seed CNN's shapes (see
// native/cpu/README.md). For one image:
//   out[co, q] = Σ_k W[co, k] · B[k, q],   k = (ci, ky, kx),
//   B[k, q]   = xpad[ci, ky·Wp + kx + q],  q = oy·Wp + ox over the PADDED width Wp = w + 2·pad.
// Indexing pixels by q (the padded width) makes every row of B one contiguous run of the
// zero-padded input, so B is packed with 16-float copies and no im2col matrix exists; the price
// is computing Wp − wOut extra columns per output row (2 of 16 for conv2, 2 of 30 for conv1),
// which land in a scratch C and are dropped when the valid columns are copied out.
// The backward pass to the input at stride 1 is the same convolution of dy with the flipped,
// transposed kernel and pad' = k − 1 − pad.
#pragma once

namespace INKLING_NS {

/** One image, columns q in [q0, q1) of the padded-width pixel space (q0 a multiple of NR). */
static void convImplicitImage(const float* x, const ConvShape& s, const float* w, const float* bias, bool relu,
                              float* out, bool accumulate, int q0, int q1, ThreadScratch& scratch) {
  const int Hp = s.h + 2 * s.pad, Wp = s.w + 2 * s.pad, wOut = s.wOut(), P = s.hOut() * wOut;
  const int K = s.cIn * s.kh * s.kw;
  const i64 planeStride = i64(Hp) * Wp + Wp + 2 * NR;  // slack: the last panel reads past the plane
  // Padded planes: only rows that columns [q0, q1) read.
  const int py0 = q0 / Wp, py1 = std::min(Hp, (q1 - 1) / Wp + s.kh + 1);
  float* padded = scratch.tile.floats(size_t(s.cIn) * planeStride);
  for (int ci = 0; ci < s.cIn; ++ci) {
    float* plane = padded + ci * planeStride;
    const float* src = x + i64(ci) * s.h * s.w;
    for (int py = py0; py < py1; ++py) {
      float* row = plane + i64(py) * Wp;
      const int iy = py - s.pad;
      if (iy < 0 || iy >= s.h) {
        std::memset(row, 0, sizeof(float) * Wp);
        continue;
      }
      for (int t = 0; t < s.pad; ++t) row[t] = row[Wp - 1 - t] = 0.f;
      std::memcpy(row + s.pad, src + i64(iy) * s.w, sizeof(float) * s.w);
    }
    std::memset(plane + i64(py1) * Wp, 0, sizeof(float) * (planeStride - i64(py1) * Wp));
  }
  const int nq = q1 - q0, panels = (nq + NR - 1) / NR, ldc = panels * NR;
  const int kcMax = kBlock(K);
  float* pb = scratch.packB.floats(size_t(kcMax) * ldc);
  float* cTmp = scratch.columns.floats(size_t(s.cOut) * ldc);
  float* edge = scratch.packA.floats(size_t(kcMax) * MR);
  for (int pc = 0; pc < K; pc += kcMax) {
    const int kc = std::min(kcMax, K - pc);
    for (int kk = 0; kk < kc; ++kk) {
      const int k = pc + kk, ci = k / (s.kh * s.kw), ky = (k / s.kw) % s.kh, kx = k % s.kw;
      const float* row = padded + ci * planeStride + ky * Wp + kx + q0;
      float* dst = pb + kk * NR;
      for (int panel = 0; panel < panels; ++panel, dst += size_t(kc) * NR, row += NR)
        for (int j = 0; j < NR; ++j) dst[j] = row[j];
    }
    const bool last = pc + kc >= K;
    for (int ic = 0; ic < s.cOut; ic += MC) {
      const int mc = std::min(MC, s.cOut - ic);
      Epilogue ep{bias ? bias + ic : nullptr, nullptr, relu};
      macroKernel(mc, ldc, kc, edge, w + i64(ic) * K + pc, K, pb, cTmp + i64(ic) * ldc, ldc, pc > 0, ep, last);
    }
  }
  // Copy the valid columns (ox < wOut) out, row run by row run.
  for (int co = 0; co < s.cOut; ++co) {
    const float* src = cTmp + i64(co) * ldc;
    float* dst = out + i64(co) * P;
    for (int q = q0; q < q1;) {
      const int oy = q / Wp, ox = q % Wp;
      const int runEnd = std::min(q1, oy * Wp + wOut);
      if (ox < wOut) {
        float* o = dst + oy * wOut + ox;
        const float* c = src + (q - q0);
        const int len = runEnd - q;
        if (accumulate)
          for (int t = 0; t < len; ++t) o[t] += c[t];
        else
          for (int t = 0; t < len; ++t) o[t] = c[t];
      }
      q = (oy + 1) * Wp;
    }
  }
}

/** All images, split into padded-pixel chunks when there are fewer images than threads. */
static void convImplicit(Context& ctx, const float* x, const ConvShape& s, const float* w, const float* bias,
                         bool relu, float* out, bool accumulate) {
  const int wOut = s.wOut(), Wp = s.w + 2 * s.pad, threads = ctx.pool.size();
  const int Q = (s.hOut() - 1) * Wp + wOut;  // the last row's padding columns are not needed
  const int panels = (Q + NR - 1) / NR;
  const int chunks = s.n >= 2 * threads ? 1 : std::min(panels, (2 * threads + s.n - 1) / s.n);
  const i64 xImage = i64(s.cIn) * s.h * s.w, outImage = i64(s.cOut) * s.hOut() * wOut;
  ctx.pool.run(s.n * chunks, [&](int task, int thread) {
    const int img = task / chunks, chunk = task % chunks;
    const int q0 = panels * chunk / chunks * NR, q1 = std::min(Q, panels * (chunk + 1) / chunks * NR);
    if (q0 >= q1) return;
    convImplicitImage(x + img * xImage, s, w, bias, relu, out + img * outImage, accumulate, q0, q1,
                      ctx.perThread[thread]);
  });
}

static bool implicitBackwardInputApplies(const ConvShape& s) {
  return s.stride == 1 && s.kh == s.kw && s.pad <= s.kh - 1;
}

/** dx (+)= conv(dy, flip(W)ᵀ) with pad' = k − 1 − pad: W'[ci, co, ky, kx] = W[co, ci, k−1−ky, k−1−kx]. */
static void convImplicitBackwardInput(Context& ctx, const float* dy, const float* w, float* dx, const ConvShape& s,
                                      bool accumulate) {
  const int kk = s.kh * s.kw;
  float* wT = ctx.weights.floats(size_t(s.cIn) * s.cOut * kk);
  for (int co = 0; co < s.cOut; ++co)
    for (int ci = 0; ci < s.cIn; ++ci)
      for (int t = 0; t < kk; ++t) wT[(i64(ci) * s.cOut + co) * kk + (kk - 1 - t)] = w[(i64(co) * s.cIn + ci) * kk + t];
  const ConvShape back{s.n, s.cOut, s.hOut(), s.wOut(), s.cIn, s.kh, s.kw, 1, s.kh - 1 - s.pad};
  convImplicit(ctx, dy, back, wT, nullptr, false, dx, accumulate);
}

}  // namespace INKLING_NS
