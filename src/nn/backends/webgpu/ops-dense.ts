// Host side of the GEMM-based kernels: matmul and the three convolutions (kernels/matmul.wgsl,
// kernels/conv2d.wgsl on kernels/gemm-core.wgsl), plus channelSum which conv2d's bias gradient
// needs. Shapes go into uniforms; only structural choices (transposes, vec4 loads, epilogue,
// split-K) are variant defines, so a new shape never compiles a new pipeline.
import { convOutputSize, type Activation, type ChannelLayout, type Conv2dParams, type MatmulParams } from '../../backend.ts';
import { grid1d, type Runtime, type Uniform } from './runtime.ts';
import type { WebgpuBuffer } from './buffers.ts';

const TILE_K = 16;

/** Workgroup shape for a C of M×N: WG_X×WG_Y invocations, each a 4×4 block, so the tile is
 *  (4·WG_Y)×(4·WG_X). 16×16 (a 64×64 tile) unless a dimension is small: padding a 9-wide C to
 *  64 columns would waste 85% of the work. */
export function gemmTile(M: number, N: number): { WG_X: number; WG_Y: number; tileM: number; tileN: number } {
  const side = (d: number) => (d <= 16 ? 4 : d <= 32 ? 8 : 16);
  const WG_X = side(N);
  const WG_Y = side(M);
  return { WG_X, WG_Y, tileM: 4 * WG_Y, tileN: 4 * WG_X };
}

function gemmGrid(M: number, N: number, splits = 1): { defines: { WG_X: number; WG_Y: number }; workgroups: [number, number, number] } {
  const t = gemmTile(M, N);
  return { defines: { WG_X: t.WG_X, WG_Y: t.WG_Y }, workgroups: [Math.ceil(N / t.tileN), Math.ceil(M / t.tileM), splits] };
}
/** Workgroups to aim for when splitting K (enough to fill a large GPU; harmless on lavapipe). */
const TARGET_WORKGROUPS = 256;
/** Below this many K per split, splitting costs more than it gains. */
const MIN_K_PER_SPLIT = 512;

/** The GEMM epilogue bits of matmul.wgsl / conv2d.wgsl. */
function epilogueFlags(accumulate: boolean, relu: boolean, bias: boolean): number {
  return (accumulate ? 1 : 0) | (relu ? 2 : 0) | (bias ? 4 : 0);
}

function roundUp(x: number, to: number): number {
  return Math.ceil(x / to) * to;
}

export function matmul(
  rt: Runtime, a: WebgpuBuffer, b: WebgpuBuffer, bias: WebgpuBuffer | null, out: WebgpuBuffer, p: MatmulParams,
): void {
  const { m, n, k, transA, transB } = p;
  if (m * k > a.length || k * n > b.length || m * n > out.length) {
    throw new Error(`webgpu matmul: buffers too small for m=${m} n=${n} k=${k} (a ${a.length}, b ${b.length}, out ${out.length})`);
  }
  const defines = {
    TRANS_A: transA,
    TRANS_B: transB,
    // vec4 global loads along whichever dimension is contiguous, when it is a multiple of 4.
    A_VEC4_K: !transA && k % 4 === 0,
    A_VEC4_M: transA && m % 4 === 0,
    B_VEC4_N: !transB && n % 4 === 0,
    B_VEC4_K: transB && k % 4 === 0,
    A_KFAST: !transA,
    B_KFAST: transB,
  };
  const bindings = [{ buf: a }, { buf: b }, { buf: out, write: true }, { buf: bias ?? rt.dummy }];
  const grid = gemmGrid(m, n);
  const flags = epilogueFlags(p.accumulate ?? false, (p.activation ?? 'none') === 'relu', bias !== null);
  rt.dispatch({
    file: 'matmul.wgsl',
    entry: 'main',
    defines: { ...defines, ...grid.defines },
    uniforms: [['u', m], ['u', n], ['u', k], ['u', roundUp(Math.max(k, 1), TILE_K)], ['u', flags]],
    bindings,
    workgroups: grid.workgroups,
    label: `matmul ${m}x${n}x${k}`,
  });
}

function convUniforms(p: Conv2dParams, M: number, N: number, K: number, kChunk: number, flags: number): Uniform[] {
  const { hOut, wOut } = convOutputSize(p);
  return [
    ['u', M], ['u', N], ['u', K], ['u', kChunk],
    ['u', p.n], ['u', p.cIn], ['u', p.h], ['u', p.w],
    ['u', p.cOut], ['u', p.kh], ['u', p.kw], ['u', p.stride],
    ['u', p.pad], ['u', hOut], ['u', wOut], ['u', flags],
  ];
}

function checkConv(name: string, p: Conv2dParams): { hOut: number; wOut: number } {
  const o = convOutputSize(p);
  if (o.hOut < 1 || o.wOut < 1 || p.stride < 1) {
    throw new Error(`webgpu ${name}: kernel ${p.kh}x${p.kw} stride ${p.stride} pad ${p.pad} does not fit a ${p.h}x${p.w} image`);
  }
  return o;
}

export function conv2d(
  rt: Runtime, x: WebgpuBuffer, w: WebgpuBuffer, bias: WebgpuBuffer | null, out: WebgpuBuffer,
  p: Conv2dParams & { activation?: Activation },
): void {
  const { hOut, wOut } = checkConv('conv2d', p);
  const M = p.n * hOut * wOut;
  const N = p.cOut;
  const K = p.cIn * p.kh * p.kw;
  const bindings = [{ buf: x }, { buf: w }, { buf: out, write: true }, { buf: bias ?? rt.dummy }];
  const grid = gemmGrid(M, N);
  const flags = epilogueFlags(false, (p.activation ?? 'none') === 'relu', bias !== null);
  rt.dispatch({
    file: 'conv2d.wgsl',
    entry: 'main',
    defines: { MODE: 0, B_VEC4_K: K % 4 === 0, B_KFAST: true, ...grid.defines },
    uniforms: convUniforms(p, M, N, K, roundUp(K, TILE_K), flags),
    bindings,
    workgroups: grid.workgroups,
    label: `conv2d ${p.cIn}->${p.cOut} ${p.kh}x${p.kw}`,
  });
}

