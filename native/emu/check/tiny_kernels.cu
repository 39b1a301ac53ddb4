// Every launcher of native/cuda/kernels.h on tiny shapes, through the real host side (Context, the
// caching allocator, readback, graph capture and replay), checked against plain CPU loops. Built
// by test/cuda-emu/sanitizers.stage.ts twice: with ThreadSanitizer (the emulator then runs one OS
// thread per CUDA thread, so a missing barrier or an unsynchronised shared-memory access is a
// reported race) and with AddressSanitizer + UndefinedBehaviorSanitizer (device buffers are exact
// malloc'd ranges with ASan-poisoned guards: any out-of-bounds access is reported with the kernel's
// stack). The shapes exercise split-K, multi-chunk reductions, stride-2 gathers and odd sizes while
// keeping each grid to a few blocks. INKLING_TINY_MINIMAL=1 (the ThreadSanitizer run, where every
// emulated thread is an OS thread) keeps one shape per kernel instantiation and one split-K or
// multi-chunk shape per family. Prints `ok <name>` / `FAIL <name>: why`; exit status 1 on any
// failure.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "addon/context.h"
#include "kernels.h"

using namespace inkling;

namespace {

int failures = 0;
const bool minimal = std::getenv("INKLING_TINY_MINIMAL") && std::getenv("INKLING_TINY_MINIMAL")[0] == '1';

void report(const std::string& name, bool ok, const std::string& why = "") {
  std::printf("%s %s%s%s\n", ok ? "ok" : "FAIL", name.c_str(), ok ? "" : ": ", why.c_str());
  if (!ok) failures++;
}

std::vector<float> randoms(size_t n, unsigned seed, float lo = -1.f, float hi = 1.f) {
  std::vector<float> v(n);
  unsigned s = seed * 2654435761u + 12345u;
  for (auto& x : v) {
    s = s * 1664525u + 1013904223u;
    x = lo + (hi - lo) * static_cast<float>(s >> 8) / 16777216.f;
  }
  return v;
}

// Normalised max error, as the conformance table measures it.
double error(const std::vector<float>& got, const std::vector<double>& want) {
  double diff = 0, ref = 0;
  for (size_t i = 0; i < want.size(); i++) {
    if (!std::isfinite(got[i])) return INFINITY;
    diff = std::fmax(diff, std::fabs(got[i] - want[i]));
    ref = std::fmax(ref, std::fabs(want[i]));
  }
  return diff / (ref > 0 ? ref : 1);
}

void expectClose(const std::string& name, const std::vector<float>& got, const std::vector<double>& want, double tol) {
  const double e = error(got, want);
  report(name, e <= tol, "normalized error " + std::to_string(e));
}

struct Device {
  Context ctx;
  std::vector<void*> owned;
  explicit Device(GemmVariant v) : ctx(0, v) {}
  ~Device() {
    for (void* p : owned) ctx.release(p);
  }
  template <class T>
  T* put(const std::vector<T>& h) {
    void* p = ctx.allocate(h.size() * sizeof(T));
    owned.push_back(p);
    ctx.upload(p, h.data(), h.size() * sizeof(T));
    return static_cast<T*>(p);
  }
  template <class T>
  std::vector<T> get(const T* p, size_t n) {
    std::vector<T> h(n);
    const uint32_t id = ctx.beginDownload(p, n * sizeof(T));
    while (!ctx.poll(id)) {
    }
    ctx.finishDownload(id, h.data());
    return h;
  }
  void run(const std::function<void(const LaunchEnv&)>& f) {
    LaunchEnv env = ctx.env();
    f(env);
    ctx.endLaunch();
  }
};

std::vector<double> matmulRef(const std::vector<float>& a, const std::vector<float>& b, const std::vector<float>* bias,
                              const std::vector<float>& prior, int m, int n, int k, bool ta, bool tb, bool acc, bool relu) {
  std::vector<double> c(static_cast<size_t>(m) * n);
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) {
      double s = 0;
      for (int q = 0; q < k; q++) s += (double)(ta ? a[q * m + i] : a[i * k + q]) * (tb ? b[j * k + q] : b[q * n + j]);
      if (bias) s += (*bias)[j];
      if (relu) s = s > 0 ? s : 0;
      c[i * n + j] = (acc ? prior[i * n + j] : 0.0) + s;
    }
  return c;
}

