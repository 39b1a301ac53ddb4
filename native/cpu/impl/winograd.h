// Winograd F(2x2, 3x3) for 3x3 stride-1 convolutions with enough channels (the seed CNN's conv2):
// each 2x2 block of outputs comes from a 4x4 input patch with 16 multiplies per (input, output)
// channel pair instead of 36, i.e. 2.25x fewer flops, at the price of small transforms.
//   weights  U = G g Gᵀ        (4x4 per (co, ci), once per call)
//   input    V = Bᵀ d B        (4x4 per (ci, tile))
//   product  M[ξ] = U[ξ]·V[ξ]  16 GEMMs (ξ = the 4x4 positions): [cOut x cIn]·[cIn x tiles]
//   output   Y = Aᵀ M A        (2x2 per (co, tile)), + bias, ReLU
// with G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1], Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1],
// Aᵀ = [1 1 1 0; 0 1 −1 −1] (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks").
// The backward pass to the input is the same convolution of dy with the flipped, transposed
// kernel (pad' = 2 − pad); the weight gradient is dU[ξ] = Σ_tiles (A dY Aᵀ)[ξ]·V[ξ]ᵀ, then
// dW = Gᵀ dU G. The coefficients are 0, ±1 and ±½, so the rounding stays that of a direct
// convolution's order of magnitude. Every output element is computed in a fixed order (tiles
// and channels never depend on the thread count).
#pragma once

namespace INKLING_NS {

/** Floats of slack past each row of the transform buffers: the vector loops read and write up to
 *  a vector past a row's last tile (or channel). */
#if INKLING_VEC
constexpr int kWinogradSlack = VL;
#else
constexpr int kWinogradSlack = 1;
#endif

/** U[ξ][o][i] = (G g Gᵀ)[ξ] for g = the 3x3 kernel w(o, i), read through `at(o, i, ky, kx)`.
 *  The kernels are first gathered into temp[o][ky·3 + kx][i] (`ins` + VL floats per row), so that
 *  the transform runs on vectors of consecutive i and writes each U row contiguously. */
template <class At>
static void winogradWeights(int outs, int ins, At&& at, float* U, float* temp) {
  const size_t pairs = size_t(outs) * ins;
  const int ld = ins + kWinogradSlack;
  for (int o = 0; o < outs; ++o)
    for (int t = 0; t < 9; ++t) {
      float* dst = temp + (size_t(o) * 9 + t) * ld;
      for (int i = 0; i < ins; ++i) dst[i] = at(o, i, t / 3, t % 3);
      for (int i = ins; i < ld; ++i) dst[i] = 0.f;
    }
  for (int o = 0; o < outs; ++o) {
    const float* g = temp + size_t(o) * 9 * ld;
    float* u = U + size_t(o) * ins;
#if INKLING_VEC
    const vf half = vset1(0.5f);
    for (int i = 0; i < ins; i += VL) {
      const int n = std::min(VL, ins - i);
      vf t[4][3];  // G g, column kx
      for (int kx = 0; kx < 3; ++kx) {
        const vf g0 = vload(g + (0 * 3 + kx) * ld + i), g1 = vload(g + (1 * 3 + kx) * ld + i);
        const vf g2 = vload(g + (2 * 3 + kx) * ld + i);
        t[0][kx] = g0;
        t[1][kx] = vmul(half, vadd(vadd(g0, g1), g2));
        t[2][kx] = vmul(half, vadd(vsub(g0, g1), g2));
        t[3][kx] = g2;
      }
      for (int r = 0; r < 4; ++r) {
        vstoreN(u + (r * 4 + 0) * pairs + i, t[r][0], n);
        vstoreN(u + (r * 4 + 1) * pairs + i, vmul(half, vadd(vadd(t[r][0], t[r][1]), t[r][2])), n);
        vstoreN(u + (r * 4 + 2) * pairs + i, vmul(half, vadd(vsub(t[r][0], t[r][1]), t[r][2])), n);
        vstoreN(u + (r * 4 + 3) * pairs + i, t[r][2], n);
      }
    }
#else
    for (int i = 0; i < ins; ++i) {
      float t[4][3];
      for (int kx = 0; kx < 3; ++kx) {
        const float g0 = g[(0 * 3 + kx) * ld + i], g1 = g[(1 * 3 + kx) * ld + i], g2 = g[(2 * 3 + kx) * ld + i];
        t[0][kx] = g0;
        t[1][kx] = 0.5f * (g0 + g1 + g2);
        t[2][kx] = 0.5f * (g0 - g1 + g2);
        t[3][kx] = g2;
      }
      for (int r = 0; r < 4; ++r) {
        u[(r * 4 + 0) * pairs + i] = t[r][0];
        u[(r * 4 + 1) * pairs + i] = 0.5f * (t[r][0] + t[r][1] + t[r][2]);
        u[(r * 4 + 2) * pairs + i] = 0.5f * (t[r][0] - t[r][1] + t[r][2]);
        u[(r * 4 + 3) * pairs + i] = t[r][2];
      }
    }
#endif
  }
}

struct WinogradTiles {
  int th, tw, T;  // tile rows, tile columns, tiles of one image
  explicit WinogradTiles(const ConvShape& s) : th((s.hOut() + 1) / 2), tw((s.wOut() + 1) / 2), T(th * tw) {}
};

// The transforms' lanes, as structs of operations so that one transform is written once for
// every width. Across channels (winogradForwardFewInto's transforms): the table's vectors, or
// single floats where it has none (the compiler vectorizes what it can). Across a tile row
// (winogradInput, winogradOutput, winogradOutputGrad): the table's vectors, or on AVX-512 8-lane
// ones when a row has at most 8 tiles (HalfLanes): conv2's rows of 7 tiles filled 7 of 16 lanes,
// and Zen 4 runs a 16-lane operation as two 8-lane halves, so more than half the work was padding.
struct ScalarLanes {
  using V = float;
  static constexpr int N = 1;
  static V load(const float* p) { return *p; }
  static V loadN(const float* p, int) { return *p; }
  static void store(float* p, V v) { *p = v; }
  static V add(V a, V b) { return a + b; }
  static V sub(V a, V b) { return a - b; }
  static V relu(V a) { return a > 0.f ? a : 0.f; }
  /** b if b > a, else a (a NaN or a tie keeps a): the max pool's select. */
  static V greaterOf(V a, V b) { return b > a ? b : a; }
};

#if INKLING_VEC
struct WideLanes {
  using V = vf;
  static constexpr int N = VL;
  static V load(const float* p) { return vload(p); }
  static V loadN(const float* p, int n) { return vloadN(p, n); }
  static void store(float* p, V v) { vstore(p, v); }
  static void storeN(float* p, V v, int n) { vstoreN(p, v, n); }
  static V add(V a, V b) { return vadd(a, b); }
  static V sub(V a, V b) { return vsub(a, b); }
  static V relu(V a) { return vmax(a, vzero()); }
  /** b if b > a, else a (a NaN or a tie keeps a): the max pool's select (MAXPS returns its second
   *  operand unless the first is greater). */
  static V greaterOf(V a, V b) { return vmax(b, a); }
  static V zero() { return vzero(); }
  static V set1(float x) { return vset1(x); }
  static void interleave(V a, V b, V& lo, V& hi) { vinterleave(a, b, lo, hi); }
};
using ChannelLanes = WideLanes;
#else
using ChannelLanes = ScalarLanes;
#endif

#if INKLING_AVX512
struct HalfLanes {
  using V = __m256;
  static constexpr int N = 8;
  static V load(const float* p) { return _mm256_loadu_ps(p); }
#if INKLING_SIMDE
  static V loadN(const float* p, int n) {
    alignas(32) float t[8] = {};
    std::memcpy(t, p, sizeof(float) * n);
    return _mm256_load_ps(t);
  }
  static void storeN(float* p, V v, int n) {
    alignas(32) float t[8];
    _mm256_store_ps(t, v);
    std::memcpy(p, t, sizeof(float) * n);
  }
#else
  static V loadN(const float* p, int n) { return _mm256_maskz_loadu_ps(__mmask8((1u << n) - 1u), p); }
  static void storeN(float* p, V v, int n) { _mm256_mask_storeu_ps(p, __mmask8((1u << n) - 1u), v); }
#endif
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static V relu(V a) { return _mm256_max_ps(a, _mm256_setzero_ps()); }
  static V zero() { return _mm256_setzero_ps(); }
  static V set1(float x) { return _mm256_set1_ps(x); }
  static void interleave(V a, V b, V& lo, V& hi) { interleave8(a, b, lo, hi); }
};
#endif

/** Calls f(Lanes{}) with the lanes a transform across a tile row of `g` runs in (see above). */
template <class F>
static inline void withTileRowLanes(const WinogradTiles& g, F&& f) {
#if INKLING_AVX512
  if (g.tw <= HalfLanes::N) return f(HalfLanes{});
#endif
  (void)g;
  f(ChannelLanes{});
}

constexpr int kLanes = ChannelLanes::N;

/** even[j / 2] (j even) or odd[j / 2] (j odd) = src[j] for j in [lo, hi): one row split into its
 *  even and odd columns. Written as pairs: indexing a table of the two row pointers by j & 1
 *  made GCC load the pointer for every element (a third of the weight gradient's transform).
 *  Memory up to `end` may be read (and ignored) past the row. */
static inline void splitEvenOdd(const float* src, int lo, int hi, float* __restrict even, float* __restrict odd,
                                const float* end) {
#if INKLING_AVX2
  // A row of up to 16 values from column 0 or 1 (conv2's: 14 from column 1): two loads and two
  // shuffles. Lanes past the row come out zero and land on columns that must stay zero: writes
  // reach even[8] or odd[7] at most, inside every caller's row stride. Where the 16 floats are
  // readable (every row but a plane set's last) they are plain loads with the lanes past the row
  // cleared: vmaskmovps costs ~10 cycles per load on Zen 1, and this one was ~2% of a b64 step.
  if (lo <= 1 && hi - lo <= 16) {
    const int n = hi - lo;
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const float* p = src + lo;
    const __m256i maskA = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), lane);
    const __m256i maskB = _mm256_cmpgt_epi32(_mm256_set1_epi32(n - 8), lane);
    const bool readable = end - p >= 16;
    const __m256 a = n >= 8 ? _mm256_loadu_ps(p)
                     : readable ? _mm256_and_ps(_mm256_loadu_ps(p), _mm256_castsi256_ps(maskA))
                                : _mm256_maskload_ps(p, maskA);
    const __m256 b = n >= 16 ? _mm256_loadu_ps(p + 8)
                     : readable ? _mm256_and_ps(_mm256_loadu_ps(p + 8), _mm256_castsi256_ps(maskB))
                                : _mm256_maskload_ps(p + 8, maskB);
    // per 128-bit half: p0 p2 | p8 p10, p4 p6 | p12 p14; the 64-bit pairs reordered 0, 2, 1, 3
    const __m256 e = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0x88)), 0xD8));
    const __m256 o = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0xDD)), 0xD8));
    if (lo == 0) {
      _mm256_storeu_ps(even, e);
      _mm256_storeu_ps(odd, o);
    } else {  // p[k] is column k + 1
      _mm256_storeu_ps(odd, e);
      _mm256_storeu_ps(even + 1, o);
    }
    return;
  }
