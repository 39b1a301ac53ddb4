// The whole contract between the tensor layer and a backend (ref, cpu, webgpu, cuda, metal).
//
// Rules every backend keeps:
// - Buffers live on the backend. `upload` and every kernel only *enqueue* work; nothing here blocks
//   on the device except `download` and `flush`, which are asynchronous. A training step never
//   needs a download, so a GPU backend can run it with no host round trip.
// - Layout is float32 NCHW (weights OIHW, linear weights [out, in] like PyTorch). Index and label
//   buffers are int32.
// - Kernels never allocate buffers the caller has to know about; outputs are passed in. An output
//   never aliases an input unless a kernel says so (the optimizer steps update in place).
// - `accumulate: true` means out += result (gradient accumulation); otherwise out = result.
// - `free` may be called while kernels that read or write the buffer are still queued: the backend
//   keeps the memory alive (or reuses it only in stream order) until that work has run. The tensor
//   layer frees temporaries right after enqueuing their last use.
// - Semantics match PyTorch's (noted per kernel), so that weights and results carry over.
// - Buffers are checked on every use: a double free, a use after free, a buffer of another backend
//   or of the wrong dtype throws. An i32 fill takes an integer in the int32 range.
// - Indices from the caller (maxPool2dBackward's argmax, the cross-entropy labels) are never
//   trusted. One out of range (argmax outside its plane, label outside [0, cols)) is a caller bug:
//   ref and cpu, which run the kernel inside the call, throw naming the kernel and the index; a
//   device backend (webgpu, cuda, metal), whose kernels run after the call returned, never reads or
//   writes through it: the argmax entry adds nothing to dx, the row's loss is NaN (so loss[0] is NaN
//   at the next readback) and its target has no one-hot part. No backend touches memory outside
//   the buffers (test/conformance/lifecycle-and-guards.ts). countEqual compares values and indexes
//   nothing.
// The math below is the specification; `ref` is its literal transcription and the oracle.

export type DType = 'f32' | 'i32';

/** An opaque handle to `length` elements of device memory. Only its backend can use it. */
export interface DeviceBuffer<D extends DType = DType> {
  readonly length: number;
  readonly dtype: D;
}

export type HostArray<D extends DType> = D extends 'i32' ? Int32Array : Float32Array;

export type Activation = 'none' | 'relu';

/** C[m,n] = op(A)[m,k] · op(B)[k,n] (+ bias[n]) (then activation), op = transpose when asked.
 *  A is stored [m,k] (or [k,m] when transA); B is stored [k,n] (or [n,k] when transB). */
export interface MatmulParams {
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  accumulate?: boolean;
  activation?: Activation;
}

/** Cross-correlation like torch.nn.functional.conv2d, groups = 1, dilation = 1, square stride and
 *  zero padding. hOut = floor((h + 2·pad − kh) / stride) + 1, likewise wOut. */
export interface Conv2dParams {
  n: number;
  cIn: number;
  h: number;
  w: number;
  cOut: number;
  kh: number;
  kw: number;
  stride: number;
  pad: number;
}

/** Pooling windows kh×kw with a stride, no padding, floor mode (PyTorch's default).
 *  Global average pooling is kh = h, kw = w, stride = 1. */
export interface Pool2dParams {
  n: number;
  c: number;
  h: number;
  w: number;
  kh: number;
  kw: number;
  stride: number;
}

/** A convolution (with its activation) followed by a max pool over its output, for inference:
 *  the pool window is poolKh×poolKw with poolStride, no padding, floor mode, over the
 *  convolution's [n, cOut, hOut, wOut] output. */
export interface Conv2dMaxPoolParams extends Conv2dParams {
  activation?: Activation;
  poolKh: number;
  poolKw: number;
  poolStride: number;
}

/** x viewed as [n, c, spatial] (spatial = H·W for batchnorm2d, 1 for batchnorm1d). */
export interface BatchNormParams {
  n: number;
  c: number;
  spatial: number;
  eps: number;
  /** running = (1 − momentum)·running + momentum·batch; running_var takes the unbiased variance. */
  momentum: number;
  activation?: Activation;
}

