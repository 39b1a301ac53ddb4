// The ref backend: validates every call, resolves handles to typed arrays, and runs the plain
// kernels of this folder synchronously (so `download` and `flush` resolve at once).

import type {
  Activation, AdamParams, Backend, BackendStats, BatchNormMaxPoolParams, BatchNormParams, BinaryOp, ChannelLayout, Conv2dMaxPoolParams, Conv2dParams,
  ConvBatchNormMaxPoolParams, CrossEntropyParams, DeviceBuffer, DropoutParams, DType, HostArray, MatmulParams, Pool2dParams, SgdParams, UnaryOp,
} from '../../backend.ts';
import {
  batchNormMaxPoolSizes, batchNormSizes, channelLayoutSize, checkAdamStep, checkDropoutParams, checkSgdStep, conv2dSizes, crossEntropySizes,
  checkFillValue, isRelu, matmulSizes, pool2dSizes, requireLength, requirePositiveInt, requireRange, requireSameLength,
} from '../validate.ts';
import { batchNormBackward, batchNormInference, batchNormTrain } from './batchnorm.ts';
import { composeConv2dMaxPool, composeConvBatchNormMaxPoolBackward, composeConvBatchNormMaxPoolTrain } from '../compose.ts';
import { batchNormMaxPoolBackward, batchNormMaxPoolTrain } from './fused.ts';
import { conv2d, conv2dBackwardInput, conv2dBackwardWeight } from './conv.ts';
import { dropout, dropoutBackward } from './dropout.ts';
import * as ew from './elementwise.ts';
import { matmul } from './matmul.ts';
import type { GuardedAllocation } from '../guarded-alloc.ts';
import { RefMemory } from './memory.ts';
import { adamStep, sgdStep } from './optim.ts';
import { avgPool2d, avgPool2dBackward, maxPool2d, maxPool2dBackward } from './pool.ts';
import { logSoftmax, softmax, softmaxCrossEntropy, softmaxCrossEntropyBackward } from './softmax.ts';

type F32 = DeviceBuffer<'f32'>;
type I32 = DeviceBuffer<'i32'>;

export class RefBackend implements Backend {
  readonly name = 'ref';
  readonly device = 'plain TypeScript on the host (reference, single thread)';
  private readonly mem = new RefMemory();

  /** A float32 buffer's array; `needed` (when given) is checked against its length. */
  private f32(kernel: string, name: string, buf: F32, needed?: number, what?: string): Float32Array {
    const data = this.mem.resolve(kernel, name, buf, 'f32');
    if (needed !== undefined) requireLength(kernel, name, buf, needed, what ?? 'the params');
    return data;
  }

  private i32(kernel: string, name: string, buf: I32, needed?: number, what?: string): Int32Array {
    const data = this.mem.resolve(kernel, name, buf, 'i32');
    if (needed !== undefined) requireLength(kernel, name, buf, needed, what ?? 'the params');
    return data;
  }

  // ---- memory ----
  alloc<D extends DType = 'f32'>(length: number, dtype?: D): DeviceBuffer<D> {
    return this.mem.alloc(length, (dtype ?? 'f32') as D);
  }
  upload<D extends DType>(buf: DeviceBuffer<D>, data: HostArray<D>, offset?: number): void {
    this.mem.upload(buf, data, offset);
  }
  async download<D extends DType>(buf: DeviceBuffer<D>, offset?: number, length?: number): Promise<HostArray<D>> {
    return this.mem.download(buf, offset, length);
  }
  /** Test hook for the conformance guards (../guarded-alloc.ts). */
  allocGuarded<D extends DType>(length: number, dtype: D, guard: number): GuardedAllocation<D> {
    return this.mem.allocGuarded(length, dtype, guard);
  }

  free(buf: DeviceBuffer): void {
    this.mem.free(buf);
  }
  async flush(): Promise<void> {}
  stats(): BackendStats {
    return this.mem.stats();
  }
  dispose(): void {
    this.mem.dispose();
  }

  // ---- elementwise, copies, reductions ----
  fill(out: DeviceBuffer, value: number): void {
    const data = this.mem.resolve('fill', 'out', out);
    checkFillValue(out.dtype, value);
    ew.fill(data, value);
  }