#endif
  int j = lo;
  if ((j & 1) && j < hi) odd[j >> 1] = src[j], ++j;
  for (; j + 1 < hi; j += 2) {
    even[j >> 1] = src[j];
    odd[j >> 1] = src[j + 1];
  }
  if (j < hi) even[j >> 1] = src[j];
}

/** Row length of the de-interleaved planes of winogradInput: `half` = tw + 1 columns, slack for
 *  the vector loop's reads past them. */
static inline int winogradHalfStride(const WinogradTiles& g) { return g.tw + 1 + kWinogradSlack; }

/** Scratch floats winogradInput needs for `g`: the even and odd planes (2·th + 2 rows each). */
static inline size_t winogradRowScratch(const WinogradTiles& g) {
  return size_t(2) * (2 * g.th + 2) * winogradHalfStride(g) + kWinogradSlack;
}

/** V[ξ][c][t0 + t] = (Bᵀ d B)[ξ] for every channel of one image (d: the 4x4 zero-padded input patch
 *  of tile t); ldv = the row length of V, at least the tiles + kWinogradSlack (the vector loop
 *  writes up to a vector past a tile row: later rows and images overwrite it, and the last one
 *  lands in that slack). `row`: winogradRowScratch(g) floats.
 *  Each channel's zero-padded rows are first split into even and odd columns, each input row
 *  once (tile rows overlap by two input rows), so that columns 2tx .. 2tx + 3 of consecutive
 *  tiles are plain vector loads: Bᵀ d runs along whole rows and d B across tiles, a vector of
 *  tiles at a time. (Building the four patch rows of every tile row with bounds checks instead
 *  cost about as much as the transform itself.) */
