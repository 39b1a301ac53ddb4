// See ink_map.h. Each block names the step of src/preprocess/ink.ts it mirrors; the comments there
// say why each step exists. Built with -ffp-contract=off (binding.gyp): a fused multiply-add would
// round differently from the TypeScript and break the bit-for-bit match.
#include "preprocess/ink_map.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace inkling {

namespace {

/** Grow-once scratch, one set per thread (the addon may be loaded in worker threads). */
struct Scratch {
  std::vector<float> px, ring, signal, lightSignal, ink, strokes, bg, resid;
  std::vector<uint8_t> mask, keep, grown, use;
  std::vector<int32_t> labels, stack, idx, boxes;
  std::vector<int64_t> areas;
};
thread_local Scratch scratch;

template <class T>
T* sized(std::vector<T>& v, size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
}

/** 256-bin histogram of values in [0,1] (bin = floor(v*255), clamped), as counts. Four interleaved
 *  sub-histograms: most values land in one bin (0 for a canvas), and consecutive increments of
 *  one counter would wait on each other. Counts are integers, so the sum is exact. */
void histogram01(const float* values, int64_t count, double* hist) {
  uint32_t h[4][256] = {{0}};
  int64_t i = 0;
  auto bin = [](double v) { return v <= 0 ? 0 : v >= 1 ? 255 : int(v * 255); };
  for (; i + 4 <= count; i += 4) {
    h[0][bin(values[i])]++;
    h[1][bin(values[i + 1])]++;
    h[2][bin(values[i + 2])]++;
    h[3][bin(values[i + 3])]++;
  }
  for (; i < count; i++) h[0][bin(values[i])]++;
  for (int b = 0; b < 256; b++) hist[b] = double(h[0][b]) + h[1][b] + h[2][b] + h[3][b];
}

/** median01 of ink-ops.ts: 256-bin histogram median of values in [0,1]. */
double median01(const float* values, int64_t count) {
  double hist[256];
  histogram01(values, count, hist);
  double acc = 0;
  for (int b = 0; b < 256; b++) {
    acc += hist[b];
    if (acc * 2 >= double(count)) return (b + 0.5) / 255;
  }
  return 1;
}

/** otsuThreshold of ink-ops.ts. */
double otsuThreshold(const float* values, int64_t n) {
  double hist[256];
  histogram01(values, n, hist);
  const double total = double(n);
  double sumAll = 0;
  for (int i = 0; i < 256; i++) sumAll += i * hist[i];
  double wB = 0, sumB = 0, best = 0;
  int bestT = 0;
  for (int t = 0; t < 256; t++) {
    wB += hist[t];
    if (wB == 0) continue;
    const double wF = total - wB;
    if (wF == 0) break;
    sumB += t * hist[t];
    const double mB = sumB / wB;
    const double mF = (sumAll - sumB) / wF;
    const double between = wB * wF * (mB - mF) * (mB - mF);
    if (between > best) {
      best = between;
      bestT = t;
    }
  }
  return (bestT + 1) / 255.0;
}

/** connectedComponents of ink-ops.ts (8-connected, labels in scan order of first pixels), plus
 *  each component's bounding box (x0, x1, y0, y1 in `boxes`, four per label), found on the way
 *  instead of by another pass over the labels. */
void connectedComponents(const uint8_t* mask, int width, int height, int32_t* labels, int32_t* stack,
                         std::vector<int64_t>& areas, std::vector<int32_t>& boxes) {
  const int64_t n = int64_t(width) * height;
  std::fill(labels, labels + n, 0);
  areas.clear();
  boxes.clear();
  for (int64_t start = 0; start < n; start++) {
    if (!mask[start] || labels[start]) continue;
    const int32_t label = int32_t(areas.size()) + 1;
    int64_t top = 0;
    stack[top++] = int32_t(start);
    labels[start] = label;
    int64_t area = 0;
    int x0 = width, x1 = -1, y0 = height, y1 = -1;
    while (top > 0) {
      const int32_t p = stack[--top];
      area++;
      const int px = p % width;
      const int py = p / width;
      x0 = std::min(x0, px);
      x1 = std::max(x1, px);
      y0 = std::min(y0, py);
      y1 = std::max(y1, py);
      for (int dy = -1; dy <= 1; dy++) {
        const int ny = py + dy;
        if (ny < 0 || ny >= height) continue;
        for (int dx = -1; dx <= 1; dx++) {
          const int nx = px + dx;
          if (nx < 0 || nx >= width) continue;
          const int32_t q = ny * width + nx;
          if (mask[q] && !labels[q]) {
            labels[q] = label;
            stack[top++] = q;
          }
        }
      }
    }
    areas.push_back(area);
    boxes.insert(boxes.end(), {x0, x1, y0, y1});
  }
}

/** solve6 of ink-ops.ts: Gaussian elimination with partial pivoting. */
/** JS's `x || 1e-12`: 0 and NaN become 1e-12. */
inline double orTiny(double x) { return x != 0 && !std::isnan(x) ? x : 1e-12; }

void solve6(const double* a, const double* b, double* x) {
  double m[36];
  std::copy(a, a + 36, m);
  std::copy(b, b + 6, x);
  for (int c = 0; c < 6; c++) {
    int piv = c;
    for (int r = c + 1; r < 6; r++)
      if (std::fabs(m[r * 6 + c]) > std::fabs(m[piv * 6 + c])) piv = r;
    if (piv != c) {
      for (int k = 0; k < 6; k++) std::swap(m[c * 6 + k], m[piv * 6 + k]);
      std::swap(x[c], x[piv]);
    }
    const double d = orTiny(m[c * 6 + c]);
    for (int r = c + 1; r < 6; r++) {
      const double f = m[r * 6 + c] / d;
      if (f == 0) continue;
      for (int k = c; k < 6; k++) m[r * 6 + k] -= f * m[c * 6 + k];
      x[r] -= f * x[c];
    }
  }
  for (int c = 5; c >= 0; c--) {
    double acc = x[c];
    for (int k = c + 1; k < 6; k++) acc -= m[c * 6 + k] * x[k];
    x[c] = acc / orTiny(m[c * 6 + c]);
  }
}

inline void basis(int x, int y, int width, int height, double* out) {
  const double u = (x + 0.5) / width - 0.5;
  const double v = (y + 0.5) / height - 0.5;
  out[0] = 1;
  out[1] = u;
  out[2] = v;
  out[3] = u * u;
  out[4] = u * v;
  out[5] = v * v;
}

inline double fitAt(const double* coef, const double* phi) {
  double fit = 0;
  for (int a = 0; a < 6; a++) fit += coef[a] * phi[a];
  return fit;
}

/** fitBackground of ink-ops.ts: robust quadratic surface; writes bg, returns sigma. */
double fitBackground(const float* signal, int width, int height, float* bg) {
  const int64_t n = int64_t(width) * height;
  const int step = std::max(1, int(std::floor(std::sqrt(double(n) / 4096))));
  std::vector<int32_t>& idx = scratch.idx;
  idx.clear();
  for (int y = 0; y < height; y += step)
    for (int x = 0; x < width; x += step) idx.push_back(y * width + x);
  const size_t m0 = idx.size();
  uint8_t* use = sized(scratch.use, m0);
  std::fill(use, use + m0, 1);
  float* resid = sized(scratch.resid, m0);
  double phi[6];
  double coef[6] = {0};
  double sigma = 0;
  for (int iter = 0; iter < 4; iter++) {
    double ata[36] = {0};
    double atb[6] = {0};
    for (size_t k = 0; k < m0; k++) {
      if (!use[k]) continue;
      const int p = idx[k];
      basis(p % width, p / width, width, height, phi);
      const double s = signal[p];
      for (int a = 0; a < 6; a++) {
        atb[a] += phi[a] * s;
        for (int b = 0; b < 6; b++) ata[a * 6 + b] += phi[a] * phi[b];
      }
    }
    for (int a = 0; a < 6; a++) ata[a * 6 + a] += 1e-6;
    solve6(ata, atb, coef);
    int64_t m = 0;
    for (size_t k = 0; k < m0; k++) {
      const int p = idx[k];
      basis(p % width, p / width, width, height, phi);
      const double r = signal[p] - fitAt(coef, phi);
      if (use[k]) resid[m++] = float(std::fabs(r));
    }
    sigma = 1.4826 * median01(resid, m);
    for (size_t k = 0; k < m0; k++) {
      const int p = idx[k];
      basis(p % width, p / width, width, height, phi);
      use[k] = signal[p] - fitAt(coef, phi) <= 2.5 * sigma + 1e-3 ? 1 : 0;
    }
  }
  for (int y = 0; y < height; y++) {
    for (int x = 0; x < width; x++) {
      basis(x, y, width, height, phi);
      bg[int64_t(y) * width + x] = float(fitAt(coef, phi));
    }
  }
  return sigma;
}

}  // namespace

