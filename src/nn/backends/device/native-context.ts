// The native surface every device backend's addon offers (native/cuda/addon/addon.cpp,
// native/metal/host/addon_surface.cc and the emulators built from them): memory, asynchronous
// readback, and one method per kernel taking device addresses as numbers (0 = none). The argument
// orders are the addons'. DeviceKernelBackend (device-backend.ts) is the one TypeScript caller.

/** Device pointers are plain numbers (0 = null). */
export type DevicePtr = number;

/** Memory, readback and kernels: the part of a native context every device backend shares. */
export interface NativeDeviceContext {
  dispose(): void;
  alloc(bytes: number): DevicePtr;
  free(ptr: DevicePtr): void;
  upload(dst: DevicePtr, data: Float32Array | Int32Array): void;
  copy(src: DevicePtr, dst: DevicePtr, bytes: number): void;
  beginDownload(src: DevicePtr, bytes: number): number;
  poll(id: number): boolean;
  finishDownload(id: number, into: Float32Array | Int32Array | null): void;
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