template <class L>
static void winogradInputWith(const float* x, const ConvShape& s, const WinogradTiles& g, float* V, i64 ldv, int t0,
                              float* row) {
  const size_t plane = size_t(s.cIn) * ldv;
  const int half = g.tw + 1, stride = winogradHalfStride(g), rows = 2 * g.th + 2;
  float* evenPlane = row;
  float* oddPlane = row + size_t(rows) * stride;
  // The slack past `half` in every row stays zero (the vector loop reads it for the last tiles).
  std::memset(row, 0, sizeof(float) * 2 * rows * stride);
  // Padded columns [lo, hi) come from the input row (column j − pad); the rest stay zero.
  const int lo = std::min(2 * half, s.pad), hi = std::max(lo, std::min(2 * half, s.w + s.pad));
  const float* end = x + i64(s.cIn) * s.h * s.w;  // this image's planes
  for (int c = 0; c < s.cIn; ++c) {
    const float* xc = x + i64(c) * s.h * s.w;
    float* vc = V + i64(c) * ldv + t0;
    for (int py = 0; py < rows; ++py) {
      const int iy = py - s.pad;
      float* even = evenPlane + size_t(py) * stride;
      float* odd = oddPlane + size_t(py) * stride;
      if (iy < 0 || iy >= s.h) {
        // zero rows: every channel's are the same, written by the memset above
        continue;
      }
      // Straight from the input row: a memcpy into `line` first cost a library call per row
      // (~20 ns for 14 floats, 5% of conv2's forward). Columns outside [lo, hi) stay zero.
      splitEvenOdd(xc + i64(iy) * s.w - s.pad, lo, hi, even, odd, end);
    }
    for (int ty = 0; ty < g.th; ++ty) {
      const float* even[4];
      const float* odd[4];
      for (int r = 0; r < 4; ++r) {
        even[r] = evenPlane + size_t(2 * ty + r) * stride;
        odd[r] = oddPlane + size_t(2 * ty + r) * stride;
      }
      float* v = vc + ty * g.tw;
#if INKLING_VEC
      for (int tx = 0; tx < g.tw; tx += L::N) {
        // Bᵀ d at column pairs tx (bE: columns 2tx, bO: 2tx + 1) and tx + 1 (2tx + 2, 2tx + 3)
        typename L::V bE[2][4], bO[2][4];
        for (int k = 0; k < 2; ++k) {
          const auto E0 = L::load(even[0] + tx + k), E1 = L::load(even[1] + tx + k);
          const auto E2 = L::load(even[2] + tx + k), E3 = L::load(even[3] + tx + k);
          const auto O0 = L::load(odd[0] + tx + k), O1 = L::load(odd[1] + tx + k);
          const auto O2 = L::load(odd[2] + tx + k), O3 = L::load(odd[3] + tx + k);
          bE[k][0] = L::sub(E0, E2), bE[k][1] = L::add(E1, E2), bE[k][2] = L::sub(E2, E1), bE[k][3] = L::sub(E1, E3);
          bO[k][0] = L::sub(O0, O2), bO[k][1] = L::add(O1, O2), bO[k][2] = L::sub(O2, O1), bO[k][3] = L::sub(O1, O3);
        }
        for (int i = 0; i < 4; ++i) {
          L::store(v + (i * 4 + 0) * plane + tx, L::sub(bE[0][i], bE[1][i]));
          L::store(v + (i * 4 + 1) * plane + tx, L::add(bO[0][i], bE[1][i]));
          L::store(v + (i * 4 + 2) * plane + tx, L::sub(bE[1][i], bO[0][i]));
          L::store(v + (i * 4 + 3) * plane + tx, L::sub(bO[0][i], bO[1][i]));
        }
      }
#else
      for (int tx = 0; tx < g.tw; ++tx) {
        float bE[2][4], bO[2][4];
        for (int k = 0; k < 2; ++k) {
          const int u = tx + k;
          bE[k][0] = even[0][u] - even[2][u], bE[k][1] = even[1][u] + even[2][u];
          bE[k][2] = even[2][u] - even[1][u], bE[k][3] = even[1][u] - even[3][u];
          bO[k][0] = odd[0][u] - odd[2][u], bO[k][1] = odd[1][u] + odd[2][u];
          bO[k][2] = odd[2][u] - odd[1][u], bO[k][3] = odd[1][u] - odd[3][u];
        }
        for (int i = 0; i < 4; ++i) {
          v[(i * 4 + 0) * plane + tx] = bE[0][i] - bE[1][i];
          v[(i * 4 + 1) * plane + tx] = bO[0][i] + bE[1][i];
          v[(i * 4 + 2) * plane + tx] = bE[1][i] - bO[0][i];
          v[(i * 4 + 3) * plane + tx] = bO[0][i] - bO[1][i];
        }
      }
#endif
    }
  }
}

static void winogradInput(const float* x, const ConvShape& s, const WinogradTiles& g, float* V, i64 ldv, int t0,
                          float* row) {
  withTileRowLanes(g, [&](auto lanes) { winogradInputWith<decltype(lanes)>(x, s, g, V, ldv, t0, row); });
}

/** The 2x2 outputs of a tile (a lane of tiles or channels): y[i][k] = (Aᵀ M A)[i][k] + b, then
 *  ReLU, with M[ξ] read at m + ξ·plane. winogradOutput and winogradOutputChannels both call it,
 *  so the batched and the batch-1 paths keep the same arithmetic per element. */
template <class L>
static inline void winogradTileOutput(const float* m, size_t plane, typename L::V b, bool relu, typename L::V y[2][2]) {
  typename L::V a[2][4];  // Aᵀ M
  for (int j = 0; j < 4; ++j) {
    const auto m0 = L::load(m + (0 * 4 + j) * plane), m1 = L::load(m + (1 * 4 + j) * plane);
    const auto m2 = L::load(m + (2 * 4 + j) * plane), m3 = L::load(m + (3 * 4 + j) * plane);
    a[0][j] = L::add(L::add(m0, m1), m2);
    a[1][j] = L::sub(L::sub(m1, m2), m3);
  }
  for (int i = 0; i < 2; ++i) {
    y[i][0] = L::add(L::add(L::add(a[i][0], a[i][1]), a[i][2]), b);
    y[i][1] = L::add(L::sub(L::sub(a[i][1], a[i][2]), a[i][3]), b);
    if (relu) y[i][0] = L::relu(y[i][0]), y[i][1] = L::relu(y[i][1]);
  }
}

/** out (+)= Aᵀ M A per (channel, tile) of one image, for channels [c0, c1); M[ξ][c][t0 + t], rows
 *  ldm long (reads run up to a vector past a tile row, into the slack). Vectorised across a tile
 *  row (L: withTileRowLanes): the four outputs of each tile come out as four vectors, interleaved
 *  into output rows. */
