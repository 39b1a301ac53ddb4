// The compiled addon and its typed surface. Two builds of the same sources exist:
// - inkling_cuda.node (build-cuda/Release/, nvcc, CMakeLists.txt): the real one. Loading it touches
//   no CUDA API (the runtime is linked statically and opens the driver on first use), so
//   `loadCudaAddon()` works on machines without a GPU; the device error comes from `deviceCount()`.
// - inkling_cuda_emu.node (build-cuda-emu/Release/, g++, scripts/cuda-emu/build.mjs): the same
//   kernel and addon sources compiled as C++ against the SIMT emulator of native/emu/, which runs
//   them on the CPU (the cuda-emu backend).

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

/** Where the addon is looked for: INKLING_CUDA_ADDON, else build-cuda/Release/inkling_cuda.node. */
export function cudaAddonPath(): string {
  return process.env.INKLING_CUDA_ADDON || join(repoRoot, 'build-cuda', 'Release', 'inkling_cuda.node');
}

/** Where the emulator build is looked for: INKLING_CUDA_EMU_ADDON, else build-cuda-emu/Release/inkling_cuda_emu.node. */
export function cudaEmuAddonPath(): string {
  return process.env.INKLING_CUDA_EMU_ADDON || join(repoRoot, 'build-cuda-emu', 'Release', 'inkling_cuda_emu.node');
}

/** Device pointers are plain numbers (0 = null). */
export type DevicePtr = number;

export interface CudaDeviceInfo {
  name: string;
  computeCapability: string;
  smCount: number;
  totalMemory: number;
  driverVersion: number;
  runtimeVersion: number;
  gemm: 'simt' | 'tf32';
}

/** One CUDA device and stream (native/cuda/addon/context.h). Argument orders mirror addon.cpp. */
export interface NativeCudaContext {
  info(): CudaDeviceInfo;
  setGemm(variant: number): void;
  dispose(): void;
  alloc(bytes: number): DevicePtr;
  free(ptr: DevicePtr): void;
  reservedBytes(): number;
  upload(dst: DevicePtr, data: Float32Array | Int32Array): void;
  copy(src: DevicePtr, dst: DevicePtr, bytes: number): void;
  beginDownload(src: DevicePtr, bytes: number): number;
  poll(id: number): boolean;
  finishDownload(id: number, into: Float32Array | Int32Array | null): void;
  beginCapture(): void;
  endCapture(): void;
  abortCapture(): void;
  replay(lr?: number): void;
  releaseGraph(): void;
  fill32(out: DevicePtr, bits: number, n: number): void;
  unary(op: number, x: DevicePtr, out: DevicePtr, n: number): void;
  binary(op: number, a: DevicePtr, b: DevicePtr, out: DevicePtr, n: number): void;
  scale(x: DevicePtr, alpha: number, beta: number, out: DevicePtr, n: number): void;
  axpy(alpha: number, x: DevicePtr, y: DevicePtr, n: number): void;
  reluBackward(x: DevicePtr, dy: DevicePtr, dx: DevicePtr, n: number, accumulate: boolean): void;
  channelSum(x: DevicePtr, out: DevicePtr, outer: number, channels: number, inner: number, accumulate: boolean): void;
  argmax(x: DevicePtr, out: DevicePtr, rows: number, cols: number): void;
  countEqual(a: DevicePtr, b: DevicePtr, out: DevicePtr, n: number, accumulate: boolean): void;
  matmul(
    a: DevicePtr, b: DevicePtr, bias: DevicePtr, out: DevicePtr, m: number, n: number, k: number,
    transA: boolean, transB: boolean, accumulate: boolean, relu: boolean,
  ): void;
  /** shape = n, cIn, h, w, cOut, kh, kw, stride, pad, hOut, wOut */
  conv2d(x: DevicePtr, w: DevicePtr, bias: DevicePtr, out: DevicePtr, ...rest: [...ConvArgs, boolean]): void;
  conv2dBackwardInput(dy: DevicePtr, w: DevicePtr, dx: DevicePtr, ...rest: [...ConvArgs, boolean]): void;
  conv2dBackwardWeight(x: DevicePtr, dy: DevicePtr, dw: DevicePtr, db: DevicePtr, ...rest: [...ConvArgs, boolean]): void;
  batchNormTrain(
    x: DevicePtr, gamma: DevicePtr, beta: DevicePtr, runningMean: DevicePtr, runningVar: DevicePtr, out: DevicePtr,
    saveMean: DevicePtr, saveInvStd: DevicePtr, ...rest: [...BnArgs, boolean]
  ): void;
  batchNormInference(
    x: DevicePtr, gamma: DevicePtr, beta: DevicePtr, runningMean: DevicePtr, runningVar: DevicePtr, out: DevicePtr,
    ...rest: [...BnArgs, boolean]
  ): void;
  batchNormBackward(
    x: DevicePtr, dy: DevicePtr, gamma: DevicePtr, saveMean: DevicePtr, saveInvStd: DevicePtr, dx: DevicePtr,
    dgamma: DevicePtr, dbeta: DevicePtr, ...rest: [...BnArgs, boolean]
  ): void;
  maxPool2d(x: DevicePtr, out: DevicePtr, argmax: DevicePtr, ...shape: PoolArgs): void;
  maxPool2dBackward(dy: DevicePtr, argmax: DevicePtr, dx: DevicePtr, ...shape: PoolArgs): void;
  avgPool2d(x: DevicePtr, out: DevicePtr, ...shape: PoolArgs): void;
  avgPool2dBackward(dy: DevicePtr, dx: DevicePtr, ...shape: PoolArgs): void;
  dropout(
    x: DevicePtr, out: DevicePtr, n: number, seed: number, step: number, keepThreshold: number, keepScale: number,
    spatial: number, backward: boolean, accumulate: boolean,
  ): void;
  softmax(x: DevicePtr, out: DevicePtr, rows: number, cols: number, log: boolean): void;
  softmaxCrossEntropy(logits: DevicePtr, labels: DevicePtr, probs: DevicePtr, loss: DevicePtr, rows: number, cols: number, smoothing: number): void;
  softmaxCrossEntropyBackward(
    probs: DevicePtr, labels: DevicePtr, dloss: DevicePtr, dlogits: DevicePtr, rows: number, cols: number, smoothing: number,
    accumulate: boolean,
  ): void;
  sgdStep(
    param: DevicePtr, grad: DevicePtr, velocity: DevicePtr, n: number, lr: number, momentum: number, dampening: number,
    weightDecay: number, nesterov: boolean,
  ): void;
  adamStep(
    param: DevicePtr, grad: DevicePtr, m: DevicePtr, v: DevicePtr, n: number, lr: number, beta1: number, beta2: number,
    eps: number, weightDecay: number, decoupled: boolean, step: number,
  ): void;
}