/** The fused batch norm (training) + activation + max pool over x [n, c, h, w]: batchNormTrain's
 *  eps, momentum and activation with spatial = h·w, then maxPool2d's window (kh, kw, stride). */
export interface BatchNormMaxPoolParams extends Pool2dParams {
  eps: number;
  momentum: number;
  activation?: Activation;
}

/** A convolution, batch norm (training) with its activation, then a max pool: conv2d's params
 *  (x [n, cIn, h, w] → y [n, cOut, hOut, wOut]), batchNormTrain's eps, momentum and activation
 *  over y, and the pool window poolKh×poolKw with poolStride (no padding, floor mode) over y. */
export interface ConvBatchNormMaxPoolParams extends Conv2dParams {
  eps: number;
  momentum: number;
  activation?: Activation;
  poolKh: number;
  poolKw: number;
  poolStride: number;
}

/** Elements are dropped by the counter-based hash in `dropout-rng.ts`, so every backend draws the
 *  same mask for the same (seed, step). Per-element (dropout): the hash counter is the element
 *  index. Per-channel (dropout2d): x is [channels, spatial] and the counter is the channel index
 *  n·C + c. Kept values are scaled by 1 / (1 − p). */
export interface DropoutParams {
  p: number;
  seed: number;
  step: number;
  /** 1 for dropout; H·W for dropout2d. */
  spatial: number;
}

/** Mean over rows of −Σ_j t_j·log softmax(x)_j with t = (1 − s)·onehot(label) + s / cols. */
export interface CrossEntropyParams {
  rows: number;
  cols: number;
  labelSmoothing: number;
}

/** torch.optim.SGD: g = grad + wd·p; v = μ·v + (1 − dampening)·g; g = nesterov ? g + μ·v : v;
 *  p −= lr·g. With μ = 0, v is untouched and g is used directly. */
export interface SgdParams {
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
}

/** torch.optim.Adam / AdamW. Adam: g = grad + wd·p. AdamW (decoupled): p −= lr·wd·p first.
 *  m = β1·m + (1 − β1)·g; v = β2·v + (1 − β2)·g²; p −= lr · (m / (1 − β1^t)) / (sqrt(v / (1 − β2^t)) + eps).
 *  `step` is t, counted from 1. */
export interface AdamParams {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  decoupled: boolean;
  step: number;
}

export type UnaryOp = 'neg' | 'exp' | 'log' | 'sqrt' | 'abs' | 'relu';
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'max';

/** [outer, channels, inner]: channels are reduced or broadcast over outer and inner. */
export interface ChannelLayout {
  outer: number;
  channels: number;
  inner: number;
}

export interface BackendStats {
  buffers: number;
  bytes: number;
}

export interface Backend {
  readonly name: string;
  /** A human-readable description of where this runs (CPU model and threads, GPU adapter). */
  readonly device: string;

  // ---- memory ----
  alloc<D extends DType = 'f32'>(length: number, dtype?: D): DeviceBuffer<D>;
  /** Enqueues a copy of `data` into buf at element `offset`; `data` may be reused on return. */
  upload<D extends DType>(buf: DeviceBuffer<D>, data: HostArray<D>, offset?: number): void;
  /** Resolves with a copy of `length` elements from `offset` once all work before it is done. */
  download<D extends DType>(buf: DeviceBuffer<D>, offset?: number, length?: number): Promise<HostArray<D>>;
  free(buf: DeviceBuffer): void;
  /** Resolves when all enqueued work has finished (benchmarks and shutdown, never a training step). */
  flush(): Promise<void>;
  stats(): BackendStats;
  /** Frees everything; the backend is unusable afterwards. */
  dispose(): void;