template <class L>
static void winogradOutputWith(const float* M, i64 ldm, int t0, int channels, const WinogradTiles& g, int hOut,
                               int wOut, int c0, int c1, const float* bias, bool relu, bool accumulate, float* out) {
  const size_t plane = size_t(channels) * ldm;
#if INKLING_VEC
  constexpr int N = L::N;
  // With one vector block per row, the stores run in address order: the last (partial) block of
  // a row may then be stored whole, its spill landing where later rows of this call are stored
  // (AVX2 has no cheap masked store: a masked store goes through a stack copy), unless it would
  // pass the end of the call's channels or values are being added to.
  const bool spill = !accumulate && g.tw <= N;
  const float* rangeEnd = out + i64(c1) * hOut * wOut;
#endif
  for (int c = c0; c < c1; ++c) {
    const float* mc = M + i64(c) * ldm + t0;
    float* oc = out + i64(c) * hOut * wOut;
    const float b = bias ? bias[c] : 0.f;
    for (int ty = 0; ty < g.th; ++ty) {
      const float* m = mc + ty * g.tw;
#if INKLING_VEC
      const typename L::V bv = L::set1(b);
      for (int tx = 0; tx < g.tw; tx += N) {
        typename L::V y[2][2];
        winogradTileOutput<L>(m + tx, plane, bv, relu, y);
        for (int i = 0; i < 2; ++i) {
          const int oy = 2 * ty + i;
          if (oy >= hOut) break;
          typename L::V lo, hi;
          L::interleave(y[i][0], y[i][1], lo, hi);  // output columns 2tx, 2tx + 1, …
          float* o = oc + i64(oy) * wOut + 2 * tx;
          const int n = std::min(2 * N, wOut - 2 * tx), nLo = std::min(N, n), nHi = n - nLo;
          if (spill && o + 2 * N <= rangeEnd) {
            L::store(o, lo);
            L::store(o + N, hi);
            continue;
          }
          if (accumulate) {
            lo = L::add(lo, L::loadN(o, nLo));
            if (nHi > 0) hi = L::add(hi, L::loadN(o + N, nHi));
          }
          L::storeN(o, lo, nLo);
          if (nHi > 0) L::storeN(o + N, hi, nHi);
        }
      }
#else
      for (int tx = 0; tx < g.tw; ++tx) {
        float y[2][2];
        winogradTileOutput<ScalarLanes>(m + tx, plane, b, relu, y);
        for (int i = 0; i < 2; ++i) {
          const int oy = 2 * ty + i;
          if (oy >= hOut) break;
          float* o = oc + i64(oy) * wOut + 2 * tx;
          o[0] = accumulate ? o[0] + y[i][0] : y[i][0];
          if (2 * tx + 1 < wOut) o[1] = accumulate ? o[1] + y[i][1] : y[i][1];
        }
      }
#endif
    }
  }
}

static void winogradOutput(const float* M, i64 ldm, int t0, int channels, const WinogradTiles& g, int hOut, int wOut,
                           int c0, int c1, const float* bias, bool relu, bool accumulate, float* out) {
  withTileRowLanes(g, [&](auto lanes) {
    winogradOutputWith<decltype(lanes)>(M, ldm, t0, channels, g, hOut, wOut, c0, c1, bias, relu, accumulate, out);
  });
}

/** Zeroes the slack columns [tiles, ld) of `rows` rows of ld floats (vector reads of the last tile
 *  row run into them: they must hold finite numbers, not leftovers that may be denormal). */
static inline void zeroSlack(float* p, i64 rows, i64 ld, int tiles) {
  for (i64 r = 0; r < rows; ++r)
    for (i64 t = tiles; t < ld; ++t) p[r * ld + t] = 0.f;
}

#ifndef INKLING_WINOGRAD_CHUNK
#define INKLING_WINOGRAD_CHUNK 4
#endif
constexpr int kWinogradChunk = INKLING_WINOGRAD_CHUNK;

/** Where a convolution puts an image's output, [cOut][hOut][wOut]: `image(img, thread)` gives
 *  the destination (thread −1: one image shared by every thread), and `done(img, c0, c1, thread,
 *  image)` is called once channels [c0, c1) of it are complete (conv_pool.h pools them there). */
/** What a sink of the convolutions' forward passes (winogradConvInto, winogradForwardFewInto,
 *  directSingleChannelForwardInto) says by default: it takes the output planes (`image`, then
 *  `done`), and pools nothing itself (conv_pool.h's PoolingSink overrides both: the kernel then
 *  writes the 2x2, stride-2 pool of its tiles to `pooledOut`). */
struct TakesPlanes {
  bool poolsTiles() const { return false; }
  float* pooledOut(int) const { return nullptr; }
};

struct ConvOutputSink : TakesPlanes {
  float* out;
  i64 outImage;
  ConvOutputSink(float* o, i64 image) : out(o), outImage(image) {}
  float* image(int img, int) const { return out + img * outImage; }
  void done(int, int, int, int, const float*) const {}
};

/** conv(x, w) + bias (ReLU) with Winograd, given U (winogradWeights: [16][cOut][cIn]), each image
 *  written (or added, `accumulate`) where `sink` says. V [16][cIn][ld] and M [16][cOut][ld] per
 *  task, ld = the task's tiles + slack. */