void elementwise(Device& d) {
  const int n = minimal ? 199 : 301;
  auto x = randoms(n, 1, 0.1f, 2.f), y = randoms(n, 2);
  float* dx = d.put(x);
  float* dy = d.put(y);
  float* out = d.put(std::vector<float>(n));
  const char* unaryNames[] = {"neg", "exp", "log", "sqrt", "abs", "relu"};
  for (int op = 0; op < 6; op++) {
    d.run([&](const LaunchEnv& e) { launchUnary(e, static_cast<UnaryOp>(op), dx, out, n); });
    std::vector<double> want(n);
    for (int i = 0; i < n; i++) {
      const double v = x[i];
      want[i] = op == 0 ? -v : op == 1 ? std::exp(v) : op == 2 ? std::log(v) : op == 3 ? std::sqrt(v) : op == 4 ? std::fabs(v) : (v > 0 ? v : 0);
    }
    expectClose(std::string("unary ") + unaryNames[op], d.get(out, n), want, 1e-6);
  }
  const char* binaryNames[] = {"add", "sub", "mul", "div", "max"};
  for (int op = 0; op < 5; op++) {
    d.run([&](const LaunchEnv& e) { launchBinary(e, static_cast<BinaryOp>(op), dy, dx, out, n); });
    std::vector<double> want(n);
    for (int i = 0; i < n; i++) {
      const double a = y[i], b = x[i];
      want[i] = op == 0 ? a + b : op == 1 ? a - b : op == 2 ? a * b : op == 3 ? a / b : std::fmax(a, b);
    }
    expectClose(std::string("binary ") + binaryNames[op], d.get(out, n), want, 1e-6);
  }
  d.run([&](const LaunchEnv& e) { launchScale(e, dx, -2.f, 0.5f, out, n); });
  std::vector<double> want(n);
  for (int i = 0; i < n; i++) want[i] = -2.0 * x[i] + 0.5;
  expectClose("scale", d.get(out, n), want, 1e-6);
  d.run([&](const LaunchEnv& e) { launchAxpy(e, 0.25f, dx, dy, n); });
  for (int i = 0; i < n; i++) want[i] = y[i] + 0.25 * x[i];
  expectClose("axpy", d.get(dy, n), want, 1e-6);
  d.run([&](const LaunchEnv& e) { launchReluBackward(e, dy, dx, out, n, false); });
  auto y2 = d.get(dy, n);
  for (int i = 0; i < n; i++) want[i] = y2[i] > 0 ? x[i] : 0;
  expectClose("reluBackward", d.get(out, n), want, 0);
  d.run([&](const LaunchEnv& e) { launchFill32(e, reinterpret_cast<uint32_t*>(out), 0x3f800000u, n); });
  report("fill32", d.get(out, n) == std::vector<float>(n, 1.f));
}

uint32_t lowbias32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

void dropout(Device& d) {
  const int n = 600, spatial = 3;
  auto x = randoms(n, 3);
  float* dx = d.put(x);
  float* out = d.put(std::vector<float>(n));
  const float p = 0.3f;
  const uint32_t thr = static_cast<uint32_t>(std::ceil(static_cast<double>(p) * 16777216.0));
  d.run([&](const LaunchEnv& e) { launchDropout(e, dx, out, n, 99, 5, thr, 1.f / (1.f - p), spatial, false, false); });
  const uint32_t key = lowbias32(99u ^ (5u * 0x85ebca6bu));
  std::vector<double> want(n);
  for (int i = 0; i < n; i++) {
    const uint32_t bits = lowbias32((static_cast<uint32_t>(i / spatial) * 0x9e3779b1u) ^ key);
    want[i] = (bits >> 8) >= thr ? x[i] * (1.f / (1.f - p)) : 0.0;
  }
  expectClose("dropout2d forward", d.get(out, n), want, 1e-7);
  d.run([&](const LaunchEnv& e) { launchDropout(e, dx, out, n, 99, 5, thr, 1.f / (1.f - p), spatial, true, true); });
  for (int i = 0; i < n; i++) want[i] *= 2;
  expectClose("dropout2d backward, accumulating", d.get(out, n), want, 1e-7);
}

