// The tiled GEMM core shared by matmul.wgsl and conv2d.wgsl (included, not compiled alone).
// C[M,N] = A[M,K] · B[K,N], where the including file says how to read A and B (plain or
// transposed matrices, or an implicit im2col view of an image) and where C goes (epilogue:
// bias, ReLU, accumulate, NCHW scatter, split-K partials).
//
// A workgroup of WG_X×WG_Y invocations computes a TILE_M×TILE_N tile of C (TILE_M = 4·WG_Y,
// TILE_N = 4·WG_X: 64×64 from 16×16 invocations by default; 64×16, 16×64 or 16×16 when a
// dimension of C is small, so that a conv with 8 output channels does not compute 56 columns
// of padding). Each invocation owns a 4×4 block (rows 4·ty.., columns 4·tx..) held in four
// vec4 accumulators. The K loop stages a TILE_M×16 slab of A and a 16×TILE_N slab of B in
// workgroup memory, stored k-major as vec4s so that the inner loop is two vec4 loads and 16
// FMAs (4 vec4 FMAs) per k:
//   acc[i] += As[k][ty][i] · Bs[k][tx]
// Global loads are arranged so that neighbouring invocations read neighbouring addresses:
// A_KFAST / B_KFAST say the operand is contiguous along k. When a dimension allows it, the
// including file enables vec4 global loads: A_VEC4_K (A rows contiguous along k, K % 4 == 0),
// A_VEC4_M (A stored k-major, M % 4 == 0), B_VEC4_N (B rows contiguous along n, N % 4 == 0),
// B_VEC4_K (B stored n-major, K % 4 == 0).
// Split-K: workgroup z handles k in [z·kChunk, min(K, (z+1)·kChunk)); storeC gets z.
//
// The including file provides: a uniform `P` with fields M, N, K, kChunk; fn loadA(r, k) -> f32;
// fn loadB(k, c) -> f32; fn storeC(r, c, v, z); and the vec4 loaders it enables.
#default WG_X 16
#default WG_Y 16
#default A_KFAST false
#default B_KFAST false
#default A_VEC4_K false
#default A_VEC4_M false
#default B_VEC4_N false
#default B_VEC4_K false

const TILE_M: u32 = 4u * WG_Y;
const TILE_N: u32 = 4u * WG_X;
const TILE_K: u32 = 16u;
const THREADS: u32 = WG_X * WG_Y;

var<workgroup> As: array<array<vec4<f32>, WG_Y>, TILE_K>; // [k][m / 4]
var<workgroup> Bs: array<array<vec4<f32>, WG_X>, TILE_K>; // [k][n / 4]

fn stageA(row0: u32, k0: u32, kEnd: u32, li: u32) {
#if A_VEC4_K
  // TILE_M rows × 4 vec4s along k, each scattered into 4 k rows of the tile.
  for (var e = li; e < TILE_M * 4u; e += THREADS) {
    let mm = e / 4u;
    let k4 = e % 4u;
    let r = row0 + mm;
    let k = k0 + k4 * 4u;
    var v = vec4<f32>(0.0);
    if (r < P.M && k < kEnd) { v = loadA4k(r, k); }
    As[k4 * 4u][mm / 4u][mm % 4u] = v.x;
    As[k4 * 4u + 1u][mm / 4u][mm % 4u] = v.y;
    As[k4 * 4u + 2u][mm / 4u][mm % 4u] = v.z;
    As[k4 * 4u + 3u][mm / 4u][mm % 4u] = v.w;
  }
#else
#if A_VEC4_M
  // 16 k rows × TILE_M/4 vec4s along m, stored straight into the tile.
  for (var e = li; e < TILE_K * WG_Y; e += THREADS) {
    let kk = e / WG_Y;
    let m4 = e % WG_Y;
    let k = k0 + kk;
    let r = row0 + m4 * 4u;
    var v = vec4<f32>(0.0);
    if (r < P.M && k < kEnd) { v = loadA4m(k, r); }
    As[kk][m4] = v;
  }
#else
  for (var e = li; e < TILE_M * TILE_K; e += THREADS) {
    var mm: u32;
    var kk: u32;
    if (A_KFAST) { kk = e % TILE_K; mm = e / TILE_K; } else { mm = e % TILE_M; kk = e / TILE_M; }
    let r = row0 + mm;
    let k = k0 + kk;
    var v = 0.0;
    if (r < P.M && k < kEnd) { v = loadA(r, k); }
    As[kk][mm / 4u][mm % 4u] = v;
  }
#endif
#endif
}

fn stageB(col0: u32, k0: u32, kEnd: u32, li: u32) {
#if B_VEC4_N
  for (var e = li; e < TILE_K * WG_X; e += THREADS) {
    let kk = e / WG_X;
    let n4 = e % WG_X;
    let k = k0 + kk;
    let c = col0 + n4 * 4u;
    var v = vec4<f32>(0.0);
    if (c < P.N && k < kEnd) { v = loadB4n(k, c); }
    Bs[kk][n4] = v;
  }
#else
#if B_VEC4_K
  for (var e = li; e < TILE_N * 4u; e += THREADS) {
    let nn = e / 4u;
    let k4 = e % 4u;
    let c = col0 + nn;
    let k = k0 + k4 * 4u;
    var v = vec4<f32>(0.0);
    if (c < P.N && k < kEnd) { v = loadB4k(c, k); }
    Bs[k4 * 4u][nn / 4u][nn % 4u] = v.x;
    Bs[k4 * 4u + 1u][nn / 4u][nn % 4u] = v.y;
    Bs[k4 * 4u + 2u][nn / 4u][nn % 4u] = v.z;
    Bs[k4 * 4u + 3u][nn / 4u][nn % 4u] = v.w;
  }
#else
  for (var e = li; e < TILE_N * TILE_K; e += THREADS) {
    var nn: u32;
    var kk: u32;
    if (B_KFAST) { kk = e % TILE_K; nn = e / TILE_K; } else { nn = e % TILE_N; kk = e / TILE_N; }
    let c = col0 + nn;
    let k = k0 + kk;
    var v = 0.0;
    if (c < P.N && k < kEnd) { v = loadB(k, c); }
    Bs[kk][nn / 4u][nn % 4u] = v;
  }
#endif
#endif
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  let row0 = wg.y * TILE_M;
  let col0 = wg.x * TILE_N;
  let kBegin = wg.z * P.kChunk;
  let kEnd = min(P.K, kBegin + P.kChunk);
  var acc: array<vec4<f32>, 4>;
  for (var i = 0u; i < 4u; i++) { acc[i] = vec4<f32>(0.0); }

  for (var k0 = kBegin; k0 < kEnd; k0 += TILE_K) {
    stageA(row0, k0, kEnd, li);
    stageB(col0, k0, kEnd, li);
    workgroupBarrier();
    for (var kk = 0u; kk < TILE_K; kk++) {
      let a = As[kk][lid.y];
      let b = Bs[kk][lid.x];
      acc[0] += a.x * b;
      acc[1] += a.y * b;
      acc[2] += a.z * b;
      acc[3] += a.w * b;
    }
    workgroupBarrier();
  }

  for (var i = 0u; i < 4u; i++) {
    let r = row0 + lid.y * 4u + i;
    if (r < P.M) {
      for (var j = 0u; j < 4u; j++) {
        let c = col0 + lid.x * 4u + j;
        if (c < P.N) { storeC(r, c, acc[i][j], wg.z); }
      }
    }
  }
}