template <class Sink>
static void winogradConvInto(Context& ctx, const float* x, const float* U, const float* bias, const ConvShape& s,
                             bool relu, bool accumulate, const Sink& sink) {
  const WinogradTiles g(s);
  const int hOut = s.hOut(), wOut = s.wOut(), threads = ctx.pool.size();
  const i64 xImage = i64(s.cIn) * s.h * s.w;
  const int chunk = std::max(1, std::min(kWinogradChunk, s.n / (2 * threads)));
  const int tasks = (s.n + chunk - 1) / chunk;
  const auto gemms = [&](const float* V, float* M, int tiles, i64 ld, int xi0, int xi1, ThreadScratch& scratch) {
    for (int xi = xi0; xi < xi1; ++xi)
      gemmSingle(s.cOut, tiles, s.cIn, View{U + size_t(xi) * s.cOut * s.cIn, s.cIn, 1},
                 View{V + size_t(xi) * s.cIn * ld, ld, 1}, M + size_t(xi) * s.cOut * ld, ld, false, Epilogue{},
                 scratch);
  };
  if (tasks >= 2 * threads || threads == 1) {
    // One task per chunk of images: its transforms and 16 GEMMs stay on one core.
    const i64 ldMax = i64(chunk) * g.T + kWinogradSlack;
    ctx.pool.run(tasks, [&](int task, int thread) {
      ThreadScratch& scratch = ctx.perThread[thread];
      const int img0 = task * chunk, images = std::min(chunk, s.n - img0), tiles = images * g.T;
      const i64 ld = tiles + kWinogradSlack;
      float* V = scratch.columns.floats(size_t(16) * (s.cIn + s.cOut) * ldMax + winogradRowScratch(g));
      float* M = V + size_t(16) * s.cIn * ld;
      float* row = M + size_t(16) * s.cOut * ld;
      for (int k = 0; k < images; ++k) winogradInput(x + (img0 + k) * xImage, s, g, V, ld, k * g.T, row);
      zeroSlack(M, i64(16) * s.cOut, ld, tiles);
      gemms(V, M, tiles, ld, 0, 16, scratch);
      for (int k = 0; k < images; ++k) {
        float* dst = sink.image(img0 + k, thread);
        winogradOutput(M, ld, k * g.T, s.cOut, g, hOut, wOut, 0, s.cOut, bias, relu, accumulate, dst);
        sink.done(img0 + k, 0, s.cOut, thread, dst);
      }
    });
    return;
  }
  // Few images: per image, the 16 GEMMs and then the output channels are split over the threads.
  const i64 ld = g.T + kWinogradSlack;
  float* V = ctx.temp.floats(size_t(16) * (s.cIn + s.cOut) * ld + winogradRowScratch(g));
  float* M = V + size_t(16) * s.cIn * ld;
  float* row = M + size_t(16) * s.cOut * ld;
  zeroSlack(M, i64(16) * s.cOut, ld, g.T);
  for (int img = 0; img < s.n; ++img) {
    winogradInput(x + img * xImage, s, g, V, ld, 0, row);
    ctx.pool.run(16, [&](int xi, int thread) { gemms(V, M, g.T, ld, xi, xi + 1, ctx.perThread[thread]); });
    const int parts = std::min(s.cOut, 4 * threads);
    float* dst = sink.image(img, -1);
    ctx.pool.run(parts, [&](int part, int thread) {
      const int c0 = s.cOut * part / parts, c1 = s.cOut * (part + 1) / parts;
      winogradOutput(M, ld, 0, s.cOut, g, hOut, wOut, c0, c1, bias, relu, accumulate, dst);
      sink.done(img, c0, c1, thread, dst);
    });
  }
}

/** out (+)= conv(x, w) + bias (ReLU) with Winograd, given U. */
static void winogradConv(Context& ctx, const float* x, const float* U, const float* bias, float* out, const ConvShape& s,
                         bool relu, bool accumulate) {
  winogradConvInto(ctx, x, U, bias, s, relu, accumulate, ConvOutputSink{out, i64(s.cOut) * s.hOut() * s.wOut()});
}

/** Floats of the packed Uᵀ panels per ξ (winogradForwardFewInto's filters). */
static inline size_t winogradPanelFloats(const ConvShape& s) { return size_t((s.cOut + NR - 1) / NR) * NR * s.cIn; }

/** The forward filters for w: from the cache when (w, stamp, layout) is there, else computed (into
 *  the cache when the stamp is known, replacing the least recently used set). layout 0: U
 *  [16][cOut][cIn]; layout 1: Uᵀ[ξ] ([cIn x cOut]) packed into the GEMM's NR-wide B panels, ξ
 *  after ξ (winogradForwardFewInto), so that the batch-1 GEMMs pack nothing. */
static const float* winogradForwardFilters(Context& ctx, const float* w, const ConvShape& s, double stamp,
                                           int layout = 0) {
  const size_t uSize = size_t(16) * s.cOut * s.cIn;
  const size_t tempSize = size_t(9) * s.cOut * (s.cIn + kWinogradSlack);
  const size_t size = layout == 0 ? uSize : 16 * winogradPanelFloats(s);
  const auto at = [&](int o, int i, int ky, int kx) { return w[((i64(o) * s.cIn + i) * 3 + ky) * 3 + kx]; };
  const auto compute = [&](float* dst) {
    if (layout == 0) return winogradWeights(s.cOut, s.cIn, at, dst, ctx.weights.floats(tempSize));
    float* U = ctx.weights.floats(uSize + tempSize);
    winogradWeights(s.cOut, s.cIn, at, U, U + uSize);
    for (int xi = 0; xi < 16; ++xi)
      packB(View{U + size_t(xi) * s.cOut * s.cIn, 1, s.cIn}, s.cIn, 0, s.cOut, dst + xi * winogradPanelFloats(s));
  };
  if (stamp <= 0) {  // layout 0 only (winogradFewApplies needs a stamp)
    float* U = ctx.weights.floats(uSize + tempSize);
    winogradWeights(s.cOut, s.cIn, at, U, U + uSize);
    return U;
  }
  ++ctx.uses;
  DerivedFilters* slot = &ctx.derived[0];
  for (DerivedFilters& d : ctx.derived) {
    if (d.w == w && d.stamp == stamp && d.outs == s.cOut && d.ins == s.cIn && d.layout == layout) {
      d.lastUse = ctx.uses;
      return d.data.floats(size);
    }
    if (d.lastUse < slot->lastUse) slot = &d;
  }
  float* U = slot->data.floats(size);
  compute(U);
  slot->w = w;
  slot->stamp = stamp;
  slot->outs = s.cOut;
  slot->ins = s.cIn;
  slot->layout = layout;
  slot->lastUse = ctx.uses;
  return U;
}

/** Whether winogradForwardFewInto runs this forward pass: a batch of one or two images with cached
 *  filters (inference), and a K (= cIn) that fits one GEMM block. */
static bool winogradFewApplies(const ConvShape& s, double stamp) { return stamp > 0 && s.n <= 2 && s.cIn <= KC_MAX; }

/** Vt[ξ][t][c] = (Bᵀ d B)[ξ] for the tiles t of tile rows [ty0, ty1) of one image, every channel
 *  (ldv = cIn rounded up to kLanes; the padding lanes come out zero). The rows these tiles read
 *  are first copied channel-minor (zero-padded) into `xh`, so that a 4x4 patch of kLanes channels
 *  is 16 plain loads: the transform then runs across channels and writes Vt's rows directly, in
 *  the layout the GEMM reads as A. Same arithmetic per element as winogradInput. */