/** One source row of toWorking (ink.ts): adds row y's k-pixel runs to its working row.
 *  Transparent black pixels (most of a canvas export) add nothing, so the row is scanned two
 *  pixels (8 bytes) at a time for the next non-zero one, and only the blocks holding one are
 *  summed; a block's sums are integers, so skipping zeros cannot change them. This replaced a
 *  zero test of every block plus a branch per pixel (~0.1 ms per 280x280 canvas on the Zen 1
 *  host, a fifth of the whole ink map). */
void accumulateRow(const uint8_t* row, int y, int srcW, const WorkSize& ws, float* px) {
  const int k = ws.k;
  const double inv = 1.0 / 255;
  const double inv2 = inv * inv;
  float* orow = px + int64_t(y / k) * ws.width * 4;
  int x = 0;
  while (x < srcW) {
    uint64_t w = 0;
    for (; x + 2 <= srcW; x += 2) {
      std::memcpy(&w, row + int64_t(x) * 4, 8);
      if (w) break;
    }
    if (!w) {
      if (x >= srcW) return;
      uint32_t last;  // an odd width's last pixel
      std::memcpy(&last, row + int64_t(x) * 4, 4);
      if (!last) return;
    }
    // Pixel x or x + 1 has a non-zero byte: sum the block holding x (all zero at worst, then
    // nothing is written), then go on from the next block.
    const int bx = x / k;
    const int xEnd = std::min(srcW, (bx + 1) * k);
    int64_t sr = 0, sg = 0, sb = 0, sa = 0;
    for (int i = bx * k; i < xEnd; i++) {
      const uint8_t* s = row + int64_t(i) * 4;
      const int a = s[3];
      sr += s[0] * a;
      sg += s[1] * a;
      sb += s[2] * a;
      sa += a;
    }
    if (sa != 0) {
      float* o = orow + bx * 4;
      o[0] = float(double(o[0]) + double(sr) * inv2);
      o[1] = float(double(o[1]) + double(sg) * inv2);
      o[2] = float(double(o[2]) + double(sb) * inv2);
      o[3] = float(double(o[3]) + double(sa) * inv);
    }
    x = xEnd;
  }
}