  copy(src: DeviceBuffer, dst: DeviceBuffer, length: number, srcOffset = 0, dstOffset = 0): void {
    const s = this.mem.resolve('copy', 'src', src);
    const d = this.mem.resolve('copy', 'dst', dst);
    if (src.dtype !== dst.dtype) throw new Error(`copy: src is ${src.dtype} but dst is ${dst.dtype}`);
    requireRange('copy', 'src', srcOffset, length, src);
    requireRange('copy', 'dst', dstOffset, length, dst);
    ew.copy(s, d, length, srcOffset, dstOffset);
  }

  unary(op: UnaryOp, x: F32, out: F32): void {
    requireSameLength('unary', 'x', x, 'out', out);
    ew.unary(op, this.f32('unary', 'x', x), this.f32('unary', 'out', out));
  }

  binary(op: BinaryOp, a: F32, b: F32, out: F32): void {
    requireSameLength('binary', 'a', a, 'out', out);
    requireSameLength('binary', 'b', b, 'out', out);
    ew.binary(op, this.f32('binary', 'a', a), this.f32('binary', 'b', b), this.f32('binary', 'out', out));
  }

  scale(x: F32, alpha: number, beta: number, out: F32): void {
    requireSameLength('scale', 'x', x, 'out', out);
    ew.scale(this.f32('scale', 'x', x), alpha, beta, this.f32('scale', 'out', out));
  }

  axpy(alpha: number, x: F32, y: F32): void {
    requireSameLength('axpy', 'x', x, 'y', y);
    ew.axpy(alpha, this.f32('axpy', 'x', x), this.f32('axpy', 'y', y));
  }

  reluBackward(x: F32, dy: F32, dx: F32, accumulate = false): void {
    requireSameLength('reluBackward', 'x', x, 'dx', dx);
    requireSameLength('reluBackward', 'dy', dy, 'dx', dx);
    const k = 'reluBackward';
    ew.reluBackward(this.f32(k, 'x', x), this.f32(k, 'dy', dy), this.f32(k, 'dx', dx), accumulate);
  }

  channelSum(x: F32, out: F32, layout: ChannelLayout, accumulate = false): void {
    const k = 'channelSum';
    const size = channelLayoutSize(k, layout);
    ew.channelSum(this.f32(k, 'x', x, size, 'the layout'), this.f32(k, 'out', out, layout.channels, 'channels'), layout, accumulate);
  }

  argmax(x: F32, out: I32, rows: number, cols: number): void {
    const k = 'argmax';
    requirePositiveInt(k, 'rows', rows);
    requirePositiveInt(k, 'cols', cols);
    ew.argmax(this.f32(k, 'x', x, rows * cols, 'rows·cols'), this.i32(k, 'out', out, rows, 'rows'), rows, cols);
  }

  countEqual(a: I32, b: I32, out: F32, accumulate = false): void {
    const k = 'countEqual';
    requireSameLength(k, 'b', b, 'a', a);
    ew.countEqual(this.i32(k, 'a', a), this.i32(k, 'b', b), this.f32(k, 'out', out, 1, 'the count'), accumulate);
  }

  // ---- dense layers ----
  matmul(a: F32, b: F32, bias: F32 | null, out: F32, p: MatmulParams): void {
    const k = 'matmul';
    const size = matmulSizes(p);
    isRelu(k, p.activation);
    matmul(
      this.f32(k, 'a', a, size.a, `m·k for ${JSON.stringify(p)}`),
      this.f32(k, 'b', b, size.b, `k·n for ${JSON.stringify(p)}`),
      bias ? this.f32(k, 'bias', bias, size.bias, 'n') : null,
      this.f32(k, 'out', out, size.out, `m·n for ${JSON.stringify(p)}`),
      p,
    );
  }

  conv2d(x: F32, w: F32, bias: F32 | null, out: F32, p: Conv2dParams & { activation?: Activation }): void {
    const k = 'conv2d';
    const s = conv2dSizes(k, p);
    isRelu(k, p.activation);
    const what = `the params ${JSON.stringify(p)}`;
    conv2d(
      this.f32(k, 'x', x, s.x, what),
      this.f32(k, 'w', w, s.w, what),
      bias ? this.f32(k, 'bias', bias, s.bias, 'cOut') : null,
      this.f32(k, 'out', out, s.out, what),
      p,
      p.activation,
    );
  }