static void winogradInputRows(const float* x, const ConvShape& s, const WinogradTiles& g, int ty0, int ty1, float* Vt,
                              int ldv, float* xh) {
  const int pw = 2 * g.tw + 2, rows = 2 * (ty1 - ty0) + 2, iy0 = 2 * ty0 - s.pad;
  std::memset(xh, 0, sizeof(float) * size_t(rows) * pw * ldv);
  const int cols = std::min(s.w, pw - s.pad);  // input columns that land in the padded rows
  for (int r = 0; r < rows; ++r) {
    const int iy = iy0 + r;
    if (iy < 0 || iy >= s.h) continue;
    int c = 0;
#if INKLING_AVX2
    // 8 channels x 8 columns at a time through register transposes (the scalar copy below was
    // a fifth of conv2's batch-1 forward).
    if (cols >= 8)
      for (; c + 8 <= s.cIn; c += 8)
        transposeRun(x + (i64(c) * s.h + iy) * s.w, 1, i64(s.h) * s.w, xh + (size_t(r) * pw + s.pad) * ldv + c, ldv, ldv,
                     cols);
#endif
    for (; c < s.cIn; ++c) {
      const float* src = x + (i64(c) * s.h + iy) * s.w;
      float* dst = xh + size_t(r) * pw * ldv + c;
      for (int ix = 0; ix < cols; ++ix) dst[size_t(ix + s.pad) * ldv] = src[ix];
    }
  }
  const size_t plane = size_t(g.T) * ldv;
  for (int ty = ty0; ty < ty1; ++ty)
    for (int tx = 0; tx < g.tw; ++tx) {
      const float* d = xh + (size_t(2 * (ty - ty0)) * pw + 2 * tx) * ldv;
      float* v = Vt + size_t(ty * g.tw + tx) * ldv;
      for (int c = 0; c < ldv; c += kLanes) {
        using L = ChannelLanes;
        L::V t[4][4];  // Bᵀ d: rows combined, per patch column q
        for (int q = 0; q < 4; ++q) {
          const float* col = d + size_t(q) * ldv + c;
          const L::V d0 = L::load(col), d1 = L::load(col + size_t(pw) * ldv);
          const L::V d2 = L::load(col + size_t(2 * pw) * ldv), d3 = L::load(col + size_t(3 * pw) * ldv);
          t[0][q] = L::sub(d0, d2), t[1][q] = L::add(d1, d2), t[2][q] = L::sub(d2, d1), t[3][q] = L::sub(d1, d3);
        }
        for (int i = 0; i < 4; ++i) {
          L::store(v + (i * 4 + 0) * plane + c, L::sub(t[i][0], t[i][2]));
          L::store(v + (i * 4 + 1) * plane + c, L::add(t[i][1], t[i][2]));
          L::store(v + (i * 4 + 2) * plane + c, L::sub(t[i][2], t[i][1]));
          L::store(v + (i * 4 + 3) * plane + c, L::sub(t[i][1], t[i][3]));
        }
      }
    }
}

/** Row length of a channel-minor staging buffer for `width` channels: whole vectors. */
static inline int channelMinorStride(int width) { return (width + kLanes - 1) / kLanes * kLanes; }

/** out[c][p] = oh[p][c] for `width` channels and P positions (oh rows ldo long). */
static void planesFromChannelMinor(const float* oh, int ldo, int width, int P, float* out) {
  int c = 0;
#if INKLING_AVX2
  // 8 positions x 8 channels at a time through register transposes (scalar, this copy was a
  // third of the output transform at batch 1).
  if (P >= 8)
    for (; c + 8 <= width; c += 8) transposeRun(oh + c, ldo, ldo, out + i64(c) * P, 1, P, P);
#endif
  for (; c < width; ++c) {
    float* dst = out + i64(c) * P;
    for (int p = 0; p < P; ++p) dst[p] = oh[size_t(p) * ldo + c];
  }
}

/** out[c] = Aᵀ M A + bias (ReLU) for the `width` channels of M = Mt[ξ][t][c] (rows ldm long, at
 *  least width rounded up to kLanes: the last vector may read past width, never used), one image.
 *  The results go channel-minor into `oh` ([hOut·wOut][channelMinorStride(width)]) and are then
 *  copied out plane by plane. */
static void winogradOutputChannels(const float* Mt, int ldm, const WinogradTiles& g, int hOut, int wOut, int width,
                                   const float* bias, bool relu, float* out, float* oh) {
  const int ldo = channelMinorStride(width);
  const size_t plane = size_t(g.T) * ldm;
  for (int ty = 0; ty < g.th; ++ty)
    for (int tx = 0; tx < g.tw; ++tx) {
      const float* m = Mt + size_t(ty * g.tw + tx) * ldm;
      for (int c = 0; c < width; c += kLanes) {
        using L = ChannelLanes;
        const L::V b = bias ? L::loadN(bias + c, std::min(kLanes, width - c)) : L::V{};
        L::V y[2][2];
        winogradTileOutput<L>(m + c, plane, b, relu, y);
        for (int i = 0; i < 2; ++i) {
          const int oy = 2 * ty + i;
          if (oy >= hOut) break;
          float* o = oh + (size_t(oy) * wOut + 2 * tx) * ldo + c;
          L::store(o, y[i][0]);
          if (2 * tx + 1 < wOut) L::store(o + ldo, y[i][1]);
        }
      }
    }
  planesFromChannelMinor(oh, ldo, width, hOut * wOut, out);
}

/** The 2x2, stride-2 max pool of winogradOutputChannels' results, written straight from the
 *  tiles: a Winograd F(2x2) tile is exactly one pooling window, so its four outputs are pooled in
 *  registers and the convolution's planes are never stored. Pooled rows and columns are the
 *  tiles that lie wholly inside the output (hOut / 2 by wOut / 2, as the pool's floor). The
 *  select tree is maxPool2x2Row's (left or right, per row, then top or bottom; NaNs and ties keep
 *  the first), so out is bit for bit the pool of the stored planes. oh: [(hOut / 2)·(wOut / 2)]
 *  [channelMinorStride(width)]. */
static void winogradOutputPooledChannels(const float* Mt, int ldm, const WinogradTiles& g, int hOut, int wOut,
                                         int width, const float* bias, bool relu, float* out, float* oh) {
  const int ldo = channelMinorStride(width);
  const int ph = hOut / 2, pw = wOut / 2;
  const size_t plane = size_t(g.T) * ldm;
  using L = ChannelLanes;
  for (int ty = 0; ty < ph; ++ty)
    for (int tx = 0; tx < pw; ++tx) {
      const float* m = Mt + size_t(ty * g.tw + tx) * ldm;
      float* o = oh + size_t(ty * pw + tx) * ldo;
      for (int c = 0; c < width; c += kLanes) {
        const L::V b = bias ? L::loadN(bias + c, std::min(kLanes, width - c)) : L::V{};
        L::V y[2][2];
        winogradTileOutput<L>(m + c, plane, b, relu, y);
        L::store(o + c, L::greaterOf(L::greaterOf(y[0][0], y[0][1]), L::greaterOf(y[1][0], y[1][1])));
      }
    }
  planesFromChannelMinor(oh, ldo, width, ph * pw, out);
}

