// Machine limits for bench:kernels, measured with this ISA path's instructions:
// - peak FMA: independent FMA chains (16 zmm or 12 ymm accumulators, more than latency x
//   throughput), run on `threads` threads at once; 2 flops per lane per FMA. Measured with the
//   widest ISA of the table that runs it (bench:kernels asks the widest table this CPU runs).
// - triad: a[i] = b[i] + s·c[i] over arrays far larger than the caches; 12 bytes per element
//   (two reads, one write; write-allocate traffic not counted, as in STREAM).
#pragma once

#include <chrono>

namespace INKLING_NS {

static double nowSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

#if INKLING_AVX512
// 16 zmm chains: more than FMA latency (4) x units (2) on every AVX-512 core; 24 registers left.
static double fmaChains(i64 iterations) {
  vf acc[16];
  for (int i = 0; i < 16; ++i) acc[i] = vset1(0.001f * i);
  const vf a = vset1(0.999999f), b = vset1(1e-7f);
  for (i64 it = 0; it < iterations; ++it)
    for (int i = 0; i < 16; ++i) acc[i] = vfmadd(acc[i], a, b);
  vf s = acc[0];
  for (int i = 1; i < 16; ++i) s = vadd(s, acc[i]);
  return double(vsum(s));  // keeps the loop alive
}
constexpr int kFlopsPerIteration = 16 * 16 * 2;
#elif INKLING_AVX2
static double fmaChains(i64 iterations) {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps(0.001f * i);
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (i64 it = 0; it < iterations; ++it)
    for (int i = 0; i < 12; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  __m256 s = acc[0];
  for (int i = 1; i < 12; ++i) s = _mm256_add_ps(s, acc[i]);
  float out[8];
  _mm256_storeu_ps(out, s);
  return double(out[0]);  // keeps the loop alive
}
constexpr int kFlopsPerIteration = 12 * 8 * 2;
#elif INKLING_NEON
static double fmaChains(i64 iterations) {
  float32x4_t acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = vdupq_n_f32(0.001f * i);
  const float32x4_t a = vdupq_n_f32(0.999999f), b = vdupq_n_f32(1e-7f);
  for (i64 it = 0; it < iterations; ++it)
    for (int i = 0; i < 12; ++i) acc[i] = vfmaq_f32(b, acc[i], a);  // b + acc·a: one FMLA
  float32x4_t s = acc[0];
  for (int i = 1; i < 12; ++i) s = vaddq_f32(s, acc[i]);
  return double(vgetq_lane_f32(s, 0));  // keeps the loop alive
}
constexpr int kFlopsPerIteration = 12 * 4 * 2;
#else
static double fmaChains(i64 iterations) {
  float acc[12][4];
  for (int i = 0; i < 12; ++i)
    for (int l = 0; l < 4; ++l) acc[i][l] = 0.001f * i;
  for (i64 it = 0; it < iterations; ++it)
    for (int i = 0; i < 12; ++i)
      for (int l = 0; l < 4; ++l) acc[i][l] = acc[i][l] * 0.999999f + 1e-7f;
  double s = 0;
  for (int i = 0; i < 12; ++i) s += acc[i][0];
  return s;
}
constexpr int kFlopsPerIteration = 12 * 4 * 2;
#endif

static double peakFmaGflops(Context& ctx, int threads, double seconds) {
  threads = std::max(1, std::min(threads, ctx.pool.size()));
  const i64 iterations = 1 << 20;
  volatile double sink = 0;
  fmaChains(iterations / 8);  // warm up (clock ramps)
  double best = 0;
  const double end = nowSeconds() + seconds;
  while (nowSeconds() < end) {
    const double t0 = nowSeconds();
    ctx.pool.run(threads, [&](int, int) { sink = sink + fmaChains(iterations); });
    const double dt = nowSeconds() - t0;
    best = std::max(best, double(threads) * iterations * kFlopsPerIteration / dt / 1e9);
  }
  return best;
}

static double triadGBps(Context& ctx, int threads, double seconds) {
  threads = std::max(1, std::min(threads, ctx.pool.size()));
  const i64 n = i64(16) << 20;  // 16M floats = 64 MiB per array
  float* a = ctx.temp.floats(size_t(n) * 3);
  float* b = a + n;
  float* c = b + n;
  for (i64 i = 0; i < n; ++i) { b[i] = 1.f; c[i] = 2.f; a[i] = 0.f; }
  double best = 0;
  const double end = nowSeconds() + seconds;
  do {
    const double t0 = nowSeconds();
    ctx.pool.run(threads, [&](int t, int) {
      const i64 i0 = n * t / threads, i1 = n * (t + 1) / threads;
      for (i64 i = i0; i < i1; ++i) a[i] = b[i] + 3.f * c[i];
    });
    const double dt = nowSeconds() - t0;
    best = std::max(best, 12.0 * double(n) / dt / 1e9);
  } while (nowSeconds() < end);
  return best;
}

}  // namespace INKLING_NS