export type ConvArgs = [number, number, number, number, number, number, number, number, number, number, number];
export type BnArgs = [number, number, number, number, number];
export type PoolArgs = [number, number, number, number, number, number, number, number, number];

export interface CudaAddon {
  CudaContext: new (device: number, gemmVariant: number) => NativeCudaContext;
  /** cudaGetDeviceCount; `error` is its error string (e.g. no driver) or null. */
  deviceCount(): { count: number; error: string | null };
  /** What the addon was compiled with; needs no driver. */
  buildInfo(): { cudaRuntime: number; architectures: string };
}

const cached = new Map<string, CudaAddon>();

function loadAddonAt(path: string, label: string, buildFix: string): CudaAddon {
  const hit = cached.get(path);
  if (hit) return hit;
  if (!existsSync(path)) throw new Error(`${label}: the addon is not built (${path} is missing). Fix: ${buildFix}.`);
  const require = createRequire(import.meta.url);
  let addon: CudaAddon;
  try {
    addon = require(path) as CudaAddon;
  } catch (err) {
    throw new Error(
      `${label}: the addon at ${path} failed to load: ${err instanceof Error ? err.message : String(err)}. Fix: rebuild it: ${buildFix}.`,
      { cause: err },
    );
  }
  cached.set(path, addon);
  return addon;
}

/** Loads the nvcc-built addon, or throws an Error naming the fix. */
export function loadCudaAddon(): CudaAddon {
  return loadAddonAt(cudaAddonPath(), 'cuda backend', 'install the CUDA toolkit (nvcc) and cmake, then run `npm run build:cuda`');
}

/** Loads the emulator build (the same sources under native/emu's SIMT emulator), or throws naming the fix. */
export function loadCudaEmuAddon(): CudaAddon {
  return loadAddonAt(cudaEmuAddonPath(), 'cuda-emu backend', 'install g++ (12 or newer), then run `npm run build:cuda-emu`');
}
