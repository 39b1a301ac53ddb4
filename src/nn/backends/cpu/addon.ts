// Loading the native addon (native/cpu, built to build/Release/inkling_cpu.node) and its typed
// surface. Every kernel takes the context first, then typed arrays (passed without copies) and
// plain numbers (cheaper across the boundary than a params object).

import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';

type F = Float32Array;
type I = Int32Array;
/** An opaque napi External holding the native context (thread pool, scratch, ISA table). */
export type NativeContext = { readonly __nativeContext: unique symbol };

export interface CpuAddon {
  createContext(threads: number, isa: string): NativeContext;
  contextInfo(ctx: NativeContext): { isa: string; threads: number; avx2Available: boolean; avx512Available: boolean; neonAvailable: boolean };
  /** What CPUID and XGETBV say here, or (given the registers) the decision for those values. */
  cpuFeatures(leaf1Ecx?: number, leaf7Ebx?: number, xcr0?: number): CpuFeatures;
  /** Why each vector table of this build cannot run here ('' = it can). */
  isaAvailability(): { avx512: string; avx2: string; avx512Emulated: boolean };
  /** glibc's malloc: a fixed mmap threshold and an arena cap (src/server/malloc-tuning.ts); false
   *  where the C library is not glibc. Absent from builds before it existed. */
  limitMallocRetention?(mmapThresholdBytes: number, arenaMax: number): boolean;
  /** Joins the context's threads and frees its scratch; later kernel calls on it throw. */
  destroyContext(ctx: NativeContext): void;
  unary(ctx: NativeContext, op: number, x: F, out: F, n: number): void;
  binary(ctx: NativeContext, op: number, a: F, b: F, out: F, n: number): void;
  scale(ctx: NativeContext, x: F, alpha: number, beta: number, out: F, n: number): void;
  axpy(ctx: NativeContext, alpha: number, x: F, y: F, n: number): void;
  reluBackward(ctx: NativeContext, x: F, dy: F, dx: F, n: number, acc: boolean): void;
  channelSum(ctx: NativeContext, x: F, out: F, outer: number, channels: number, inner: number, acc: boolean): void;
  argmax(ctx: NativeContext, x: F, out: I, rows: number, cols: number): void;
  countEqual(ctx: NativeContext, a: I, b: I, out: F, n: number, acc: boolean): void;
  matmul(ctx: NativeContext, a: F, b: F, bias: F | null, out: F, m: number, n: number, k: number,
    transA: boolean, transB: boolean, acc: boolean, relu: boolean): void;
  /** weightStamp: the weights' CpuBuffer.stamp (0: unknown), under which derived filters are cached. */
  conv2d(ctx: NativeContext, x: F, w: F, bias: F | null, out: F, n: number, cIn: number, h: number, w_: number,
    cOut: number, kh: number, kw: number, stride: number, pad: number, relu: boolean, weightStamp: number): void;
  conv2dMaxPool(ctx: NativeContext, x: F, w: F, bias: F | null, out: F, n: number, cIn: number, h: number, w_: number,
    cOut: number, kh: number, kw: number, stride: number, pad: number, relu: boolean, poolKh: number, poolKw: number,
    poolStride: number, weightStamp: number): void;
  conv2dBackwardInput(ctx: NativeContext, dy: F, w: F, dx: F, n: number, cIn: number, h: number, w_: number,
    cOut: number, kh: number, kw: number, stride: number, pad: number, acc: boolean): void;
  conv2dBackwardWeight(ctx: NativeContext, x: F, dy: F, dw: F, db: F | null, n: number, cIn: number, h: number,
    w_: number, cOut: number, kh: number, kw: number, stride: number, pad: number, acc: boolean): void;
  batchNormTrain(ctx: NativeContext, x: F, gamma: F, beta: F, runningMean: F, runningVar: F, out: F, saveMean: F,
    saveInvStd: F, n: number, c: number, spatial: number, eps: number, momentum: number, relu: boolean): void;
  batchNormInference(ctx: NativeContext, x: F, gamma: F, beta: F, runningMean: F, runningVar: F, out: F, n: number,
    c: number, spatial: number, eps: number, relu: boolean): void;
  batchNormBackward(ctx: NativeContext, x: F, dy: F, gamma: F, saveMean: F, saveInvStd: F, dx: F, dgamma: F, dbeta: F,
    n: number, c: number, spatial: number, acc: boolean): void;
  batchNormMaxPoolTrain(ctx: NativeContext, x: F, gamma: F, beta: F, runningMean: F, runningVar: F, out: F, argmax: I,
    saveMean: F, saveInvStd: F, n: number, c: number, h: number, w: number, kh: number, kw: number, stride: number,
    eps: number, momentum: number, relu: boolean): void;
  batchNormMaxPoolBackward(ctx: NativeContext, x: F, out: F, argmax: I, dy: F, gamma: F, saveMean: F, saveInvStd: F,
    dx: F, dgamma: F, dbeta: F, n: number, c: number, h: number, w: number, kh: number, kw: number, stride: number,
    relu: boolean, acc: boolean): void;
  convBatchNormMaxPoolApplies(ctx: NativeContext, n: number, cIn: number, h: number, w_: number, cOut: number, kh: number,
    kw: number, stride: number, pad: number): boolean;
  /** false: no fused kernel for this shape in this table (the backend composes the unfused ones). */
  convBatchNormMaxPoolTrain(ctx: NativeContext, x: F, w: F, bias: F | null, gamma: F, beta: F, runningMean: F,
    runningVar: F, out: F, argmax: I, saveMean: F, saveInvStd: F, n: number, cIn: number, h: number, w_: number,
    cOut: number, kh: number, kw: number, stride: number, pad: number, poolKh: number, poolKw: number,
    poolStride: number, eps: number, momentum: number, relu: boolean, xStamp: number): boolean;
  convBatchNormMaxPoolBackward(ctx: NativeContext, x: F, w: F, bias: F | null, out: F, argmax: I, dy: F, gamma: F,
    beta: F, saveMean: F, saveInvStd: F, dw: F, dgamma: F, dbeta: F, n: number, cIn: number, h: number, w_: number,
    cOut: number, kh: number, kw: number, stride: number, pad: number, poolKh: number, poolKw: number,
    poolStride: number, relu: boolean, acc: boolean, xStamp: number): boolean;
  maxPool2d(ctx: NativeContext, x: F, out: F, argmax: I, n: number, c: number, h: number, w: number, kh: number,
    kw: number, stride: number): void;
  maxPool2dBackward(ctx: NativeContext, dy: F, argmax: I, dx: F, n: number, c: number, h: number, w: number,
    kh: number, kw: number, stride: number): void;
  avgPool2d(ctx: NativeContext, x: F, out: F, n: number, c: number, h: number, w: number, kh: number, kw: number,
    stride: number): void;
  avgPool2dBackward(ctx: NativeContext, dy: F, dx: F, n: number, c: number, h: number, w: number, kh: number,
    kw: number, stride: number): void;
  dropout(ctx: NativeContext, x: F, out: F, n: number, p: number, seed: number, step: number, spatial: number,
    acc: boolean): void;
  softmax(ctx: NativeContext, x: F, out: F, rows: number, cols: number, log: boolean): void;
  softmaxCrossEntropy(ctx: NativeContext, logits: F, labels: I, probs: F, loss: F, rows: number, cols: number,
    labelSmoothing: number): void;
  softmaxCrossEntropyBackward(ctx: NativeContext, probs: F, labels: I, dloss: F, dlogits: F, rows: number,
    cols: number, labelSmoothing: number, acc: boolean): void;
  sgdStep(ctx: NativeContext, param: F, grad: F, velocity: F | null, n: number, lr: number, momentum: number,
    dampening: number, nesterov: boolean, weightDecay: number): void;
  adamStep(ctx: NativeContext, param: F, grad: F, m: F, v: F, n: number, lr: number, beta1: number, beta2: number,
    eps: number, weightDecay: number, decoupled: boolean, step: number): void;
  /** Best GFLOP/s of independent FMA chains on `threads` threads over about `seconds`. */
  peakFmaGflops(ctx: NativeContext, threads: number, seconds: number): number;
  /** Best GB/s of a streaming triad (12 bytes per element) on `threads` threads. */
  triadGBps(ctx: NativeContext, threads: number, seconds: number): number;
}