  // ---- elementwise, copies, reductions (lengths from the buffers unless given) ----
  fill(out: DeviceBuffer, value: number): void;
  copy(src: DeviceBuffer, dst: DeviceBuffer, length: number, srcOffset?: number, dstOffset?: number): void;
  unary(op: UnaryOp, x: DeviceBuffer<'f32'>, out: DeviceBuffer<'f32'>): void;
  /** out = a op b, elementwise; a and b have out's length. */
  binary(op: BinaryOp, a: DeviceBuffer<'f32'>, b: DeviceBuffer<'f32'>, out: DeviceBuffer<'f32'>): void;
  /** out = alpha·x + beta (out may alias x). */
  scale(x: DeviceBuffer<'f32'>, alpha: number, beta: number, out: DeviceBuffer<'f32'>): void;
  /** y += alpha·x. */
  axpy(alpha: number, x: DeviceBuffer<'f32'>, y: DeviceBuffer<'f32'>): void;
  /** dx = x > 0 ? dy : 0 (x may be the ReLU's input or its output: same mask). */
  reluBackward(x: DeviceBuffer<'f32'>, dy: DeviceBuffer<'f32'>, dx: DeviceBuffer<'f32'>, accumulate?: boolean): void;
  /** out[c] (+)= Σ over outer and inner of x[o, c, i]. Bias gradients; a full sum is channels = 1. */
  channelSum(x: DeviceBuffer<'f32'>, out: DeviceBuffer<'f32'>, layout: ChannelLayout, accumulate?: boolean): void;
  /** out[r] = index of the largest x[r, ·] (first one on ties). */
  argmax(x: DeviceBuffer<'f32'>, out: DeviceBuffer<'i32'>, rows: number, cols: number): void;
  /** out[0] (+)= number of i with a[i] == b[i], as a float (accuracy without a readback). */
  countEqual(a: DeviceBuffer<'i32'>, b: DeviceBuffer<'i32'>, out: DeviceBuffer<'f32'>, accumulate?: boolean): void;

  // ---- dense layers ----
  matmul(a: DeviceBuffer<'f32'>, b: DeviceBuffer<'f32'>, bias: DeviceBuffer<'f32'> | null, out: DeviceBuffer<'f32'>, p: MatmulParams): void;

  conv2d(x: DeviceBuffer<'f32'>, w: DeviceBuffer<'f32'>, bias: DeviceBuffer<'f32'> | null, out: DeviceBuffer<'f32'>, p: Conv2dParams & { activation?: Activation }): void;
  /** dx (+)= ∂out/∂x applied to dy (a transposed convolution). */
  conv2dBackwardInput(dy: DeviceBuffer<'f32'>, w: DeviceBuffer<'f32'>, dx: DeviceBuffer<'f32'>, p: Conv2dParams, accumulate?: boolean): void;
  /** dw (+)= Σ_n dy ⋆ x; db (+)= Σ_{n,h,w} dy when db is given. */
  conv2dBackwardWeight(x: DeviceBuffer<'f32'>, dy: DeviceBuffer<'f32'>, dw: DeviceBuffer<'f32'>, db: DeviceBuffer<'f32'> | null, p: Conv2dParams, accumulate?: boolean): void;

  // ---- normalisation ----
  /** Training mode: normalise with the batch mean and biased variance, update the running
   *  statistics, and save mean and 1/sqrt(var + eps) (per channel) for the backward pass. */
  batchNormTrain(
    x: DeviceBuffer<'f32'>, gamma: DeviceBuffer<'f32'>, beta: DeviceBuffer<'f32'>,
    runningMean: DeviceBuffer<'f32'>, runningVar: DeviceBuffer<'f32'>,
    out: DeviceBuffer<'f32'>, saveMean: DeviceBuffer<'f32'>, saveInvStd: DeviceBuffer<'f32'>, p: BatchNormParams,
  ): void;
  /** Inference mode: normalise with the running statistics. */
  batchNormInference(
    x: DeviceBuffer<'f32'>, gamma: DeviceBuffer<'f32'>, beta: DeviceBuffer<'f32'>,
    runningMean: DeviceBuffer<'f32'>, runningVar: DeviceBuffer<'f32'>, out: DeviceBuffer<'f32'>, p: BatchNormParams,
  ): void;
  /** Backward of batchNormTrain (activation 'none'): dx = γ·invStd/N'·(N'·dy − Σdy − x̂·Σ(dy·x̂)),
   *  N' = n·spatial; dγ (+)= Σ dy·x̂; dβ (+)= Σ dy. dx is always overwritten. */
  batchNormBackward(
    x: DeviceBuffer<'f32'>, dy: DeviceBuffer<'f32'>, gamma: DeviceBuffer<'f32'>,
    saveMean: DeviceBuffer<'f32'>, saveInvStd: DeviceBuffer<'f32'>,
    dx: DeviceBuffer<'f32'>, dgamma: DeviceBuffer<'f32'>, dbeta: DeviceBuffer<'f32'>, p: BatchNormParams, accumulate?: boolean,
  ): void;