void reductions(Device& d) {
  struct Shape {
    int outer, channels, inner;
  };
  for (Shape s : {Shape{3, 5, 7}, Shape{1, 2, 4500}}) {  // the second: several chunks and the final pass
    const int size = s.outer * s.channels * s.inner;
    auto x = randoms(size, 4);
    float* dx = d.put(x);
    float* out = d.put(std::vector<float>(s.channels, 1.f));
    d.run([&](const LaunchEnv& e) { launchChannelSum(e, dx, out, s.outer, s.channels, s.inner, true); });
    std::vector<double> want(s.channels, 1.0);
    for (int o = 0; o < s.outer; o++)
      for (int c = 0; c < s.channels; c++)
        for (int i = 0; i < s.inner; i++) want[c] += x[(o * s.channels + c) * s.inner + i];
    expectClose("channelSum " + std::to_string(s.outer) + "x" + std::to_string(s.channels) + "x" + std::to_string(s.inner), d.get(out, s.channels), want, 1e-5);
  }
  const int rows = 20, cols = 13;
  auto x = randoms(rows * cols, 5);
  float* dx = d.put(x);
  int32_t* idx = d.put(std::vector<int32_t>(rows));
  d.run([&](const LaunchEnv& e) { launchArgmax(e, dx, idx, rows, cols); });
  auto got = d.get(idx, rows);
  bool ok = true;
  for (int r = 0; r < rows; r++) {
    int best = 0;
    for (int j = 1; j < cols; j++)
      if (x[r * cols + j] > x[r * cols + best]) best = j;
    ok &= got[r] == best;
  }
  report("argmax", ok);
  std::vector<int32_t> a(700), b(700);
  int same = 0;
  for (int i = 0; i < 700; i++) {
    a[i] = i % 7;
    b[i] = i % 5;
    same += a[i] == b[i];
  }
  float* count = d.put(std::vector<float>{2.f});
  int32_t* da = d.put(a);
  int32_t* db = d.put(b);
  d.run([&](const LaunchEnv& e) { launchCountEqual(e, da, db, count, 700, true); });
  report("countEqual", d.get(count, 1)[0] == 2.f + same);
}