export function conv2dBackwardInput(
  rt: Runtime, dy: WebgpuBuffer, w: WebgpuBuffer, dx: WebgpuBuffer, p: Conv2dParams, accumulate: boolean,
): void {
  checkConv('conv2dBackwardInput', p);
  const M = p.n * p.h * p.w;
  const N = p.cIn;
  const K = p.cOut * p.kh * p.kw;
  const grid = gemmGrid(M, N);
  rt.dispatch({
    file: 'conv2d.wgsl',
    entry: 'main',
    defines: { MODE: 1, B_KFAST: true, ...grid.defines },
    uniforms: convUniforms(p, M, N, K, roundUp(K, TILE_K), epilogueFlags(accumulate, false, false)),
    bindings: [{ buf: dy }, { buf: w }, { buf: dx, write: true }, { buf: rt.dummy }],
    workgroups: grid.workgroups,
    label: `conv2d.dx ${p.cIn}->${p.cOut} ${p.kh}x${p.kw}`,
  });
}

export function conv2dBackwardWeight(
  rt: Runtime, x: WebgpuBuffer, dy: WebgpuBuffer, dw: WebgpuBuffer, db: WebgpuBuffer | null, p: Conv2dParams, accumulate: boolean,
): void {
  const { hOut, wOut } = checkConv('conv2dBackwardWeight', p);
  const M = p.cOut;
  const N = p.cIn * p.kh * p.kw;
  const K = p.n * hOut * wOut;
  // K (batch × output pixels) is long and M×N small: split K so enough workgroups run, each
  // writing its own partial sums; sum_partials adds them in a fixed order.
  const tile = gemmTile(M, N);
  const tiles = Math.ceil(M / tile.tileM) * Math.ceil(N / tile.tileN);
  const splits = Math.max(1, Math.min(Math.floor(TARGET_WORKGROUPS / tiles), Math.floor(K / MIN_K_PER_SPLIT)));
  const kChunk = roundUp(Math.ceil(K / splits), TILE_K);
  const parts = Math.ceil(K / kChunk);
  const grid = gemmGrid(M, N, parts);
  const common = { MODE: 2, A_KFAST: true, B_KFAST: true, ...grid.defines };
  const workgroups = grid.workgroups;
  const label = `conv2d.dw ${p.cIn}->${p.cOut} ${p.kh}x${p.kw}`;
  if (parts === 1) {
    rt.dispatch({
      file: 'conv2d.wgsl', entry: 'main', defines: common,
      uniforms: convUniforms(p, M, N, K, kChunk, epilogueFlags(accumulate, false, false)),
      bindings: [{ buf: dy }, { buf: x }, { buf: dw, write: true }, { buf: rt.dummy }], workgroups, label,
    });
  } else {
    const partial = rt.temp(parts * M * N);
    rt.dispatch({
      file: 'conv2d.wgsl', entry: 'main', defines: { ...common, SPLIT_K: true },
      uniforms: convUniforms(p, M, N, K, kChunk, 0), bindings: [{ buf: dy }, { buf: x }, { buf: partial, write: true }], workgroups, label,
    });
    sumPartials(rt, partial, dw, M * N, parts, accumulate);
    rt.releaseTemp(partial);
  }
  if (db) channelSum(rt, dy, db, { outer: p.n, channels: p.cOut, inner: hOut * wOut }, accumulate);
}

/** out[i] (+)= Σ_z part[z·length + i]. */
export function sumPartials(rt: Runtime, part: WebgpuBuffer, out: WebgpuBuffer, length: number, parts: number, accumulate: boolean): void {
  rt.dispatch({
    file: 'reduce.wgsl', entry: 'sum_partials', defines: { ACCUMULATE: accumulate },
    uniforms: [['u', length], ['u', parts]],
    bindings: [{ buf: part }, { buf: out, write: true }],
    workgroups: grid1d(length, 256),
  });
}

/** Elements per workgroup in channelSum before it splits a channel into chunks. */
const CHANNEL_CHUNK = 16384;

export function channelSum(rt: Runtime, x: WebgpuBuffer, out: WebgpuBuffer, layout: ChannelLayout, accumulate: boolean): void {
  const { outer, channels, inner } = layout;
  const count = outer * inner;
  if (channels === 0) return;
  const chunks = Math.max(1, Math.min(1024, Math.ceil(count / CHANNEL_CHUNK)));
  const perChunk = Math.max(1, Math.ceil(count / chunks));
  const uniforms: Uniform[] = [['u', outer], ['u', channels], ['u', inner], ['u', perChunk]];
  if (chunks === 1) {
    rt.dispatch({
      file: 'reduce.wgsl', entry: 'channel_sum', defines: { DIRECT: true, ACCUMULATE: accumulate },
      uniforms, bindings: [{ buf: x }, { buf: out, write: true }], workgroups: [1, channels, 1],
    });
    return;
  }
  const partial = rt.temp(chunks * channels);
  rt.dispatch({
    file: 'reduce.wgsl', entry: 'channel_sum', defines: { DIRECT: false },
    uniforms, bindings: [{ buf: x }, { buf: partial, write: true }], workgroups: [chunks, channels, 1],
  });
  sumPartials(rt, partial, out, channels, chunks, accumulate);
  rt.releaseTemp(partial);
}
