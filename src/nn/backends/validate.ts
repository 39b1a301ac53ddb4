// Parameter and buffer-length checks shared by every backend, so that bad input gives the same
// clear error on ref, cpu, webgpu and cuda. Each check names the kernel, the offending buffer or
// parameter, the value it needs, and the params it was derived from.
//
// Buffer rule: a buffer must hold AT LEAST the elements the params describe (a caching allocator or
// a workspace sized for a larger batch may hand in a longer one; only the leading elements are
// used). Elementwise kernels, whose lengths come from the buffers, need equal lengths.

import {
  convOutputSize,
  type Activation,
  poolOutputSize,
  splitBatchNormMaxPool,
  splitConv2dMaxPool,
  splitConvBatchNormMaxPool,
  type AdamParams,
  type BatchNormMaxPoolParams,
  type BatchNormParams,
  type ChannelLayout,
  type Conv2dMaxPoolParams,
  type Conv2dParams,
  type ConvBatchNormMaxPoolParams,
  type CrossEntropyParams,
  type DeviceBuffer,
  type DType,
  type DropoutParams,
  type MatmulParams,
  type Pool2dParams,
  type SgdParams,
} from '../backend.ts';

export interface Sized {
  readonly length: number;
}

function describe(p: object): string {
  return JSON.stringify(p);
}

export function requirePositiveInt(kernel: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${kernel}: ${name} must be a positive integer, got ${v}`);
}

export function requireNonNegativeInt(kernel: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0) throw new Error(`${kernel}: ${name} must be a non-negative integer, got ${v}`);
}

export function requireFinite(kernel: string, name: string, v: number): void {
  if (!Number.isFinite(v)) throw new Error(`${kernel}: ${name} must be a finite number, got ${v}`);
}

/** Throws when `buf` is shorter than the `needed` elements that `what` describes. */
export function requireLength(kernel: string, name: string, buf: Sized, needed: number, what: string): void {
  if (buf.length < needed) {
    throw new Error(
      `${kernel}: buffer ${name} has ${buf.length} elements but ${what} needs ${needed}; ` +
        `allocate at least ${needed} elements or fix the params`,
    );
  }
}

/** Elementwise kernels take their length from the output; the inputs must match it. */
export function requireSameLength(kernel: string, name: string, buf: Sized, outName: string, out: Sized): void {
  if (buf.length !== out.length) {
    throw new Error(`${kernel}: ${name} has ${buf.length} elements but ${outName} has ${out.length}; they must be equal`);
  }
}

export function requireRange(kernel: string, what: string, offset: number, length: number, buf: Sized): void {
  requireNonNegativeInt(kernel, `${what} offset`, offset);
  requireNonNegativeInt(kernel, `${what} length`, length);
  if (offset + length > buf.length) {
    throw new Error(`${kernel}: ${what} range [${offset}, ${offset + length}) exceeds the buffer's ${buf.length} elements`);
  }
}

/** upload's checks: the host array's type matches the buffer's dtype and fits at offset. */
export function checkUpload(buf: DeviceBuffer, data: Float32Array | Int32Array, offset: number): void {
  const wantI32 = buf.dtype === 'i32';
  if (wantI32 ? !(data instanceof Int32Array) : !(data instanceof Float32Array)) {
    throw new Error(`upload: a ${buf.dtype} buffer takes ${wantI32 ? 'an Int32Array' : 'a Float32Array'}, got ${data?.constructor?.name}`);
  }
  requireRange('upload', 'destination', offset, data.length, buf);
}

/** download's checks; returns how many elements to copy (by default the rest of the buffer). */
export function downloadLength(buf: Sized, offset: number, length?: number): number {
  requireNonNegativeInt('download', 'offset', offset);
  const n = length ?? buf.length - offset;
  requireRange('download', 'source', offset, n, buf);
  return n;
}

/** Element counts of a matmul's operands. */
export function matmulSizes(p: MatmulParams): { a: number; b: number; bias: number; out: number } {
  for (const key of ['m', 'n', 'k'] as const) requirePositiveInt('matmul', key, p[key]);
  return { a: p.m * p.k, b: p.k * p.n, bias: p.n, out: p.m * p.n };
}