void gemms(Device& d, GemmVariant v, double tol) {
  const char* tag = v == GemmVariant::Tf32 ? " tf32" : " simt";
  struct Shape {
    int m, n, k;
  };
  for (Shape s : {Shape{19, 13, 21}, Shape{8, 8, 300}}) {  // the second splits K over two blocks
    for (int t = 0; t < 4; t++) {
      if (minimal && s.k == 300 && t > 0) continue;
      const bool ta = t & 1, tb = t & 2, acc = t == 3, relu = t == 2;
      auto a = randoms(s.m * s.k, 6 + t), b = randoms(s.k * s.n, 7 + t), bias = randoms(s.n, 8), prior = randoms(s.m * s.n, 9);
      float* da = d.put(a);
      float* db = d.put(b);
      float* dbias = d.put(bias);
      float* out = d.put(prior);
      d.run([&](const LaunchEnv& e) { launchMatmul(e, v, da, db, dbias, out, s.m, s.n, s.k, ta, tb, acc, relu); });
      expectClose("matmul m" + std::to_string(s.m) + " n" + std::to_string(s.n) + " k" + std::to_string(s.k) + (ta ? " At" : " A") +
                      (tb ? "Bt" : "B") + tag,
                  d.get(out, s.m * s.n), matmulRef(a, b, &bias, prior, s.m, s.n, s.k, ta, tb, acc, relu), tol);
    }
  }
  // The second shape's weight gradient has K = n·144 ≥ 256 rows: split-K.
  for (ConvShape s : {ConvShape{2, 3, 7, 7, 4, 3, 3, 2, 1, 4, 4}, ConvShape{minimal ? 2 : 4, 2, 12, 12, 4, 3, 3, 1, 1, 12, 12}}) {
    if (minimal && v == GemmVariant::Tf32 && s.stride == 1) continue;
    const std::string name = std::string(" n") + std::to_string(s.n) + " s" + std::to_string(s.stride) + tag;
    const int xs = s.n * s.cIn * s.h * s.w, ws = s.cOut * s.cIn * s.kh * s.kw, ys = s.n * s.cOut * s.hOut * s.wOut;
    auto x = randoms(xs, 10), w = randoms(ws, 11), bias = randoms(s.cOut, 12), dy = randoms(ys, 13);
    float* dx = d.put(x);
    float* dw = d.put(w);
    float* dbias = d.put(bias);
    float* ddy = d.put(dy);
    float* y = d.put(std::vector<float>(ys));
    float* gx = d.put(std::vector<float>(xs));
    float* gw = d.put(std::vector<float>(ws));
    float* gb = d.put(std::vector<float>(s.cOut));
    d.run([&](const LaunchEnv& e) { launchConv2d(e, v, dx, dw, dbias, y, s, false); });
    d.run([&](const LaunchEnv& e) { launchConv2dBackwardInput(e, v, ddy, dw, gx, s, false); });
    d.run([&](const LaunchEnv& e) { launchConv2dBackwardWeight(e, v, dx, ddy, gw, gb, s, false); });
    std::vector<double> wy(ys, 0), wgx(xs, 0), wgw(ws, 0), wgb(s.cOut, 0);
    for (int n = 0; n < s.n; n++)
      for (int co = 0; co < s.cOut; co++)
        for (int oy = 0; oy < s.hOut; oy++)
          for (int ox = 0; ox < s.wOut; ox++) {
            const int yi = ((n * s.cOut + co) * s.hOut + oy) * s.wOut + ox;
            double acc = bias[co];
            for (int ci = 0; ci < s.cIn; ci++)
              for (int ky = 0; ky < s.kh; ky++)
                for (int kx = 0; kx < s.kw; kx++) {
                  const int iy = oy * s.stride - s.pad + ky, ix = ox * s.stride - s.pad + kx;
                  if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w) continue;
                  const int xi = ((n * s.cIn + ci) * s.h + iy) * s.w + ix, wi = ((co * s.cIn + ci) * s.kh + ky) * s.kw + kx;
                  acc += (double)x[xi] * w[wi];
                  wgx[xi] += (double)dy[yi] * w[wi];
                  wgw[wi] += (double)dy[yi] * x[xi];
                }
            wy[yi] = acc;
            wgb[co] += dy[yi];
          }
    expectClose("conv2d" + name, d.get(y, ys), wy, tol);
    expectClose("conv2dBackwardInput" + name, d.get(gx, xs), wgx, tol);
    expectClose("conv2dBackwardWeight" + name, d.get(gw, ws), wgw, tol);
    expectClose("conv2dBackwardWeight bias" + name, d.get(gb, s.cOut), wgb, 1e-5);
  }
}