/** The end of toWorking (ink.ts): block sums to block means. The factor 1/(rows*cols) takes at
 *  most four values (full blocks, the right column, the bottom row, the corner): computed once
 *  each, the same doubles the TypeScript computes per block. The full blocks of a row are one
 *  contiguous run with one factor, a loop the compiler vectorizes (the same IEEE products). */
void normalizeBlocks(int srcW, int srcH, const WorkSize& ws, float* px) {
  const int k = ws.k;
  if (k == 1) return;
  const int lastCols = srcW - (ws.width - 1) * k;
  for (int by = 0; by < ws.height; by++) {
    const int rows = std::min(k, srcH - by * k);
    const double full = 1.0 / (double(rows) * k);
    const double last = 1.0 / (double(rows) * std::min(k, lastCols));
    float* o = px + int64_t(by) * ws.width * 4;
    const int fullFloats = (ws.width - 1) * 4;
    for (int i = 0; i < fullFloats; i++) o[i] = float(double(o[i]) * full);
    for (int c = 0; c < 4; c++) o[fullFloats + c] = float(double(o[fullFloats + c]) * last);
  }
}

WorkSize workSize(int width, int height) {
  const int k = std::max(1, int(std::ceil(double(std::max(width, height)) / kWorkMax)));
  return WorkSize{k, int(std::ceil(double(width) / k)), int(std::ceil(double(height) / k))};
}