export interface CpuFeatures {
  fma: boolean;
  osxsave: boolean;
  avx2: boolean;
  avx512f: boolean;
  avx512bw: boolean;
  avx512dq: boolean;
  avx512vl: boolean;
  /** The OS saves ymm (XCR0 bits 1-2) / opmask and zmm (bits 5-7) state. */
  osYmm: boolean;
  osZmm: boolean;
  xcr0: number;
  /** Why the AVX2 / AVX-512 path cannot run with these features ('' = it can). */
  avx2Missing: string;
  avx512Missing: string;
}

export const defaultAddonPath = fileURLToPath(new URL('../../../../build/Release/inkling_cpu.node', import.meta.url));

const BUILD_HINT = 'build it with `npm run build:cpu` (needs g++ with C++17, make and python3), or use the ref backend';

const cached = new Map<string, CpuAddon>();

/** Loads the addon (INKLING_CPU_ADDON overrides the path); throws a message naming the fix. */
export function loadCpuAddon(path = process.env.INKLING_CPU_ADDON || defaultAddonPath): CpuAddon {
  const hit = cached.get(path);
  if (hit) return hit;
  if (!existsSync(path)) {
    throw new Error(`cpu backend: the native addon is missing (${path} not found); ${BUILD_HINT}`);
  }
  let addon: CpuAddon;
  try {
    addon = createRequire(import.meta.url)(path) as CpuAddon;
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(`cpu backend: the native addon at ${path} failed to load (${why}); rebuild: ${BUILD_HINT}`, { cause: err });
  }
  if (typeof addon.createContext !== 'function' || typeof addon.destroyContext !== 'function' || typeof addon.batchNormMaxPoolTrain !== 'function' ||
    typeof addon.convBatchNormMaxPoolTrain !== 'function') {
    throw new Error(`cpu backend: ${path} is not the inkling cpu addon (or an outdated build); ${BUILD_HINT}`);
  }
  cached.set(path, addon);
  return addon;
}
