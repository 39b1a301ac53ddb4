// Standalone check and timing of every non-GEMM kernel family against plain CPU loops:
// elementwise, dropout (the hash pinned to the TS values of src/nn/dropout-rng.ts), reductions
// (bit-identical on a rerun: deterministic), batchnorm, pooling, softmax / cross-entropy,
// SGD / Adam (including the hyper block that graph replays use).
//
//   nvcc -O3 -std=c++17 -arch=sm_90 -o kernels_check native/cuda/dev/kernels_check.cu && ./kernels_check
//
// Timings are at the seed CNN's batch-512 shapes, with GB/s against the card's DRAM bandwidth
// printed by the harness. Exit status 1 when any check fails.
#include <algorithm>
#include <cstring>

#include "../batchnorm.cu"
#include "../dropout.cu"
#include "../elementwise.cu"
#include "../optim.cu"
#include "../pool.cu"
#include "../reduce.cu"
#include "../softmax.cu"
#include "harness.cuh"

using namespace inkling;

static uint32_t lowbias32Cpu(uint32_t x) {
  x ^= x >> 16; x *= 0x7feb352du; x ^= x >> 15; x *= 0x846ca68bu; x ^= x >> 16;
  return x;
}

int main() {
  try {
    dev::Env env;
    auto le = env.launch();
    bool ok = true;
    auto sync = [] { CUDA_CHECK(cudaDeviceSynchronize()); };

    // ---- dropout: the hash itself, then the mask ----
    {
      ok &= lowbias32Cpu(1) == 1753845952u && lowbias32Cpu(0xdeadbeefu) == 3861431939u;
      const uint32_t key = lowbias32Cpu(1234u ^ (7u * 0x85ebca6bu));
      ok &= key == 2261802083u;
      printf("  dropout hash pinned to the TS vectors: %s\n", ok ? "ok" : "FAIL");
      const int n = 4096, spatial = 4;
      auto x = dev::randomVector(n, 1);
      dev::DeviceVec<float> gx(x), gy(n);
      const float p = 0.25f;
      const uint32_t thr = (uint32_t)std::ceil((double)p * 16777216.0);
      launchDropout(le, gx.ptr, gy.ptr, n, 1234, 7, thr, 1.f / (1.f - p), spatial, false, false);
      sync();
      std::vector<float> want(n);
      for (int i = 0; i < n; i++) {
        uint32_t bits = lowbias32Cpu(((uint32_t)(i / spatial) * 0x9e3779b1u) ^ key);
        want[i] = (bits >> 8) >= thr ? x[i] * (1.f / (1.f - p)) : 0.f;
      }
      ok &= dev::compare("dropout2d mask and scale (seed 1234, step 7)", gy.get(), want, 0);
    }

    // ---- elementwise ----
    {
      const int n = 1000;
      auto x = dev::randomVector(n, 2), dy = dev::randomVector(n, 3);
      dev::DeviceVec<float> gx(x), gdy(dy), gout(n);
      launchScale(le, gx.ptr, 2.f, -1.f, gout.ptr, n);
      sync();
      std::vector<float> want(n);
      for (int i = 0; i < n; i++) want[i] = 2.f * x[i] - 1.f;
      ok &= dev::compare("scale 2x − 1", gout.get(), want, 1e-6);
      launchReluBackward(le, gx.ptr, gdy.ptr, gout.ptr, n, true);
      sync();
      for (int i = 0; i < n; i++) want[i] += x[i] > 0 ? dy[i] : 0.f;
      ok &= dev::compare("reluBackward accumulate", gout.get(), want, 1e-6);
    }

    // ---- reductions ----
    {
      const int outer = 512, channels = 64, inner = 196;
      const size_t n = (size_t)outer * channels * inner;
      auto x = dev::randomVector(n, 4);
      dev::DeviceVec<float> gx(x), gs(channels), gs2(channels);
      launchChannelSum(le, gx.ptr, gs.ptr, outer, channels, inner, false);
      launchChannelSum(le, gx.ptr, gs2.ptr, outer, channels, inner, false);
      sync();
      std::vector<float> want(channels, 0.f);
      for (int o = 0; o < outer; o++)
        for (int c = 0; c < channels; c++) {
          double s = 0;
          for (int i = 0; i < inner; i++) s += x[((size_t)o * channels + c) * inner + i];
          want[c] += (float)s;
        }
      ok &= dev::compare("channelSum [512, 64, 196]", gs.get(), want, 1e-5);
      bool same = std::memcmp(gs.get().data(), gs2.get().data(), channels * sizeof(float)) == 0;
      printf("  %-58s %s\n", "channelSum bit-identical on a rerun", same ? "ok" : "FAIL");
      ok &= same;
      env.scratch.clear();
      if (!getenv("INKLING_DEV_NO_TIMING")) {
        float ms = dev::timeMs([&] { launchChannelSum(le, gx.ptr, gs.ptr, outer, channels, inner, false); });
        printf("  time channelSum b512 conv2 bias grad: %.3f ms, %.0f GB/s\n", ms, n * 4 / ms / 1e6);
      }
      env.scratch.clear();
    }

    // ---- batchnorm ----
    {
      const int n = 16, c = 8, spatial = 49;
      const size_t total = (size_t)n * c * spatial;
      auto x = dev::randomVector(total, 5, 2.f, 4.f), dy = dev::randomVector(total, 6), gamma = dev::randomVector(c, 7), beta = dev::randomVector(c, 8);
      std::vector<float> rm(c, 0.1f), rv(c, 0.9f);
      dev::DeviceVec<float> gx(x), gdy(dy), gg(gamma), gb(beta), grm(rm), grv(rv), gout(total), gmean(c), ginv(c), gdx(total), gdg(c), gdb(c);
      launchBatchNormTrain(le, gx.ptr, gg.ptr, gb.ptr, grm.ptr, grv.ptr, gout.ptr, gmean.ptr, ginv.ptr, BnShape{n, c, spatial, 1e-5f, 0.1f}, true);
      launchBatchNormBackward(le, gx.ptr, gdy.ptr, gg.ptr, gmean.ptr, ginv.ptr, gdx.ptr, gdg.ptr, gdb.ptr, BnShape{n, c, spatial, 1e-5f, 0.1f}, false);
      sync();
      std::vector<float> wantOut(total), wantMean(c), wantInv(c), wantRm(c), wantRv(c), wantDx(total), wantDg(c), wantDb(c);
      const double cnt = (double)n * spatial;
      for (int ch = 0; ch < c; ch++) {
        double s = 0, sq = 0, sdy = 0, sdyx = 0;
        auto idx = [&](int o, int sp) { return ((size_t)o * c + ch) * spatial + sp; };
        for (int o = 0; o < n; o++) for (int sp = 0; sp < spatial; sp++) s += x[idx(o, sp)];
        double mean = s / cnt;
        for (int o = 0; o < n; o++) for (int sp = 0; sp < spatial; sp++) sq += (x[idx(o, sp)] - mean) * (x[idx(o, sp)] - mean);
        double var = sq / cnt, inv = 1 / std::sqrt(var + 1e-5);
        wantMean[ch] = (float)mean; wantInv[ch] = (float)inv;
        wantRm[ch] = (float)(0.9 * 0.1 + 0.1 * mean); wantRv[ch] = (float)(0.9 * 0.9 + 0.1 * var * cnt / (cnt - 1));
        for (int o = 0; o < n; o++) for (int sp = 0; sp < spatial; sp++) {
          double xh = (x[idx(o, sp)] - mean) * inv, y = gamma[ch] * xh + beta[ch];
          wantOut[idx(o, sp)] = (float)(y > 0 ? y : 0);
          sdy += dy[idx(o, sp)]; sdyx += dy[idx(o, sp)] * xh;
        }
        wantDg[ch] = (float)sdyx; wantDb[ch] = (float)sdy;
        for (int o = 0; o < n; o++) for (int sp = 0; sp < spatial; sp++) {
          double xh = (x[idx(o, sp)] - mean) * inv;
          wantDx[idx(o, sp)] = (float)(gamma[ch] * inv / cnt * (cnt * dy[idx(o, sp)] - sdy - xh * sdyx));
        }
      }
      ok &= dev::compare("batchNormTrain + ReLU (mean 3, so Welford matters)", gout.get(), wantOut, 1e-4);
      ok &= dev::compare("  saved mean", gmean.get(), wantMean, 1e-5);
      ok &= dev::compare("  saved invStd", ginv.get(), wantInv, 1e-4);
      ok &= dev::compare("  running mean", grm.get(), wantRm, 1e-5);
      ok &= dev::compare("  running var (unbiased)", grv.get(), wantRv, 1e-4);
      ok &= dev::compare("batchNormBackward dx", gdx.get(), wantDx, 1e-4);
      ok &= dev::compare("  dgamma", gdg.get(), wantDg, 1e-4);
      ok &= dev::compare("  dbeta", gdb.get(), wantDb, 1e-5);
      env.scratch.clear();
    }

    // ---- pooling (3x3 stride 2: overlapping windows exercise the gather backward) ----
    {
      PoolShape s{2, 3, 9, 7, 3, 3, 2, 4, 3};
      const size_t nx = (size_t)s.n * s.c * s.h * s.w, ny = (size_t)s.n * s.c * s.hOut * s.wOut;
      auto x = dev::randomVector(nx, 9), dy = dev::randomVector(ny, 10);
      dev::DeviceVec<float> gx(x), gdy(dy), gy(ny), gdx(nx), gay(ny), gadx(nx);
      dev::DeviceVec<int32_t> garg(ny);
      launchMaxPool2d(le, gx.ptr, gy.ptr, garg.ptr, s);
      launchMaxPool2dBackward(le, gdy.ptr, garg.ptr, gdx.ptr, s);
      launchAvgPool2d(le, gx.ptr, gay.ptr, s);
      launchAvgPool2dBackward(le, gdy.ptr, gadx.ptr, s);
      sync();
      std::vector<float> wy(ny), wdx(nx, 0.f), way(ny), wadx(nx, 0.f);
      std::vector<int32_t> warg(ny);
      for (size_t plane = 0; plane < (size_t)s.n * s.c; plane++)
        for (int oh = 0; oh < s.hOut; oh++)
          for (int ow = 0; ow < s.wOut; ow++) {
            size_t o = (plane * s.hOut + oh) * s.wOut + ow;
            float best = -INFINITY; int bi = -1; float sum = 0;
            for (int ky = 0; ky < s.kh; ky++) for (int kx = 0; kx < s.kw; kx++) {
              int idx = (oh * s.stride + ky) * s.w + ow * s.stride + kx;
              float v = x[plane * s.h * s.w + idx];
              sum += v;
              if (bi < 0 || v > best) { best = v; bi = idx; }
            }
            wy[o] = best; warg[o] = bi; way[o] = sum / 9.f;
            wdx[plane * s.h * s.w + bi] += dy[o];
            for (int ky = 0; ky < s.kh; ky++) for (int kx = 0; kx < s.kw; kx++)
              wadx[plane * s.h * s.w + (oh * s.stride + ky) * s.w + ow * s.stride + kx] += dy[o] / 9.f;
          }
      ok &= dev::compare("maxPool2d 3x3/2 on 9x7", gy.get(), wy, 0);
      bool argOk = garg.get() == warg;
      printf("  %-58s %s\n", "  argmax (first on ties)", argOk ? "ok" : "FAIL");
      ok &= argOk;
      ok &= dev::compare("  maxPool2dBackward (gather, no atomics)", gdx.get(), wdx, 1e-6);
      ok &= dev::compare("avgPool2d", gay.get(), way, 1e-6);
      ok &= dev::compare("  avgPool2dBackward", gadx.get(), wadx, 1e-6);
    }

    // ---- softmax and cross-entropy ----
    {
      const int rows = 37, cols = 10;
      const float smoothing = 0.1f;
      auto x = dev::randomVector((size_t)rows * cols, 11, -5.f, 5.f);
      std::vector<int32_t> labels(rows);
      for (int r = 0; r < rows; r++) labels[r] = (r * 7) % cols;
      dev::DeviceVec<float> gx(x), gp((size_t)rows * cols), gl(1), gdl(std::vector<float>{2.f}), gd((size_t)rows * cols);
      dev::DeviceVec<int32_t> glab(labels);
      launchSoftmaxCrossEntropy(le, gx.ptr, glab.ptr, gp.ptr, gl.ptr, rows, cols, smoothing);
      launchSoftmaxCrossEntropyBackward(le, gp.ptr, glab.ptr, gdl.ptr, gd.ptr, rows, cols, smoothing, false);
      sync();
      std::vector<float> wp((size_t)rows * cols), wd((size_t)rows * cols);
      double loss = 0;
      for (int r = 0; r < rows; r++) {
        double m = -1e30, s = 0, sumLp = 0;
        for (int j = 0; j < cols; j++) m = std::max(m, (double)x[r * cols + j]);
        for (int j = 0; j < cols; j++) s += std::exp(x[r * cols + j] - m);
        for (int j = 0; j < cols; j++) {
          double lp = x[r * cols + j] - m - std::log(s);
          wp[r * cols + j] = (float)std::exp(lp);
          sumLp += lp;
        }
        loss += -(1 - smoothing) * (x[r * cols + labels[r]] - m - std::log(s)) - smoothing / cols * sumLp;
        for (int j = 0; j < cols; j++) wd[r * cols + j] = (float)(2.0 / rows * (wp[r * cols + j] - ((j == labels[r] ? 1 - smoothing : 0) + smoothing / cols)));
      }
      ok &= dev::compare("softmaxCrossEntropy probs", gp.get(), wp, 1e-5);
      ok &= dev::compare("  mean loss (label smoothing 0.1)", gl.get(), std::vector<float>{(float)(loss / rows)}, 1e-5);
      ok &= dev::compare("  backward, dloss = 2", gd.get(), wd, 1e-5);
    }

    // ---- optimizers, and the hyper block a graph replay writes ----
    {
      const int n = 777;
      auto p = dev::randomVector(n, 12), g = dev::randomVector(n, 13), m0 = dev::randomVector(n, 14, -0.1f, 0.1f), v0 = dev::randomVector(n, 15, 0.f, 0.01f);
      dev::DeviceVec<float> gp(p), gg(g), gm(m0), gv(v0);
      AdamArgs a{1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, true, 3};
      // As the 2nd replay of a graph captured at t = 3 with lr overridden to 5e-4: t = 5, lr = 5e-4.
      launchSetHyper(le, env.hyper, 5e-4f, 2);
      launchAdamStep(le, gp.ptr, gg.ptr, gm.ptr, gv.ptr, n, a);
      launchSetHyper(le, env.hyper, NAN, 0);
      sync();
      std::vector<float> wp(n);
      const double lr = 5e-4, t = 5, b1 = 1 - std::pow(0.9, t), b2 = 1 - std::pow(0.999, t);
      for (int i = 0; i < n; i++) {
        double w = p[i] - lr * 0.01 * p[i];
        double mi = 0.9 * m0[i] + 0.1 * g[i], vi = 0.999 * v0[i] + 0.001 * g[i] * g[i];
        wp[i] = (float)(w - lr * (mi / b1) / (std::sqrt(vi / b2) + 1e-8));
      }
      ok &= dev::compare("AdamW step through the hyper block (t = 3 + 2, lr override)", gp.get(), wp, 1e-5);
      dev::DeviceVec<float> sp(p), sv(v0);
      launchSgdStep(le, sp.ptr, gg.ptr, sv.ptr, n, SgdArgs{0.1f, 0.9f, 0.f, 0.f, true});
      sync();
      for (int i = 0; i < n; i++) {
        double vel = 0.9 * v0[i] + g[i];
        wp[i] = (float)(p[i] - 0.1 * (g[i] + 0.9 * vel));
      }
      ok &= dev::compare("SGD Nesterov", sp.get(), wp, 1e-6);
    }

    // ---- timings at the seed CNN's batch-512 shapes (GB/s of compulsory traffic; H100 SXM ≈ 3350) ----
    if (!getenv("INKLING_DEV_NO_TIMING")) {
      printf("timing, batch 512:\n");
      {
        const int n = 512, c = 64, spatial = 196;
        const size_t total = (size_t)n * c * spatial;
        dev::DeviceVec<float> x(dev::randomVector(total, 20)), out(total), dy(dev::randomVector(total, 21)), dx(total);
        dev::DeviceVec<float> g(std::vector<float>(c, 1.f)), b(c), rm(c), rv(std::vector<float>(c, 1.f)), mean(c), inv(c), dg(c), db(c);
        const BnShape s{n, c, spatial, 1e-5f, 0.1f};
        float ms = dev::timeMs([&] { launchBatchNormTrain(le, x.ptr, g.ptr, b.ptr, rm.ptr, rv.ptr, out.ptr, mean.ptr, inv.ptr, s, true); env.scratch.clear(); });
        printf("  batchNormTrain+ReLU [512,64,14,14]: %.3f ms, %.0f GB/s (reads x twice, writes y)\n", ms, 3.0 * total * 4 / ms / 1e6);
        ms = dev::timeMs([&] { launchBatchNormBackward(le, x.ptr, dy.ptr, g.ptr, mean.ptr, inv.ptr, dx.ptr, dg.ptr, db.ptr, s, false); env.scratch.clear(); });
        printf("  batchNormBackward [512,64,14,14]: %.3f ms, %.0f GB/s (reads x, dy twice, writes dx)\n", ms, 5.0 * total * 4 / ms / 1e6);
      }
      {
        PoolShape s{512, 32, 28, 28, 2, 2, 2, 14, 14};
        const size_t nx = (size_t)s.n * s.c * s.h * s.w, ny = nx / 4;
        dev::DeviceVec<float> x(dev::randomVector(nx, 22)), y(ny), dy(dev::randomVector(ny, 23)), dx(nx);
        dev::DeviceVec<int32_t> arg(ny);
        float ms = dev::timeMs([&] { launchMaxPool2d(le, x.ptr, y.ptr, arg.ptr, s); });
        printf("  maxPool2d 2x2 [512,32,28,28]: %.3f ms, %.0f GB/s\n", ms, (nx + 2.0 * ny) * 4 / ms / 1e6);
        ms = dev::timeMs([&] { launchMaxPool2dBackward(le, dy.ptr, arg.ptr, dx.ptr, s); });
        printf("  maxPool2dBackward (gather): %.3f ms, %.0f GB/s\n", ms, (nx + 2.0 * ny) * 4 / ms / 1e6);
      }
      {
        const size_t n = 512 * 3136;
        dev::DeviceVec<float> x(dev::randomVector(n, 24)), y(n);
        float ms = dev::timeMs([&] { launchDropout(le, x.ptr, y.ptr, n, 1, 2, 4194304, 4.f / 3.f, 49, false, false); });
        printf("  dropout2d [512,64,7,7]: %.3f ms, %.0f GB/s\n", ms, 2.0 * n * 4 / ms / 1e6);
      }
      {
        const size_t n = 421834;
        dev::DeviceVec<float> p(dev::randomVector(n, 25)), g(dev::randomVector(n, 26)), m(n), v(n);
        AdamArgs a{1e-3f, 0.9f, 0.999f, 1e-8f, 0.f, false, 1};
        float ms = dev::timeMs([&] { launchAdamStep(le, p.ptr, g.ptr, m.ptr, v.ptr, n, a); });
        printf("  adamStep over the seed CNN's 421,834 parameters: %.4f ms, %.0f GB/s\n", ms, 7.0 * n * 4 / ms / 1e6);
      }
    }

    printf(ok ? "all kernel checks passed\n" : "SOME CHECKS FAILED\n");
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