float* workingImage(const WorkSize& ws) {
  float* px = sized(scratch.px, int64_t(ws.width) * ws.height * 4);
  std::fill(px, px + int64_t(ws.width) * ws.height * 4, 0.0f);
  return px;
}

InkMapResult inkMap(const uint8_t* data, int srcW, int srcH, int64_t stride, int64_t offset, float* out,
                    uint8_t* thumb) {
  const WorkSize ws = workSize(srcW, srcH);
  float* px = workingImage(ws);
  for (int y = 0; y < srcH; y++) accumulateRow(data + offset + int64_t(y) * stride, y, srcW, ws, px);
  normalizeBlocks(srcW, srcH, ws, px);
  return inkMapFromWorking(px, ws, out, thumb);
}

InkMapResult inkMapFromWorking(float* px, const WorkSize& ws, float* out, uint8_t* thumb) {
  const int width = ws.width, height = ws.height;
  const int64_t n = int64_t(width) * height;

  // 2. Composite over a contrasting colour where there is transparency.
  double alphaSum = 0, lumAlpha = 0, minAlpha = 1;
  for (int64_t j = 0; j < n * 4; j += 4) {
    const double a = px[j + 3];
    alphaSum += a;
    if (a < minAlpha) minAlpha = a;
    lumAlpha += 0.299 * px[j] + 0.587 * px[j + 1] + 0.114 * px[j + 2];
  }
  const bool transparent = minAlpha < 0.999;
  const double under = transparent && alphaSum > 0 && lumAlpha / alphaSum > 0.5 ? 0 : 1;

  // 3. Polarity from the border ring's median luminance.
  const int ring = std::max(1, int(std::round(0.04 * std::min(width, height))));
  float* ringVals = sized(scratch.ring, n);
  int64_t ringCount = 0;
  for (int y = 0; y < height; y++) {
    const bool inner = y >= ring && y < height - ring;
    for (int x = 0; x < width;) {
      const float* p = px + (int64_t(y) * width + x) * 4;
      const double rest = (1 - double(p[3])) * under;
      ringVals[ringCount++] =
          float(0.299 * (p[0] + rest) + 0.587 * (p[1] + rest) + 0.114 * (p[2] + rest));
      x += inner && x == ring - 1 && width - 2 * ring + 1 > 1 ? width - 2 * ring + 1 : 1;
    }
  }
  const double bgLum = median01(ringVals, ringCount);

  // The composited colour is needed as floats three times: for the thumbnail, and for the signal
  // of each polarity (which one is known only after this pass). One pass writes the thumbnail and
  // both signals instead of storing the colour and reading it twice (the same float values, so
  // the same bits as ink.ts).
  float* darkSignal = sized(scratch.signal, n);
  float* lightSignal = sized(scratch.lightSignal, n);
  double darkMass = 0, lightMass = 0;
  for (int64_t i = 0; i < n; i++) {
    const float* p = px + i * 4;
    const double rest = (1 - double(p[3])) * under;
    const double r = p[0] + rest, g = p[1] + rest, b = p[2] + rest;
    const float rf = float(r), gf = float(g), bf = float(b);
    // = (v <= 0 ? 0 : v >= 1 ? 255 : trunc(v*255 + 0.5)), written as a clamp
    thumb[i * 3] = uint8_t(int(std::min(std::max(double(rf) * 255 + 0.5, 0.0), 255.0)));
    thumb[i * 3 + 1] = uint8_t(int(std::min(std::max(double(gf) * 255 + 0.5, 0.0), 255.0)));
    thumb[i * 3 + 2] = uint8_t(int(std::min(std::max(double(bf) * 255 + 0.5, 0.0), 255.0)));
    darkSignal[i] = float(1 - double(rf < gf ? (rf < bf ? rf : bf) : gf < bf ? gf : bf));
    lightSignal[i] = rf > gf ? (rf > bf ? rf : bf) : gf > bf ? gf : bf;
    const double dlt = 0.299 * r + 0.587 * g + 0.114 * b - bgLum;
    if (dlt < -0.1)
      darkMass -= dlt;
    else if (dlt > 0.1)
      lightMass += dlt;
  }
  const bool light = !(darkMass >= lightMass);
  const float* signal = light ? lightSignal : darkSignal;

  // 4. Local background (photos); a transparent canvas has exactly 0 signal under the strokes.
  const float* ink = signal;
  double noiseFloor = 0;
  if (!transparent) {
    float* bg = sized(scratch.bg, n);
    const double sigma = fitBackground(signal, width, height, bg);
    float* inkw = sized(scratch.ink, n);
    double headroom = 0;
    for (int64_t i = 0; i < n; i++) {
      const double room = std::max(0.35, 1 - double(bg[i]));
      headroom += room;
      const double v = (double(signal[i]) - double(bg[i])) / room;
      inkw[i] = float(v > 0 ? (v < 1 ? v : 1) : 0);
    }
    noiseFloor = (4 * sigma) / (headroom / double(n));
    ink = inkw;
  }

  // 5. Threshold, drop specks, keep anti-aliased edges, normalise the stroke level.
  const double threshold = std::min(0.6, std::max(std::max(0.2, noiseFloor), otsuThreshold(ink, n)));
  uint8_t* mask = sized(scratch.mask, n);
  for (int64_t i = 0; i < n; i++) mask[i] = double(ink[i]) > threshold ? 1 : 0;
  int32_t* labels = sized(scratch.labels, n);
  int32_t* stack = sized(scratch.stack, n);
  std::vector<int64_t>& areas = scratch.areas;
  std::vector<int32_t>& boxes = scratch.boxes;
  connectedComponents(mask, width, height, labels, stack, areas, boxes);
  int64_t largest = 0;
  int32_t largestLabel = 0;
  for (size_t k = 0; k < areas.size(); k++) {
    if (areas[k] > largest) {
      largest = areas[k];
      largestLabel = int32_t(k) + 1;
    }
  }
  int span = 0;
  if (largestLabel) {
    const int32_t* box = boxes.data() + int64_t(largestLabel - 1) * 4;
    span = std::max(box[1] - box[0] + 1, box[3] - box[2] + 1);
  }
  const bool isDigit = double(largest) >= std::max(10.0, 0.0015 * double(n)) &&
                       double(span) >= 0.08 * std::max(width, height);
  const double keepArea = isDigit ? std::max(2.0, 0.05 * double(largest)) : std::numeric_limits<double>::infinity();
  uint8_t* keep = sized(scratch.keep, n);
  float* strokeVals = sized(scratch.strokes, n);
  int64_t strokePixels = 0;
  for (int64_t i = 0; i < n; i++) {
    const int32_t l = labels[i];
    keep[i] = 0;
    if (l && double(areas[l - 1]) >= keepArea) {
      keep[i] = 1;
      strokeVals[strokePixels++] = ink[i];
    }
  }
  std::fill(out, out + n, 0.0f);
  if (strokePixels > 0) {
    uint8_t* grown = sized(scratch.grown, n);
    for (int y = 0; y < height; y++) {
      const int64_t row = int64_t(y) * width;
      for (int x = 0; x < width; x++) {
        const int64_t i = row + x;
        grown[i] = keep[i] | (x > 0 ? keep[i - 1] : 0) | (x + 1 < width ? keep[i + 1] : 0);
      }
    }
    const double level = std::max(threshold, median01(strokeVals, strokePixels));
    const double inv = 1 / level;
    const double edgeFloor = threshold / 3;
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        const int64_t i = int64_t(y) * width + x;
        const double v = ink[i];
        if (keep[i] || (v > edgeFloor && (grown[i] | (y > 0 ? grown[i - width] : 0) |
                                          (y + 1 < height ? grown[i + width] : 0)))) {
          const double w = v * inv;
          out[i] = float(w < 1 ? w : 1);
        }
      }
    }
  }

  return InkMapResult{int(strokePixels), light};
}

}  // namespace inkling