  // ---- fused layers: batch norm (training) → activation → max pool ----
  /** batchNormTrain(x, …, y, saveMean, saveInvStd) with the activation, then maxPool2d(y, out, argmax),
   *  without materialising y: out, argmax, the running statistics, saveMean and saveInvStd are
   *  exactly those two kernels' (y is [n, c, h, w], out and argmax [n, c, hOut, wOut]). Cuts the
   *  memory traffic of the training forward where the pre-pool tensor is large (conv1's). */
  batchNormMaxPoolTrain(
    x: DeviceBuffer<'f32'>, gamma: DeviceBuffer<'f32'>, beta: DeviceBuffer<'f32'>,
    runningMean: DeviceBuffer<'f32'>, runningVar: DeviceBuffer<'f32'>,
    out: DeviceBuffer<'f32'>, argmax: DeviceBuffer<'i32'>, saveMean: DeviceBuffer<'f32'>, saveInvStd: DeviceBuffer<'f32'>,
    p: BatchNormMaxPoolParams,
  ): void;
  /** Its backward, given the forward's x, out and argmax: the gradient reaching y is
   *  maxPool2dBackward(dy', argmax) with dy' = dy, or with activation 'relu' dy' = dy where out > 0
   *  (y at a window's argmax is that window's out, so this is reluBackward on y); then
   *  batchNormBackward(x, that, …). dx is overwritten; dγ and dβ (+)= as batchNormBackward. */
  batchNormMaxPoolBackward(
    x: DeviceBuffer<'f32'>, out: DeviceBuffer<'f32'>, argmax: DeviceBuffer<'i32'>, dy: DeviceBuffer<'f32'>,
    gamma: DeviceBuffer<'f32'>, saveMean: DeviceBuffer<'f32'>, saveInvStd: DeviceBuffer<'f32'>,
    dx: DeviceBuffer<'f32'>, dgamma: DeviceBuffer<'f32'>, dbeta: DeviceBuffer<'f32'>, p: BatchNormMaxPoolParams, accumulate?: boolean,
  ): void;