/** out = conv(x, w) + bias (ReLU) for a batch of one or two (the API's predictions), in one
 *  dispatch of a task per (image, NR-wide output-channel panel):
 *    1. the image's input transform, Vt[ξ][tile][cIn], into the thread's own scratch, once per
 *       image per thread (winogradInputRows: row-major, the GEMM reads it in place as A);
 *    2. M[ξ] = Vt[ξ]·Uᵀ[ξ] for the panel ([tiles x cIn]·[cIn x NR], Uᵀ pre-packed in the filter
 *       cache: nothing is packed), into the thread's scratch;
 *    3. Y = Aᵀ M A + bias, ReLU for the panel's channels, handed to the sink, or pooled on the
 *       spot when the sink pools 2x2 windows with stride 2 (winogradOutputPooledChannels).
 *  Each thread transforms the input itself rather than sharing one transform: at batch 1 that is
 *  ~4 us of a ~25 us task, while a transform split over the threads and read by others cost
 *  ~10 us more here (its 100 KB moving between the cores' caches; seed CNN conv2, Zen 4).
 *  With the tiles as the GEMM's rows (49 at 14x14 = 4 twelve-row blocks + 1) and the channels as
 *  its columns (64 = 2 full panels), almost no FMA is wasted. Every M element is the same FMA
 *  chain over ci as in winogradConv, computed by one task: results do not depend on the thread
 *  count. */
template <class Sink>
static void winogradForwardFewInto(Context& ctx, const float* x, const float* UT, const float* bias, const ConvShape& s,
                                   bool relu, const Sink& sink) {
  const WinogradTiles g(s);
  const int hOut = s.hOut(), wOut = s.wOut(), T = g.T;
  const i64 xImage = i64(s.cIn) * s.h * s.w;
  const int ldv = (s.cIn + kLanes - 1) / kLanes * kLanes;
  const int panels = (s.cOut + NR - 1) / NR;
  const size_t vtSize = size_t(16) * T * ldv, mtSize = size_t(16) * T * NR;
  const size_t xhSize = size_t(2 * g.th + 2) * (2 * g.tw + 2) * ldv;
  const size_t panelStride = winogradPanelFloats(s);
  const bool pooled = sink.poolsTiles();
  std::vector<int> transformed(size_t(ctx.pool.size()), -1);  // the image each thread's Vt holds
  ctx.pool.run(s.n * panels, [&](int task, int thread) {
    const int img = task / panels, p = task % panels;
    ThreadScratch& scratch = ctx.perThread[thread];
    float* Vt = scratch.winograd.floats(vtSize + mtSize + xhSize);
    float* Mt = Vt + vtSize;
    if (transformed[size_t(thread)] != img) {
      winogradInputRows(x + img * xImage, s, g, 0, g.th, Vt, ldv, Mt + mtSize);
      transformed[size_t(thread)] = img;
    }
    const int j0 = p * NR, j1 = std::min(s.cOut, j0 + NR);
    float* pa = scratch.packA.floats(size_t(MR) * s.cIn);
    for (int xi = 0; xi < 16; ++xi)
      macroKernel(T, j1 - j0, s.cIn, pa, Vt + size_t(xi) * T * ldv, ldv, UT + xi * panelStride + size_t(p) * NR * s.cIn,
                  Mt + size_t(xi) * T * NR, NR, false, Epilogue{}, true);
    const float* b = bias ? bias + j0 : nullptr;
    const int width = j1 - j0, ldo = channelMinorStride(width);
    if (pooled) {
      const i64 P = i64(hOut / 2) * (wOut / 2);
      float* oh = scratch.tile.floats(size_t(P) * ldo);
      winogradOutputPooledChannels(Mt, NR, g, hOut, wOut, width, b, relu, sink.pooledOut(img) + j0 * P, oh);
      return;
    }
    float* dst = sink.image(img, thread);
    float* oh = scratch.tile.floats(size_t(hOut) * wOut * ldo);
    winogradOutputChannels(Mt, NR, g, hOut, wOut, width, b, relu, dst + i64(j0) * hOut * wOut, oh);
    sink.done(img, j0, j1, thread, dst);
  });
}

/** dx (+)= the convolution of dy with the flipped, transposed kernel, pad' = 2 − pad. */
static void winogradBackwardInput(Context& ctx, const float* dy, const float* w, float* dx, const ConvShape& s,
                                  bool accumulate) {
  const ConvShape back{s.n, s.cOut, s.hOut(), s.wOut(), s.cIn, 3, 3, 1, 2 - s.pad};
  float* U = ctx.weights.floats(size_t(16) * s.cIn * s.cOut + size_t(9) * s.cIn * (s.cOut + kWinogradSlack));
  winogradWeights(s.cIn, s.cOut,
                  [&](int ci, int co, int ky, int kx) { return w[((i64(co) * s.cIn + ci) * 3 + (2 - ky)) * 3 + (2 - kx)]; }, U,
                  U + size_t(16) * s.cIn * s.cOut);
  winogradConv(ctx, dy, U, nullptr, dx, back, false, accumulate);
}

/** dM[ξ][c][t0 + t] = (A dY Aᵀ)[ξ] for the 2x2 output-gradient tiles of one image (zero past the
 *  output), A = [1 0; 1 1; 1 −1; 0 −1]. `row`: winogradGradScratch(g) floats. As in
 *  winogradInput, each dy row is split into even and odd columns first (zero past the output),
 *  then the transform runs a vector of tiles at a time (writes run up to a vector past a tile
 *  row, into the slack of ldm). */
static inline size_t winogradGradScratch(const WinogradTiles& g) { return size_t(4) * (g.tw + kWinogradSlack); }