/** Element counts of a convolution's operands; throws when the output would be empty. */
export function conv2dSizes(kernel: string, p: Conv2dParams): {
  x: number; w: number; bias: number; out: number; hOut: number; wOut: number;
} {
  for (const key of ['n', 'cIn', 'h', 'w', 'cOut', 'kh', 'kw', 'stride'] as const) requirePositiveInt(kernel, key, p[key]);
  requireNonNegativeInt(kernel, 'pad', p.pad);
  const { hOut, wOut } = convOutputSize(p);
  if (hOut < 1 || wOut < 1) {
    throw new Error(`${kernel}: the ${p.kh}x${p.kw} kernel does not fit the padded ${p.h}x${p.w} input (${describe(p)})`);
  }
  return {
    x: p.n * p.cIn * p.h * p.w,
    w: p.cOut * p.cIn * p.kh * p.kw,
    bias: p.cOut,
    out: p.n * p.cOut * hOut * wOut,
    hOut,
    wOut,
  };
}

/** The fused convolution + max pool: both halves' checks; sizes of x, w, bias, the convolution's
 *  output y (never stored by a fused kernel) and the pooled out. */
export function conv2dMaxPoolSizes(kernel: string, p: Conv2dMaxPoolParams): { x: number; w: number; bias: number; y: number; out: number } {
  const conv = conv2dSizes(kernel, p);
  isRelu(kernel, p.activation);
  for (const key of ['poolKh', 'poolKw', 'poolStride'] as const) requirePositiveInt(kernel, key, p[key]);
  const pool = pool2dSizes(kernel, splitConv2dMaxPool(p).pool);
  return { x: conv.x, w: conv.w, bias: conv.bias, y: conv.out, out: pool.out };
}

export function pool2dSizes(kernel: string, p: Pool2dParams): { x: number; out: number; hOut: number; wOut: number } {
  for (const key of ['n', 'c', 'h', 'w', 'kh', 'kw', 'stride'] as const) requirePositiveInt(kernel, key, p[key]);
  if (p.kh > p.h || p.kw > p.w) {
    throw new Error(`${kernel}: the ${p.kh}x${p.kw} window does not fit the ${p.h}x${p.w} input (${describe(p)})`);
  }
  const { hOut, wOut } = poolOutputSize(p);
  return { x: p.n * p.c * p.h * p.w, out: p.n * p.c * hOut * wOut, hOut, wOut };
}

export function batchNormSizes(kernel: string, p: BatchNormParams, training: boolean): { x: number; c: number } {
  for (const key of ['n', 'c', 'spatial'] as const) requirePositiveInt(kernel, key, p[key]);
  requireFinite(kernel, 'eps', p.eps);
  if (!(p.eps >= 0)) throw new Error(`${kernel}: eps must be >= 0, got ${p.eps}`);
  if (training) {
    requireFinite(kernel, 'momentum', p.momentum);
    // PyTorch refuses this too: the unbiased running variance would divide by zero.
    if (p.n * p.spatial < 2) {
      throw new Error(`${kernel}: training needs more than 1 value per channel (n·spatial = ${p.n * p.spatial}); use inference mode`);
    }
  }
  return { x: p.n * p.c * p.spatial, c: p.c };
}

/** The fused batch norm + max pool: both halves' checks, sizes of x (= dx), out (= argmax, dy) and c. */
export function batchNormMaxPoolSizes(kernel: string, p: BatchNormMaxPoolParams, training: boolean): { x: number; out: number; c: number } {
  const pool = pool2dSizes(kernel, p);
  const { bn } = splitBatchNormMaxPool(p);
  const norm = batchNormSizes(kernel, bn, training);
  isRelu(kernel, p.activation);
  return { x: pool.x, out: pool.out, c: norm.c };
}

/** The fused convolution + batch norm + max pool: both halves' checks; sizes of x, w, bias, the
 *  convolution's output y (never stored by a fused kernel), the pooled out and the channels. */
export function convBatchNormMaxPoolSizes(kernel: string, p: ConvBatchNormMaxPoolParams, training: boolean): {
  x: number; w: number; bias: number; y: number; out: number; c: number;
} {
  const conv = conv2dSizes(kernel, p);
  for (const key of ['poolKh', 'poolKw', 'poolStride'] as const) requirePositiveInt(kernel, key, p[key]);
  const bnPool = batchNormMaxPoolSizes(kernel, splitConvBatchNormMaxPool(p).bnPool, training);
  return { x: conv.x, w: conv.w, bias: conv.bias, y: conv.out, out: bnPool.out, c: bnPool.c };
}