  // ---- fused layer for training: convolution → batch norm → activation → max pool ----
  /** Whether convBatchNormMaxPoolTrain / Backward run as one kernel for these params. Absent or
   *  false: they compose the unfused kernels, and the backward recomputes the convolution, so a
   *  caller free to choose (Sequential) runs the unfused layers instead. */
  fusesConvBatchNormMaxPool?(p: ConvBatchNormMaxPoolParams): boolean;
  /** conv2d(x, w, bias, y, conv) then batchNormMaxPoolTrain(y, …, out, argmax, …, bnPool) (see
   *  splitConvBatchNormMaxPool), for a layer whose input needs no gradient (a network's first):
   *  out, argmax, the running statistics, saveMean and saveInvStd are exactly those two kernels'.
   *  y need never exist: where the convolution is cheap to recompute (one input channel), a backend
   *  can take y's statistics from the input's and never write y, the largest tensor of a training
   *  step at the seed CNN's shapes (12.8 MB at batch 128, written once and read three times). */
  convBatchNormMaxPoolTrain(
    x: DeviceBuffer<'f32'>, w: DeviceBuffer<'f32'>, bias: DeviceBuffer<'f32'> | null,
    gamma: DeviceBuffer<'f32'>, beta: DeviceBuffer<'f32'>, runningMean: DeviceBuffer<'f32'>, runningVar: DeviceBuffer<'f32'>,
    out: DeviceBuffer<'f32'>, argmax: DeviceBuffer<'i32'>, saveMean: DeviceBuffer<'f32'>, saveInvStd: DeviceBuffer<'f32'>,
    p: ConvBatchNormMaxPoolParams,
  ): void;
  /** Its backward, given the forward's x, w, bias, out and argmax (and γ, β: a backend may recover
   *  the normalised value at each argmax from out instead of recomputing y): with y = conv2d(x, w, bias) and
   *  dy' = batchNormMaxPoolBackward(y, out, argmax, dy, gamma, saveMean, saveInvStd, …)'s dx,
   *  dw (+)= conv2dBackwardWeight(x, dy')'s dw, and dγ, dβ (+)= as batchNormMaxPoolBackward. No dx
   *  (the input needs no gradient) and no bias gradient: the batch mean subtracts any bias, so it is
   *  exactly zero (Σ dy' = 0 in exact arithmetic; computed in floats it is rounding noise). */
  convBatchNormMaxPoolBackward(
    x: DeviceBuffer<'f32'>, w: DeviceBuffer<'f32'>, bias: DeviceBuffer<'f32'> | null,
    out: DeviceBuffer<'f32'>, argmax: DeviceBuffer<'i32'>, dy: DeviceBuffer<'f32'>,
    gamma: DeviceBuffer<'f32'>, beta: DeviceBuffer<'f32'>, saveMean: DeviceBuffer<'f32'>, saveInvStd: DeviceBuffer<'f32'>,
    dw: DeviceBuffer<'f32'>, dgamma: DeviceBuffer<'f32'>, dbeta: DeviceBuffer<'f32'>, p: ConvBatchNormMaxPoolParams, accumulate?: boolean,
  ): void;

  // ---- fused layer for inference: convolution → activation → max pool ----
  /** conv2d(x, w, bias, y, p) with p's activation, then maxPool2d(y, out, ·) with p's pool window,
   *  without storing y or the argmax: out [n, cOut, hPool, wPool] is exactly maxPool2d's out. For
   *  inference, where nothing is differentiated: at batch 256 conv1's y is 26 MB written and read
   *  back once, the argmax another 6 MB. */
  conv2dMaxPool(x: DeviceBuffer<'f32'>, w: DeviceBuffer<'f32'>, bias: DeviceBuffer<'f32'> | null, out: DeviceBuffer<'f32'>, p: Conv2dMaxPoolParams): void;

  // ---- pooling ----
  /** out = window max; argmax = index of the max within its (n, c) plane, ih·w + iw (first on ties). */
  maxPool2d(x: DeviceBuffer<'f32'>, out: DeviceBuffer<'f32'>, argmax: DeviceBuffer<'i32'>, p: Pool2dParams): void;
  /** dx = 0, then dx[plane][argmax] += dy for every output (overlapping windows add up). */
  maxPool2dBackward(dy: DeviceBuffer<'f32'>, argmax: DeviceBuffer<'i32'>, dx: DeviceBuffer<'f32'>, p: Pool2dParams): void;
  avgPool2d(x: DeviceBuffer<'f32'>, out: DeviceBuffer<'f32'>, p: Pool2dParams): void;
  /** dx = 0, then each window's inputs get dy / (kh·kw). */
  avgPool2dBackward(dy: DeviceBuffer<'f32'>, dx: DeviceBuffer<'f32'>, p: Pool2dParams): void;

  // ---- regularisation ----
  dropout(x: DeviceBuffer<'f32'>, out: DeviceBuffer<'f32'>, p: DropoutParams): void;
  /** dx = dy · mask / (1 − p), the mask redrawn from the same (seed, step): nothing is stored. */
  dropoutBackward(dy: DeviceBuffer<'f32'>, dx: DeviceBuffer<'f32'>, p: DropoutParams, accumulate?: boolean): void;