template <class L>
static void winogradOutputGradWith(const float* dy, int channels, int hOut, int wOut, const WinogradTiles& g, float* dM,
                                   i64 ldm, int t0, float* row) {
  const size_t plane = size_t(channels) * ldm;
  const int stride = g.tw + kWinogradSlack;
  float* split[2][2];  // [output row of the tile][even/odd column]
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) split[i][j] = row + size_t(2 * i + j) * stride;
  // Columns past wOut (an odd width) are never written: they stay zero.
  std::memset(row, 0, sizeof(float) * winogradGradScratch(g));
  const int cols = std::min(wOut, 2 * g.tw);
  const float* end = dy + i64(channels) * hOut * wOut;  // this image's planes
  for (int c = 0; c < channels; ++c) {
    const float* dc = dy + i64(c) * hOut * wOut;
    float* mc = dM + i64(c) * ldm + t0;
    for (int ty = 0; ty < g.th; ++ty) {
      for (int i = 0; i < 2; ++i) {
        // straight from the dy row (no memcpy call per row, as in winogradInput)
        const int oy = 2 * ty + i;
        if (oy < hOut) {
          splitEvenOdd(dc + i64(oy) * wOut, 0, cols, split[i][0], split[i][1], end);
        } else {
          std::memset(split[i][0], 0, sizeof(float) * g.tw);
          std::memset(split[i][1], 0, sizeof(float) * g.tw);
        }
      }
      float* m = mc + ty * g.tw;
#if INKLING_VEC
      for (int tx = 0; tx < g.tw; tx += L::N) {
        typename L::V a[4][2];  // A dY
        for (int j = 0; j < 2; ++j) {
          const auto d0 = L::load(split[0][j] + tx), d1 = L::load(split[1][j] + tx);
          a[0][j] = d0;
          a[1][j] = L::add(d0, d1);
          a[2][j] = L::sub(d0, d1);
          a[3][j] = L::sub(L::zero(), d1);
        }
        for (int i = 0; i < 4; ++i) {
          L::store(m + (i * 4 + 0) * plane + tx, a[i][0]);
          L::store(m + (i * 4 + 1) * plane + tx, L::add(a[i][0], a[i][1]));
          L::store(m + (i * 4 + 2) * plane + tx, L::sub(a[i][0], a[i][1]));
          L::store(m + (i * 4 + 3) * plane + tx, L::sub(L::zero(), a[i][1]));
        }
      }
#else
      for (int tx = 0; tx < g.tw; ++tx) {
        float a[4][2];  // A dY
        for (int j = 0; j < 2; ++j) {
          const float d0 = split[0][j][tx], d1 = split[1][j][tx];
          a[0][j] = d0;
          a[1][j] = d0 + d1;
          a[2][j] = d0 - d1;
          a[3][j] = -d1;
        }
        for (int i = 0; i < 4; ++i) {
          m[(i * 4 + 0) * plane + tx] = a[i][0];
          m[(i * 4 + 1) * plane + tx] = a[i][0] + a[i][1];
          m[(i * 4 + 2) * plane + tx] = a[i][0] - a[i][1];
          m[(i * 4 + 3) * plane + tx] = -a[i][1];
        }
      }
#endif
    }
  }
}

static void winogradOutputGrad(const float* dy, int channels, int hOut, int wOut, const WinogradTiles& g, float* dM,
                               i64 ldm, int t0, float* row) {
  withTileRowLanes(g, [&](auto lanes) {
    winogradOutputGradWith<decltype(lanes)>(dy, channels, hOut, wOut, g, dM, ldm, t0, row);
  });
}

/** dwT[k][co] (k = (ci, ky, kx)) = (Gᵀ dU G) for dU [16][cOut][cIn]; Gᵀ = [1 ½ ½ 0; 0 ½ −½ 0; 0 ½ ½ 1]. */
static void winogradWeightGradient(const float* dU, int cOut, int cIn, float* dwT) {
  const size_t plane = size_t(cOut) * cIn;
  for (int co = 0; co < cOut; ++co)
    for (int ci = 0; ci < cIn; ++ci) {
      const float* u = dU + size_t(co) * cIn + ci;
      float t[3][4];  // Gᵀ dU
      for (int j = 0; j < 4; ++j) {
        const float u0 = u[(0 * 4 + j) * plane], u1 = u[(1 * 4 + j) * plane];
        const float u2 = u[(2 * 4 + j) * plane], u3 = u[(3 * 4 + j) * plane];
        t[0][j] = u0 + 0.5f * (u1 + u2);
        t[1][j] = 0.5f * (u1 - u2);
        t[2][j] = 0.5f * (u1 + u2) + u3;
      }
      for (int ky = 0; ky < 3; ++ky) {
        const float g0 = t[ky][0] + 0.5f * (t[ky][1] + t[ky][2]);
        const float g1 = 0.5f * (t[ky][1] - t[ky][2]);
        const float g2 = 0.5f * (t[ky][1] + t[ky][2]) + t[ky][3];
        float* d = dwT + (size_t(ci) * 9 + ky * 3) * cOut + co;
        d[0] = g0;
        d[size_t(cOut)] = g1;
        d[size_t(2) * cOut] = g2;
      }
    }
}

/** Into the per-group partials of conv2dBackwardWeight ([K, C] transposed weights): group g sums
 *  its images' dU in order, chunk by chunk (the GEMMs' K is the chunk's tiles), then transforms
 *  it once. */
static void winogradBackwardWeightGroup(const float* x, const float* dy, const ConvShape& s, int i0, int i1, float* dwT,
                                        ThreadScratch& scratch) {
  const WinogradTiles g(s);
  const int hOut = s.hOut(), wOut = s.wOut();
  const i64 xImage = i64(s.cIn) * s.h * s.w, yImage = i64(s.cOut) * hOut * wOut;
  const i64 ldMax = i64(kWinogradChunk) * g.T + kWinogradSlack;
  const size_t uSize = size_t(16) * s.cOut * s.cIn;
  float* V = scratch.columns.floats(size_t(16) * (s.cIn + s.cOut) * ldMax + uSize + winogradRowScratch(g) +
                                    winogradGradScratch(g));
  float* dU = V + size_t(16) * (s.cIn + s.cOut) * ldMax;
  float* row = dU + uSize;
  float* gradRow = row + winogradRowScratch(g);
  bool first = true;
  for (int c0 = i0; c0 < i1; c0 += kWinogradChunk) {
    const int images = std::min(kWinogradChunk, i1 - c0), tiles = images * g.T;
    const i64 ld = tiles + kWinogradSlack;
    float* dM = V + size_t(16) * s.cIn * ld;
    for (int k = 0; k < images; ++k) {
      winogradInput(x + (c0 + k) * xImage, s, g, V, ld, k * g.T, row);
      winogradOutputGrad(dy + (c0 + k) * yImage, s.cOut, hOut, wOut, g, dM, ld, k * g.T, gradRow);
    }
    for (int xi = 0; xi < 16; ++xi)
      gemmSingle(s.cOut, s.cIn, tiles, View{dM + size_t(xi) * s.cOut * ld, ld, 1}, View{V + size_t(xi) * s.cIn * ld, 1, ld},
                 dU + size_t(xi) * s.cOut * s.cIn, s.cIn, !first, Epilogue{}, scratch);
    first = false;
  }
  if (first) {
    std::memset(dwT, 0, sizeof(float) * size_t(s.cIn) * 9 * s.cOut);
    return;
  }
  winogradWeightGradient(dU, s.cOut, s.cIn, dwT);
}

}  // namespace INKLING_NS