  conv2dBackwardInput(dy: F32, w: F32, dx: F32, p: Conv2dParams, accumulate = false): void {
    const k = 'conv2dBackwardInput';
    const s = conv2dSizes(k, p);
    const what = `the params ${JSON.stringify(p)}`;
    conv2dBackwardInput(this.f32(k, 'dy', dy, s.out, what), this.f32(k, 'w', w, s.w, what), this.f32(k, 'dx', dx, s.x, what), p, accumulate);
  }

  conv2dBackwardWeight(x: F32, dy: F32, dw: F32, db: F32 | null, p: Conv2dParams, accumulate = false): void {
    const k = 'conv2dBackwardWeight';
    const s = conv2dSizes(k, p);
    const what = `the params ${JSON.stringify(p)}`;
    conv2dBackwardWeight(
      this.f32(k, 'x', x, s.x, what),
      this.f32(k, 'dy', dy, s.out, what),
      this.f32(k, 'dw', dw, s.w, what),
      db ? this.f32(k, 'db', db, s.bias, 'cOut') : null,
      p,
      accumulate,
    );
  }

  // ---- normalisation ----
  batchNormTrain(
    x: F32, gamma: F32, beta: F32, runningMean: F32, runningVar: F32, out: F32, saveMean: F32, saveInvStd: F32, p: BatchNormParams,
  ): void {
    const k = 'batchNormTrain';
    const s = batchNormSizes(k, p, true);
    isRelu(k, p.activation);
    const what = `n·c·spatial for ${JSON.stringify(p)}`;
    batchNormTrain(
      this.f32(k, 'x', x, s.x, what), this.f32(k, 'gamma', gamma, s.c, 'c'), this.f32(k, 'beta', beta, s.c, 'c'),
      this.f32(k, 'runningMean', runningMean, s.c, 'c'), this.f32(k, 'runningVar', runningVar, s.c, 'c'),
      this.f32(k, 'out', out, s.x, what), this.f32(k, 'saveMean', saveMean, s.c, 'c'), this.f32(k, 'saveInvStd', saveInvStd, s.c, 'c'),
      p,
    );
  }

  batchNormInference(x: F32, gamma: F32, beta: F32, runningMean: F32, runningVar: F32, out: F32, p: BatchNormParams): void {
    const k = 'batchNormInference';
    const s = batchNormSizes(k, p, false);
    isRelu(k, p.activation);
    const what = `n·c·spatial for ${JSON.stringify(p)}`;
    batchNormInference(
      this.f32(k, 'x', x, s.x, what), this.f32(k, 'gamma', gamma, s.c, 'c'), this.f32(k, 'beta', beta, s.c, 'c'),
      this.f32(k, 'runningMean', runningMean, s.c, 'c'), this.f32(k, 'runningVar', runningVar, s.c, 'c'),
      this.f32(k, 'out', out, s.x, what), p,
    );
  }

  batchNormBackward(
    x: F32, dy: F32, gamma: F32, saveMean: F32, saveInvStd: F32, dx: F32, dgamma: F32, dbeta: F32, p: BatchNormParams, accumulate = false,
  ): void {
    const k = 'batchNormBackward';
    const s = batchNormSizes(k, p, false);
    const what = `n·c·spatial for ${JSON.stringify(p)}`;
    batchNormBackward(
      this.f32(k, 'x', x, s.x, what), this.f32(k, 'dy', dy, s.x, what), this.f32(k, 'gamma', gamma, s.c, 'c'),
      this.f32(k, 'saveMean', saveMean, s.c, 'c'), this.f32(k, 'saveInvStd', saveInvStd, s.c, 'c'),
      this.f32(k, 'dx', dx, s.x, what), this.f32(k, 'dgamma', dgamma, s.c, 'c'), this.f32(k, 'dbeta', dbeta, s.c, 'c'),
      p, accumulate,
    );
  }

  // ---- fused convolution → activation → max pool (inference): literally the unfused kernels ----
  conv2dMaxPool(x: F32, w: F32, bias: F32 | null, out: F32, p: Conv2dMaxPoolParams): void {
    composeConv2dMaxPool(this, x, w, bias, out, p);
  }