void normalisation(Device& d) {
  // The second shape has 4200 values per channel: several chunks and the final merge.
  for (BnShape s : {BnShape{3, 4, 5, 1e-5f, 0.1f}, minimal ? BnShape{1, 1, 4200, 1e-5f, 0.1f} : BnShape{2, 2, 2100, 1e-5f, 0.1f}}) {
    const int size = s.n * s.c * s.spatial;
    auto x = randoms(size, 14, -2.f, 3.f), dy = randoms(size, 15), gamma = randoms(s.c, 16), beta = randoms(s.c, 17);
    float* dx = d.put(x);
    float* ddy = d.put(dy);
    float* dg = d.put(gamma);
    float* db = d.put(beta);
    float* rm = d.put(std::vector<float>(s.c, 0.f));
    float* rv = d.put(std::vector<float>(s.c, 1.f));
    float* out = d.put(std::vector<float>(size));
    float* mean = d.put(std::vector<float>(s.c));
    float* invStd = d.put(std::vector<float>(s.c));
    float* gx = d.put(std::vector<float>(size));
    float* gg = d.put(std::vector<float>(s.c));
    float* gb = d.put(std::vector<float>(s.c));
    d.run([&](const LaunchEnv& e) { launchBatchNormTrain(e, dx, dg, db, rm, rv, out, mean, invStd, s, true); });
    std::vector<double> wm(s.c, 0), wv(s.c, 0), wy(size);
    const double per = static_cast<double>(s.n) * s.spatial;
    for (int i = 0; i < size; i++) wm[(i / s.spatial) % s.c] += x[i] / per;
    for (int i = 0; i < size; i++) {
      const int c = (i / s.spatial) % s.c;
      wv[c] += (x[i] - wm[c]) * (x[i] - wm[c]) / per;
    }
    for (int i = 0; i < size; i++) {
      const int c = (i / s.spatial) % s.c;
      const double v = gamma[c] * (x[i] - wm[c]) / std::sqrt(wv[c] + s.eps) + beta[c];
      wy[i] = v > 0 ? v : 0;
    }
    const std::string tag = " c" + std::to_string(s.c) + " spatial " + std::to_string(s.spatial);
    expectClose("batchNormTrain (relu)" + tag, d.get(out, size), wy, 1e-5);
    expectClose("batchNormTrain mean" + tag, d.get(mean, s.c), wm, 1e-5);
    d.run([&](const LaunchEnv& e) { launchBatchNormInference(e, dx, dg, db, rm, rv, out, s, false); });
    auto rmv = d.get(rm, s.c);
    auto rvv = d.get(rv, s.c);
    for (int i = 0; i < size; i++) {
      const int c = (i / s.spatial) % s.c;
      wy[i] = gamma[c] * (x[i] - rmv[c]) / std::sqrt(rvv[c] + s.eps) + beta[c];
    }
    expectClose("batchNormInference" + tag, d.get(out, size), wy, 1e-5);
    d.run([&](const LaunchEnv& e) { launchBatchNormBackward(e, dx, ddy, dg, mean, invStd, gx, gg, gb, s, false); });
    std::vector<double> sdy(s.c, 0), sdyx(s.c, 0), wgx(size);
    for (int i = 0; i < size; i++) {
      const int c = (i / s.spatial) % s.c;
      sdy[c] += dy[i];
      sdyx[c] += dy[i] * (x[i] - wm[c]) / std::sqrt(wv[c] + s.eps);
    }
    for (int i = 0; i < size; i++) {
      const int c = (i / s.spatial) % s.c;
      const double is = 1 / std::sqrt(wv[c] + s.eps), xhat = (x[i] - wm[c]) * is;
      wgx[i] = gamma[c] * is / per * (per * dy[i] - sdy[c] - xhat * sdyx[c]);
    }
    expectClose("batchNormBackward dx" + tag, d.get(gx, size), wgx, 1e-4);
    expectClose("batchNormBackward dgamma" + tag, d.get(gg, s.c), sdyx, 1e-5);
  }
}