  // ---- softmax and loss (rows × cols, softmax along cols) ----
  softmax(x: DeviceBuffer<'f32'>, out: DeviceBuffer<'f32'>, rows: number, cols: number): void;
  logSoftmax(x: DeviceBuffer<'f32'>, out: DeviceBuffer<'f32'>, rows: number, cols: number): void;
  /** Fused: probs = softmax(logits); loss[0] = mean cross-entropy (see CrossEntropyParams). */
  softmaxCrossEntropy(
    logits: DeviceBuffer<'f32'>, labels: DeviceBuffer<'i32'>, probs: DeviceBuffer<'f32'>, loss: DeviceBuffer<'f32'>, p: CrossEntropyParams,
  ): void;
  /** dlogits (+)= dloss[0] · (probs − t) / rows. */
  softmaxCrossEntropyBackward(
    probs: DeviceBuffer<'f32'>, labels: DeviceBuffer<'i32'>, dloss: DeviceBuffer<'f32'>, dlogits: DeviceBuffer<'f32'>, p: CrossEntropyParams,
    accumulate?: boolean,
  ): void;

  // ---- optimizer updates, in place on param and state ----
  sgdStep(param: DeviceBuffer<'f32'>, grad: DeviceBuffer<'f32'>, velocity: DeviceBuffer<'f32'> | null, p: SgdParams): void;
  adamStep(param: DeviceBuffer<'f32'>, grad: DeviceBuffer<'f32'>, m: DeviceBuffer<'f32'>, v: DeviceBuffer<'f32'>, p: AdamParams): void;
}

export function convOutputSize(p: Conv2dParams): { hOut: number; wOut: number } {
  return {
    hOut: Math.floor((p.h + 2 * p.pad - p.kh) / p.stride) + 1,
    wOut: Math.floor((p.w + 2 * p.pad - p.kw) / p.stride) + 1,
  };
}

/** The two halves of BatchNormMaxPoolParams as the unfused kernels take them. */
export function splitBatchNormMaxPool(p: BatchNormMaxPoolParams): { bn: BatchNormParams; pool: Pool2dParams } {
  return {
    bn: { n: p.n, c: p.c, spatial: p.h * p.w, eps: p.eps, momentum: p.momentum, activation: p.activation ?? 'none' },
    pool: { n: p.n, c: p.c, h: p.h, w: p.w, kh: p.kh, kw: p.kw, stride: p.stride },
  };
}

export function splitConv2dMaxPool(p: Conv2dMaxPoolParams): { conv: Conv2dParams & { activation: Activation }; pool: Pool2dParams } {
  const { hOut, wOut } = convOutputSize(p);
  return {
    conv: { n: p.n, cIn: p.cIn, h: p.h, w: p.w, cOut: p.cOut, kh: p.kh, kw: p.kw, stride: p.stride, pad: p.pad, activation: p.activation ?? 'none' },
    pool: { n: p.n, c: p.cOut, h: hOut, w: wOut, kh: p.poolKh, kw: p.poolKw, stride: p.poolStride },
  };
}

/** The convolution and the fused batch norm + max pool over its output that make up a
 *  convBatchNormMaxPoolTrain / convBatchNormMaxPoolBackward. */
export function splitConvBatchNormMaxPool(p: ConvBatchNormMaxPoolParams): { conv: Conv2dParams; bnPool: BatchNormMaxPoolParams } {
  const { hOut, wOut } = convOutputSize(p);
  return {
    conv: { n: p.n, cIn: p.cIn, h: p.h, w: p.w, cOut: p.cOut, kh: p.kh, kw: p.kw, stride: p.stride, pad: p.pad },
    bnPool: {
      n: p.n, c: p.cOut, h: hOut, w: wOut, kh: p.poolKh, kw: p.poolKw, stride: p.poolStride,
      eps: p.eps, momentum: p.momentum, activation: p.activation ?? 'none',
    },
  };
}

export function poolOutputSize(p: Pool2dParams): { hOut: number; wOut: number } {
  return {
    hOut: Math.floor((p.h - p.kh) / p.stride) + 1,
    wOut: Math.floor((p.w - p.kw) / p.stride) + 1,
  };
}