  // ---- fused batch norm → activation → max pool (fused.ts: literally the unfused kernels) ----
  batchNormMaxPoolTrain(
    x: F32, gamma: F32, beta: F32, runningMean: F32, runningVar: F32, out: F32, argmax: I32, saveMean: F32, saveInvStd: F32,
    p: BatchNormMaxPoolParams,
  ): void {
    const k = 'batchNormMaxPoolTrain';
    const s = batchNormMaxPoolSizes(k, p, true);
    const what = `the params ${JSON.stringify(p)}`;
    batchNormMaxPoolTrain(
      this.f32(k, 'x', x, s.x, what), this.f32(k, 'gamma', gamma, s.c, 'c'), this.f32(k, 'beta', beta, s.c, 'c'),
      this.f32(k, 'runningMean', runningMean, s.c, 'c'), this.f32(k, 'runningVar', runningVar, s.c, 'c'),
      this.f32(k, 'out', out, s.out, what).subarray(0, s.out), this.i32(k, 'argmax', argmax, s.out, what).subarray(0, s.out),
      this.f32(k, 'saveMean', saveMean, s.c, 'c'), this.f32(k, 'saveInvStd', saveInvStd, s.c, 'c'), p,
    );
  }

  batchNormMaxPoolBackward(
    x: F32, out: F32, argmax: I32, dy: F32, gamma: F32, saveMean: F32, saveInvStd: F32, dx: F32, dgamma: F32, dbeta: F32,
    p: BatchNormMaxPoolParams, accumulate = false,
  ): void {
    const k = 'batchNormMaxPoolBackward';
    const s = batchNormMaxPoolSizes(k, p, false);
    const what = `the params ${JSON.stringify(p)}`;
    batchNormMaxPoolBackward(
      this.f32(k, 'x', x, s.x, what), this.f32(k, 'out', out, s.out, what), this.i32(k, 'argmax', argmax, s.out, what).subarray(0, s.out),
      this.f32(k, 'dy', dy, s.out, what), this.f32(k, 'gamma', gamma, s.c, 'c'),
      this.f32(k, 'saveMean', saveMean, s.c, 'c'), this.f32(k, 'saveInvStd', saveInvStd, s.c, 'c'),
      this.f32(k, 'dx', dx, s.x, what), this.f32(k, 'dgamma', dgamma, s.c, 'c'), this.f32(k, 'dbeta', dbeta, s.c, 'c'),
      p, accumulate,
    );
  }

  // ---- fused convolution → batch norm → activation → max pool (training): literally the unfused kernels ----
  convBatchNormMaxPoolTrain(
    x: F32, w: F32, bias: F32 | null, gamma: F32, beta: F32, runningMean: F32, runningVar: F32, out: F32, argmax: I32,
    saveMean: F32, saveInvStd: F32, p: ConvBatchNormMaxPoolParams,
  ): void {
    composeConvBatchNormMaxPoolTrain(this, x, w, bias, gamma, beta, runningMean, runningVar, out, argmax, saveMean, saveInvStd, p);
  }

  convBatchNormMaxPoolBackward(
    x: F32, w: F32, bias: F32 | null, out: F32, argmax: I32, dy: F32, gamma: F32, beta: F32, saveMean: F32, saveInvStd: F32,
    dw: F32, dgamma: F32, dbeta: F32, p: ConvBatchNormMaxPoolParams, accumulate = false,
  ): void {
    composeConvBatchNormMaxPoolBackward(this, x, w, bias, out, argmax, dy, gamma, beta, saveMean, saveInvStd, dw, dgamma, dbeta, p, accumulate);
  }

  // ---- pooling ----
  maxPool2d(x: F32, out: F32, argmax: I32, p: Pool2dParams): void {
    const k = 'maxPool2d';
    const s = pool2dSizes(k, p);
    const what = `the params ${JSON.stringify(p)}`;
    maxPool2d(this.f32(k, 'x', x, s.x, what), this.f32(k, 'out', out, s.out, what), this.i32(k, 'argmax', argmax, s.out, what), p);
  }

  maxPool2dBackward(dy: F32, argmax: I32, dx: F32, p: Pool2dParams): void {
    const k = 'maxPool2dBackward';
    const s = pool2dSizes(k, p);
    const what = `the params ${JSON.stringify(p)}`;
    maxPool2dBackward(this.f32(k, 'dy', dy, s.out, what), this.i32(k, 'argmax', argmax, s.out, what), this.f32(k, 'dx', dx, s.x, what), p);
  }