void pooling(Device& d) {
  const PoolShape s{2, 3, 9, 9, 2, 2, 2, 4, 4};
  const int xs = s.n * s.c * s.h * s.w, ys = s.n * s.c * s.hOut * s.wOut;
  auto x = randoms(xs, 18), dy = randoms(ys, 19);
  float* dx = d.put(x);
  float* ddy = d.put(dy);
  float* out = d.put(std::vector<float>(ys));
  int32_t* arg = d.put(std::vector<int32_t>(ys));
  float* gx = d.put(std::vector<float>(xs));
  d.run([&](const LaunchEnv& e) { launchMaxPool2d(e, dx, out, arg, s); });
  d.run([&](const LaunchEnv& e) { launchMaxPool2dBackward(e, ddy, arg, gx, s); });
  std::vector<double> wy(ys), wgx(xs, 0);
  for (int p = 0; p < s.n * s.c; p++)
    for (int oy = 0; oy < s.hOut; oy++)
      for (int ox = 0; ox < s.wOut; ox++) {
        int best = -1;
        for (int ky = 0; ky < s.kh; ky++)
          for (int kx = 0; kx < s.kw; kx++) {
            const int idx = (oy * s.stride + ky) * s.w + ox * s.stride + kx;
            if (best < 0 || x[p * s.h * s.w + idx] > x[p * s.h * s.w + best]) best = idx;
          }
        const int o = (p * s.hOut + oy) * s.wOut + ox;
        wy[o] = x[p * s.h * s.w + best];
        wgx[p * s.h * s.w + best] += dy[o];
      }
  expectClose("maxPool2d 2x2 s2 on 9x9", d.get(out, ys), wy, 0);
  expectClose("maxPool2dBackward", d.get(gx, xs), wgx, 1e-6);
  const PoolShape a{2, 3, 9, 9, 3, 3, 2, 4, 4};
  d.run([&](const LaunchEnv& e) { launchAvgPool2d(e, dx, out, a); });
  d.run([&](const LaunchEnv& e) { launchAvgPool2dBackward(e, ddy, gx, a); });
  std::fill(wgx.begin(), wgx.end(), 0.0);
  for (int p = 0; p < a.n * a.c; p++)
    for (int oy = 0; oy < a.hOut; oy++)
      for (int ox = 0; ox < a.wOut; ox++) {
        double sum = 0;
        const int o = (p * a.hOut + oy) * a.wOut + ox;
        for (int ky = 0; ky < a.kh; ky++)
          for (int kx = 0; kx < a.kw; kx++) {
            const int idx = p * a.h * a.w + (oy * a.stride + ky) * a.w + ox * a.stride + kx;
            sum += x[idx];
            wgx[idx] += dy[o] / 9.0;
          }
        wy[o] = sum / 9.0;
      }
  expectClose("avgPool2d 3x3 s2 (overlapping)", d.get(out, ys), wy, 1e-6);
  expectClose("avgPool2dBackward", d.get(gx, xs), wgx, 1e-6);
}

void softmaxes(Device& d) {
  const int rows = 9, cols = 37;  // cols > 32: each lane loops
  auto x = randoms(rows * cols, 20, -3.f, 3.f);
  float* dx = d.put(x);
  float* out = d.put(std::vector<float>(rows * cols));
  std::vector<double> logp(rows * cols);
  for (int r = 0; r < rows; r++) {
    double m = -INFINITY, s = 0;
    for (int j = 0; j < cols; j++) m = std::fmax(m, x[r * cols + j]);
    for (int j = 0; j < cols; j++) s += std::exp(x[r * cols + j] - m);
    for (int j = 0; j < cols; j++) logp[r * cols + j] = x[r * cols + j] - m - std::log(s);
  }
  d.run([&](const LaunchEnv& e) { launchSoftmax(e, dx, out, rows, cols, true); });
  expectClose("logSoftmax 9x37", d.get(out, rows * cols), logp, 1e-5);
  std::vector<int32_t> labels(rows);
  for (int r = 0; r < rows; r++) labels[r] = (r * 7) % cols;
  int32_t* dl = d.put(labels);
  float* loss = d.put(std::vector<float>(1));
  float* dloss = d.put(std::vector<float>{1.f});
  float* grad = d.put(std::vector<float>(rows * cols));
  const float smoothing = 0.1f;
  d.run([&](const LaunchEnv& e) { launchSoftmaxCrossEntropy(e, dx, dl, out, loss, rows, cols, smoothing); });
  d.run([&](const LaunchEnv& e) { launchSoftmaxCrossEntropyBackward(e, out, dl, dloss, grad, rows, cols, smoothing, false); });
  double want = 0;
  std::vector<double> wg(rows * cols);
  for (int r = 0; r < rows; r++) {
    double sumLogp = 0;
    for (int j = 0; j < cols; j++) sumLogp += logp[r * cols + j];
    want += (-(1 - smoothing) * logp[r * cols + labels[r]] - smoothing / cols * sumLogp) / rows;
    for (int j = 0; j < cols; j++) wg[r * cols + j] = (std::exp(logp[r * cols + j]) - ((j == labels[r] ? 1 - smoothing : 0) + smoothing / cols)) / rows;
  }
  expectClose("softmaxCrossEntropy (label smoothing 0.1)", d.get(loss, 1), {want}, 1e-5);
  expectClose("softmaxCrossEntropyBackward", d.get(grad, rows * cols), wg, 1e-5);
}