export function checkDropoutParams(kernel: string, p: DropoutParams, length: number): void {
  if (!(p.p >= 0 && p.p <= 1)) throw new Error(`${kernel}: p must be in [0, 1], got ${p.p}`);
  requireNonNegativeInt(kernel, 'seed', p.seed);
  requireNonNegativeInt(kernel, 'step', p.step);
  requirePositiveInt(kernel, 'spatial', p.spatial);
  if (length % p.spatial !== 0) {
    throw new Error(`${kernel}: the buffer length ${length} is not a multiple of spatial ${p.spatial} (x is [channels, spatial])`);
  }
}

export function crossEntropySizes(kernel: string, p: CrossEntropyParams): { logits: number; labels: number } {
  requirePositiveInt(kernel, 'rows', p.rows);
  requirePositiveInt(kernel, 'cols', p.cols);
  if (!(p.labelSmoothing >= 0 && p.labelSmoothing <= 1)) {
    throw new Error(`${kernel}: labelSmoothing must be in [0, 1], got ${p.labelSmoothing}`);
  }
  return { logits: p.rows * p.cols, labels: p.rows };
}

export function channelLayoutSize(kernel: string, layout: ChannelLayout): number {
  for (const key of ['outer', 'channels', 'inner'] as const) requirePositiveInt(kernel, key, layout[key]);
  return layout.outer * layout.channels * layout.inner;
}

/** Everything sgdStep checks, on every backend: the hyperparameters, then the buffer lengths. */
export function checkSgdStep(param: Sized, grad: Sized, velocity: Sized | null, p: SgdParams): void {
  const hasVelocity = velocity !== null;
  for (const key of ['lr', 'momentum', 'dampening', 'weightDecay'] as const) requireFinite('sgdStep', key, p[key]);
  if (p.momentum !== 0 && !hasVelocity) throw new Error('sgdStep: momentum != 0 needs a velocity buffer (got null)');
  if (p.nesterov && (p.momentum <= 0 || p.dampening !== 0)) {
    throw new Error('sgdStep: Nesterov momentum requires a momentum > 0 and zero dampening (as in PyTorch)');
  }
  requireSameLength('sgdStep', 'grad', grad, 'param', param);
  if (velocity) requireSameLength('sgdStep', 'velocity', velocity, 'param', param);
}

/** Everything adamStep checks, on every backend: the hyperparameters, then the buffer lengths. */
export function checkAdamStep(param: Sized, grad: Sized, m: Sized, v: Sized, p: AdamParams): void {
  for (const key of ['lr', 'beta1', 'beta2', 'eps', 'weightDecay'] as const) requireFinite('adamStep', key, p[key]);
  requirePositiveInt('adamStep', 'step (t, counted from 1)', p.step);
  if (!(p.beta1 >= 0 && p.beta1 < 1) || !(p.beta2 >= 0 && p.beta2 < 1)) {
    throw new Error(`adamStep: betas must be in [0, 1), got (${p.beta1}, ${p.beta2})`);
  }
  requireSameLength('adamStep', 'grad', grad, 'param', param);
  requireSameLength('adamStep', 'm', m, 'param', param);
  requireSameLength('adamStep', 'v', v, 'param', param);
}

/** The fused activation of matmul, conv2d and batchnorm, checked the same way on every backend:
 *  true for 'relu', false for 'none' or none given; anything else throws. */
export function isRelu(kernel: string, activation: Activation | undefined): boolean {
  if (activation === undefined || activation === 'none') return false;
  if (activation === 'relu') return true;
  throw new Error(`${kernel}: activation must be 'none' or 'relu', got ${String(activation)}`);
}

/** fill's value check on every backend: an i32 buffer takes an integer in the int32 range (a
 *  larger one would wrap silently), an f32 buffer any number (rounded to float32; NaN allowed). */
export function checkFillValue(dtype: DType, value: number): void {
  const ok = dtype === 'i32' ? Number.isInteger(value) && value >= -0x80000000 && value <= 0x7fffffff : typeof value === 'number';
  if (!ok) throw new Error(`fill: ${String(value)} is not a valid ${dtype} value${dtype === 'i32' ? ' (an integer in [-2^31, 2^31))' : ''}`);
}