  avgPool2d(x: F32, out: F32, p: Pool2dParams): void {
    const k = 'avgPool2d';
    const s = pool2dSizes(k, p);
    const what = `the params ${JSON.stringify(p)}`;
    avgPool2d(this.f32(k, 'x', x, s.x, what), this.f32(k, 'out', out, s.out, what), p);
  }

  avgPool2dBackward(dy: F32, dx: F32, p: Pool2dParams): void {
    const k = 'avgPool2dBackward';
    const s = pool2dSizes(k, p);
    const what = `the params ${JSON.stringify(p)}`;
    avgPool2dBackward(this.f32(k, 'dy', dy, s.out, what), this.f32(k, 'dx', dx, s.x, what), p);
  }

  // ---- regularisation ----
  dropout(x: F32, out: F32, p: DropoutParams): void {
    const k = 'dropout';
    requireSameLength(k, 'x', x, 'out', out);
    checkDropoutParams(k, p, out.length);
    dropout(this.f32(k, 'x', x), this.f32(k, 'out', out), p);
  }

  dropoutBackward(dy: F32, dx: F32, p: DropoutParams, accumulate = false): void {
    const k = 'dropoutBackward';
    requireSameLength(k, 'dy', dy, 'dx', dx);
    checkDropoutParams(k, p, dx.length);
    dropoutBackward(this.f32(k, 'dy', dy), this.f32(k, 'dx', dx), p, accumulate);
  }

  // ---- softmax and loss ----
  softmax(x: F32, out: F32, rows: number, cols: number): void {
    const k = 'softmax';
    requirePositiveInt(k, 'rows', rows);
    requirePositiveInt(k, 'cols', cols);
    softmax(this.f32(k, 'x', x, rows * cols, 'rows·cols'), this.f32(k, 'out', out, rows * cols, 'rows·cols'), rows, cols);
  }

  logSoftmax(x: F32, out: F32, rows: number, cols: number): void {
    const k = 'logSoftmax';
    requirePositiveInt(k, 'rows', rows);
    requirePositiveInt(k, 'cols', cols);
    logSoftmax(this.f32(k, 'x', x, rows * cols, 'rows·cols'), this.f32(k, 'out', out, rows * cols, 'rows·cols'), rows, cols);
  }

  softmaxCrossEntropy(logits: F32, labels: I32, probs: F32, loss: F32, p: CrossEntropyParams): void {
    const k = 'softmaxCrossEntropy';
    const s = crossEntropySizes(k, p);
    softmaxCrossEntropy(
      this.f32(k, 'logits', logits, s.logits, 'rows·cols'), this.i32(k, 'labels', labels, s.labels, 'rows'),
      this.f32(k, 'probs', probs, s.logits, 'rows·cols'), this.f32(k, 'loss', loss, 1, 'the loss'), p,
    );
  }

  softmaxCrossEntropyBackward(probs: F32, labels: I32, dloss: F32, dlogits: F32, p: CrossEntropyParams, accumulate = false): void {
    const k = 'softmaxCrossEntropyBackward';
    const s = crossEntropySizes(k, p);
    softmaxCrossEntropyBackward(
      this.f32(k, 'probs', probs, s.logits, 'rows·cols'), this.i32(k, 'labels', labels, s.labels, 'rows'),
      this.f32(k, 'dloss', dloss, 1, 'the loss gradient'), this.f32(k, 'dlogits', dlogits, s.logits, 'rows·cols'), p, accumulate,
    );
  }

  // ---- optimizer updates ----
  sgdStep(param: F32, grad: F32, velocity: F32 | null, p: SgdParams): void {
    const k = 'sgdStep';
    checkSgdStep(param, grad, velocity, p);
    sgdStep(this.f32(k, 'param', param), this.f32(k, 'grad', grad), velocity ? this.f32(k, 'velocity', velocity) : null, p);
  }

  adamStep(param: F32, grad: F32, m: F32, v: F32, p: AdamParams): void {
    const k = 'adamStep';
    checkAdamStep(param, grad, m, v, p);
    adamStep(this.f32(k, 'param', param), this.f32(k, 'grad', grad), this.f32(k, 'm', m), this.f32(k, 'v', v), p);
  }
}