void optimizers(Device& d) {
  const int n = 333;
  auto p = randoms(n, 21), g = randoms(n, 22), v0 = randoms(n, 23, 0.f, 0.1f);
  float* dp = d.put(p);
  float* dg = d.put(g);
  float* dv = d.put(v0);
  const SgdArgs sa{0.1f, 0.9f, 0.1f, 0.01f, true};
  d.run([&](const LaunchEnv& e) { launchSgdStep(e, dp, dg, dv, n, sa); });
  std::vector<double> wp(n);
  for (int i = 0; i < n; i++) {
    double gi = g[i] + 0.01 * p[i];
    const double vi = 0.9 * v0[i] + 0.9 * gi;
    gi = gi + 0.9 * vi;
    wp[i] = p[i] - 0.1 * gi;
  }
  expectClose("sgd (momentum, dampening, Nesterov, weight decay)", d.get(dp, n), wp, 1e-6);
  float* ap = d.put(p);
  float* m = d.put(std::vector<float>(n, 0.f));
  float* v = d.put(std::vector<float>(n, 0.f));
  const AdamArgs aa{0.01f, 0.9f, 0.999f, 1e-8f, 0.1f, true, 1};
  d.run([&](const LaunchEnv& e) { launchAdamStep(e, ap, dg, m, v, n, aa); });
  for (int i = 0; i < n; i++) {
    const double w = p[i] - 0.01 * 0.1 * p[i];
    const double mi = 0.1 * g[i], vi = 0.001 * g[i] * g[i];
    wp[i] = w - 0.01 * (mi / 0.1) / (std::sqrt(vi / 0.001) + 1e-8);
  }
  expectClose("adamW step 1", d.get(ap, n), wp, 1e-5);
}

// A captured step (an upload, a matmul and an Adam update) replayed with a new learning rate.
void graphs(Device& d) {
  const int n = 64;
  auto a = randoms(n * n, 24), x = randoms(n, 25);
  float* da = d.put(a);
  float* dx = d.put(x);
  float* y = d.put(std::vector<float>(n));
  float* m = d.put(std::vector<float>(n, 0.f));
  float* v = d.put(std::vector<float>(n, 0.f));
  d.ctx.beginCapture();
  auto x2 = randoms(n, 26);
  d.ctx.upload(dx, x2.data(), n * sizeof(float));
  d.run([&](const LaunchEnv& e) { launchMatmul(e, GemmVariant::Simt, da, dx, nullptr, y, n, 1, n, false, false, false, false); });
  d.run([&](const LaunchEnv& e) { launchAdamStep(e, dx, y, m, v, n, AdamArgs{0.001f, 0.9f, 0.999f, 1e-8f, 0.f, false, 1}); });
  d.ctx.endCapture();
  const auto afterCapture = d.get(dx, n);
  d.ctx.replay(0.5f);
  const auto afterReplay = d.get(dx, n);
  bool finite = true;
  double moved = 0;
  for (int i = 0; i < n; i++) {
    finite &= std::isfinite(afterReplay[i]);
    moved = std::fmax(moved, std::fabs(afterReplay[i] - afterCapture[i]));
  }
  // Step 1 of Adam moves each weight by lr·sign(g) (bias-corrected m/sqrt(v) = g/|g|): the replay
  // (t = 2, lr 0.5 from the hyper block) must move the weights by about 0.5, not 0.001.
  report("graph capture, endCapture and replay with a new lr", finite && moved > 0.1, "max move " + std::to_string(moved));
  d.ctx.releaseGraph();
}

}  // namespace

int main() {
  try {
    {
      Device d(GemmVariant::Simt);
      elementwise(d);
      dropout(d);
      reductions(d);
      gemms(d, GemmVariant::Simt, 1e-5);
      normalisation(d);
      pooling(d);
      softmaxes(d);
      optimizers(d);
      graphs(d);
    }
    {
      Device d(GemmVariant::Tf32);
      gemms(d, GemmVariant::Tf32, 5e-3);
    }
  } catch (const std::exception& e) {
    std::printf("FAIL exception: %s\n", e.what());
    failures++;
  }
  const auto st = inkling::emu::cuda::stats();
  std::printf("# %llu launches, %llu blocks, %llu emulated threads\n", st.launches, st.blocks, st.threads);
  std::printf("%d failed\n", failures);
  return failures == 0 ? 0 : 1;
}
