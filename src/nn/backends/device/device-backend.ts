// The Backend contract over a native device context (native-context.ts): validates every call (the
// shared checks of ../validate.ts, so errors read the same as on ref), resolves handles to device
// addresses and enqueues one native launcher. Nothing here waits for the device except `download`
// and `flush`, which poll a completion marker (readback.ts). cuda, cuda-emu, metal and metal-emu
// are this class over their addons; a subclass adds only what is its own (CUDA graphs, device info).

import type {
  Activation, AdamParams, Backend, BackendStats, BatchNormMaxPoolParams, BatchNormParams, BinaryOp, ChannelLayout, Conv2dMaxPoolParams, Conv2dParams,
  ConvBatchNormMaxPoolParams, CrossEntropyParams, DeviceBuffer, DropoutParams, DType, HostArray, MatmulParams, Pool2dParams, SgdParams, UnaryOp,
} from '../../backend.ts';
import {
  batchNormSizes, channelLayoutSize, checkAdamStep, checkDropoutParams, checkSgdStep, checkUpload, conv2dSizes, crossEntropySizes, downloadLength,
  matmulSizes, pool2dSizes, requireLength, requireNonNegativeInt, requirePositiveInt, requireRange, requireSameLength,
} from '../validate.ts';
import {
  composeBatchNormMaxPoolBackward, composeBatchNormMaxPoolTrain, composeConv2dMaxPool, composeConvBatchNormMaxPoolBackward, composeConvBatchNormMaxPoolTrain,
} from '../compose.ts';
import { checkGuardArgs, type GuardedAllocation } from '../guarded-alloc.ts';
import { DeviceHandleBuffer, devicePtr, elementAddress } from './buffers.ts';
import type { BnArgs, ConvArgs, NativeDeviceContext, PoolArgs } from './native-context.ts';
import {
  binaryCode, dropoutKeepScale, dropoutKeepThreshold, fillBits, isRelu, requireInt32Extent, unaryCode,
} from './params.ts';
import { waitForEvent } from './readback.ts';

type F32 = DeviceBuffer<'f32'>;
type I32 = DeviceBuffer<'i32'>;
type Describe = string | (() => string);

function describe(what: Describe | undefined): string {
  return what === undefined ? 'the params' : typeof what === 'string' ? what : what();
}

export abstract class DeviceKernelBackend<N extends NativeDeviceContext = NativeDeviceContext> implements Backend {
  abstract readonly name: string;
  abstract readonly device: string;
  protected native: N | null;
  private liveBuffers = new Set<DeviceHandleBuffer>();
  private liveBytes = 0;

  constructor(native: N) {
    this.native = native;
  }

  protected ctx(kernel: string): N {
    if (!this.native) throw new Error(`${kernel}: the ${this.name} backend was disposed; create a new one`);
    return this.native;
  }

  // `what` may be a function so that the JSON of the params is only built for an error message:
  // eager GPU training is launch-bound, and these checks run on every kernel call.
  protected f(kernel: string, name: string, buf: F32, needed?: number, what?: Describe): number {
    const ptr = devicePtr(this, kernel, name, buf, 'f32');
    if (needed !== undefined && buf.length < needed) requireLength(kernel, name, buf, needed, describe(what));
    return ptr;
  }

  protected i(kernel: string, name: string, buf: I32, needed?: number, what?: Describe): number {
    const ptr = devicePtr(this, kernel, name, buf, 'i32');
    if (needed !== undefined && buf.length < needed) requireLength(kernel, name, buf, needed, describe(what));
    return ptr;
  }

  // ---- memory ----
  alloc<D extends DType = 'f32'>(length: number, dtype?: D): DeviceBuffer<D> {
    const native = this.ctx('alloc');
    requireNonNegativeInt('alloc', 'length', length);
    const dt = (dtype ?? 'f32') as D;
    if (dt !== 'f32' && dt !== 'i32') throw new Error(`alloc: dtype must be 'f32' or 'i32', got ${String(dt)}`);
    const buf = new DeviceHandleBuffer<D>(this, length, dt, native.alloc(length * 4));
    this.liveBuffers.add(buf);
    this.liveBytes += length * 4;
    return buf;
  }

  /** Test hook for the conformance guards (../guarded-alloc.ts): an address `guard`·4 bytes into a
   *  region allocation, so a kernel writing past the buffer writes into the guard. */
  allocGuarded<D extends DType>(length: number, dtype: D, guard: number): GuardedAllocation<D> {
    checkGuardArgs('allocGuarded', length, guard);
    const region = this.alloc(length + 2 * guard, dtype) as DeviceHandleBuffer<D>;
    const buffer = new DeviceHandleBuffer<D>(this, length, dtype, elementAddress(region.ptr, guard), true);
    this.liveBuffers.add(buffer);
    this.liveBytes += length * 4;
    return { buffer, region, guard };
  }

  upload<D extends DType>(buf: DeviceBuffer<D>, data: HostArray<D>, offset = 0): void {
    const native = this.ctx('upload');
    const ptr = devicePtr(this, 'upload', 'buf', buf);
    checkUpload(buf, data, offset);
    native.upload(elementAddress(ptr, offset), data);
  }

  async download<D extends DType>(buf: DeviceBuffer<D>, offset = 0, length?: number): Promise<HostArray<D>> {
    const native = this.ctx('download');
    const ptr = devicePtr(this, 'download', 'buf', buf);
    const n = downloadLength(buf, offset, length);
    const out = (buf.dtype === 'i32' ? new Int32Array(n) : new Float32Array(n)) as HostArray<D>;
    const id = native.beginDownload(elementAddress(ptr, offset), n * 4);
    try {
      await waitForEvent(native, id);
    } catch (err) {
      throw err instanceof Error ? new Error(`download: ${err.message}`, { cause: err }) : err;
    }
    if (this.native !== native) throw new Error(`download: the ${this.name} backend was disposed while the readback was in flight`);
    native.finishDownload(id, out);
    return out;
  }

  free(buf: DeviceBuffer): void {
    const native = this.ctx('free');
    const ptr = devicePtr(this, 'free', 'buf', buf);
    if (!(buf as DeviceHandleBuffer).view) native.free(ptr);
    (buf as DeviceHandleBuffer).ptr = 0;
    this.liveBuffers.delete(buf as DeviceHandleBuffer);
    this.liveBytes -= buf.length * 4;
  }

  async flush(): Promise<void> {
    const native = this.ctx('flush');
    const id = native.beginDownload(0, 0);
    await waitForEvent(native, id);
    if (this.native === native) native.finishDownload(id, null);
  }

  stats(): BackendStats {
    return { buffers: this.liveBuffers.size, bytes: this.liveBytes };
  }

  dispose(): void {
    if (!this.native) return;
    for (const buf of this.liveBuffers) buf.ptr = 0;
    this.liveBuffers.clear();
    this.liveBytes = 0;
    this.native.dispose();
    this.native = null;
  }

  // ---- elementwise, copies, reductions ----
  fill(out: DeviceBuffer, value: number): void {
    const native = this.ctx('fill');
    const ptr = devicePtr(this, 'fill', 'out', out);
    native.fill32(ptr, fillBits(out.dtype, value), out.length);
  }

  copy(src: DeviceBuffer, dst: DeviceBuffer, length: number, srcOffset = 0, dstOffset = 0): void {
    const native = this.ctx('copy');
    const s = devicePtr(this, 'copy', 'src', src);
    const d = devicePtr(this, 'copy', 'dst', dst);
    if (src.dtype !== dst.dtype) throw new Error(`copy: src is ${src.dtype} but dst is ${dst.dtype}`);
    requireRange('copy', 'src', srcOffset, length, src);
    requireRange('copy', 'dst', dstOffset, length, dst);
    native.copy(elementAddress(s, srcOffset), elementAddress(d, dstOffset), length * 4);
  }

  unary(op: UnaryOp, x: F32, out: F32): void {
    requireSameLength('unary', 'x', x, 'out', out);
    const code = unaryCode(op);
    this.ctx('unary').unary(code, this.f('unary', 'x', x), this.f('unary', 'out', out), out.length);
  }

  binary(op: BinaryOp, a: F32, b: F32, out: F32): void {
    requireSameLength('binary', 'a', a, 'out', out);
    requireSameLength('binary', 'b', b, 'out', out);
    const code = binaryCode(op);
    this.ctx('binary').binary(code, this.f('binary', 'a', a), this.f('binary', 'b', b), this.f('binary', 'out', out), out.length);
  }

  scale(x: F32, alpha: number, beta: number, out: F32): void {
    requireSameLength('scale', 'x', x, 'out', out);
    this.ctx('scale').scale(this.f('scale', 'x', x), alpha, beta, this.f('scale', 'out', out), out.length);
  }

  axpy(alpha: number, x: F32, y: F32): void {
    requireSameLength('axpy', 'x', x, 'y', y);
    this.ctx('axpy').axpy(alpha, this.f('axpy', 'x', x), this.f('axpy', 'y', y), y.length);
  }

  reluBackward(x: F32, dy: F32, dx: F32, accumulate = false): void {
    const k = 'reluBackward';
    requireSameLength(k, 'x', x, 'dx', dx);
    requireSameLength(k, 'dy', dy, 'dx', dx);
    this.ctx(k).reluBackward(this.f(k, 'x', x), this.f(k, 'dy', dy), this.f(k, 'dx', dx), dx.length, accumulate);
  }

  channelSum(x: F32, out: F32, layout: ChannelLayout, accumulate = false): void {
    const k = 'channelSum';
    const size = channelLayoutSize(k, layout);
    requireInt32Extent(k, 'outer', layout.outer);
    this.ctx(k).channelSum(
      this.f(k, 'x', x, size, 'the layout'), this.f(k, 'out', out, layout.channels, 'channels'),
      layout.outer, layout.channels, layout.inner, accumulate,
    );
  }

  argmax(x: F32, out: I32, rows: number, cols: number): void {
    const k = 'argmax';
    requirePositiveInt(k, 'rows', rows);
    requirePositiveInt(k, 'cols', cols);
    this.ctx(k).argmax(this.f(k, 'x', x, rows * cols, 'rows·cols'), this.i(k, 'out', out, rows, 'rows'), rows, cols);
  }

  countEqual(a: I32, b: I32, out: F32, accumulate = false): void {
    const k = 'countEqual';
    requireSameLength(k, 'b', b, 'a', a);
    this.ctx(k).countEqual(this.i(k, 'a', a), this.i(k, 'b', b), this.f(k, 'out', out, 1, 'the count'), a.length, accumulate);
  }

  // ---- dense layers ----
  matmul(a: F32, b: F32, bias: F32 | null, out: F32, p: MatmulParams): void {
    const k = 'matmul';
    const size = matmulSizes(p);
    const relu = isRelu(k, p.activation);
    this.ctx(k).matmul(
      this.f(k, 'a', a, size.a, () => `m·k for ${JSON.stringify(p)}`), this.f(k, 'b', b, size.b, () => `k·n for ${JSON.stringify(p)}`),
      bias ? this.f(k, 'bias', bias, size.bias, 'n') : 0, this.f(k, 'out', out, size.out, () => `m·n for ${JSON.stringify(p)}`),
      p.m, p.n, p.k, p.transA, p.transB, p.accumulate ?? false, relu,
    );
  }

  private convArgs(kernel: string, p: Conv2dParams): { sizes: ReturnType<typeof conv2dSizes>; args: ConvArgs } {
    const sizes = conv2dSizes(kernel, p);
    requireInt32Extent(kernel, 'n·h·w', p.n * p.h * p.w);
    requireInt32Extent(kernel, 'n·hOut·wOut', p.n * sizes.hOut * sizes.wOut);
    return { sizes, args: [p.n, p.cIn, p.h, p.w, p.cOut, p.kh, p.kw, p.stride, p.pad, sizes.hOut, sizes.wOut] };
  }

  conv2d(x: F32, w: F32, bias: F32 | null, out: F32, p: Conv2dParams & { activation?: Activation }): void {
    const k = 'conv2d';
    const { sizes: s, args } = this.convArgs(k, p);
    const relu = isRelu(k, p.activation);
    const what = () => `the params ${JSON.stringify(p)}`;
    this.ctx(k).conv2d(
      this.f(k, 'x', x, s.x, what), this.f(k, 'w', w, s.w, what), bias ? this.f(k, 'bias', bias, s.bias, 'cOut') : 0,
      this.f(k, 'out', out, s.out, what), ...args, relu,
    );
  }

  conv2dBackwardInput(dy: F32, w: F32, dx: F32, p: Conv2dParams, accumulate = false): void {
    const k = 'conv2dBackwardInput';
    const { sizes: s, args } = this.convArgs(k, p);
    const what = () => `the params ${JSON.stringify(p)}`;
    this.ctx(k).conv2dBackwardInput(
      this.f(k, 'dy', dy, s.out, what), this.f(k, 'w', w, s.w, what), this.f(k, 'dx', dx, s.x, what), ...args, accumulate,
    );
  }

  conv2dBackwardWeight(x: F32, dy: F32, dw: F32, db: F32 | null, p: Conv2dParams, accumulate = false): void {
    const k = 'conv2dBackwardWeight';
    const { sizes: s, args } = this.convArgs(k, p);
    const what = () => `the params ${JSON.stringify(p)}`;
    this.ctx(k).conv2dBackwardWeight(
      this.f(k, 'x', x, s.x, what), this.f(k, 'dy', dy, s.out, what), this.f(k, 'dw', dw, s.w, what),
      db ? this.f(k, 'db', db, s.bias, 'cOut') : 0, ...args, accumulate,
    );
  }

  // ---- normalisation ----
  private bnArgs(p: BatchNormParams): BnArgs {
    return [p.n, p.c, p.spatial, p.eps, p.momentum ?? 0];
  }

  batchNormTrain(
    x: F32, gamma: F32, beta: F32, runningMean: F32, runningVar: F32, out: F32, saveMean: F32, saveInvStd: F32, p: BatchNormParams,
  ): void {
    const k = 'batchNormTrain';
    const s = batchNormSizes(k, p, true);
    const relu = isRelu(k, p.activation);
    requireInt32Extent(k, 'n', p.n);
    const what = () => `n·c·spatial for ${JSON.stringify(p)}`;
    this.ctx(k).batchNormTrain(
      this.f(k, 'x', x, s.x, what), this.f(k, 'gamma', gamma, s.c, 'c'), this.f(k, 'beta', beta, s.c, 'c'),
      this.f(k, 'runningMean', runningMean, s.c, 'c'), this.f(k, 'runningVar', runningVar, s.c, 'c'),
      this.f(k, 'out', out, s.x, what), this.f(k, 'saveMean', saveMean, s.c, 'c'), this.f(k, 'saveInvStd', saveInvStd, s.c, 'c'),
      ...this.bnArgs(p), relu,
    );
  }

  batchNormInference(x: F32, gamma: F32, beta: F32, runningMean: F32, runningVar: F32, out: F32, p: BatchNormParams): void {
    const k = 'batchNormInference';
    const s = batchNormSizes(k, p, false);
    const relu = isRelu(k, p.activation);
    const what = () => `n·c·spatial for ${JSON.stringify(p)}`;
    this.ctx(k).batchNormInference(
      this.f(k, 'x', x, s.x, what), this.f(k, 'gamma', gamma, s.c, 'c'), this.f(k, 'beta', beta, s.c, 'c'),
      this.f(k, 'runningMean', runningMean, s.c, 'c'), this.f(k, 'runningVar', runningVar, s.c, 'c'),
      this.f(k, 'out', out, s.x, what), ...this.bnArgs(p), relu,
    );
  }

  batchNormBackward(
    x: F32, dy: F32, gamma: F32, saveMean: F32, saveInvStd: F32, dx: F32, dgamma: F32, dbeta: F32, p: BatchNormParams, accumulate = false,
  ): void {
    const k = 'batchNormBackward';
    const s = batchNormSizes(k, p, false);
    const what = () => `n·c·spatial for ${JSON.stringify(p)}`;
    this.ctx(k).batchNormBackward(
      this.f(k, 'x', x, s.x, what), this.f(k, 'dy', dy, s.x, what), this.f(k, 'gamma', gamma, s.c, 'c'),
      this.f(k, 'saveMean', saveMean, s.c, 'c'), this.f(k, 'saveInvStd', saveInvStd, s.c, 'c'),
      this.f(k, 'dx', dx, s.x, what), this.f(k, 'dgamma', dgamma, s.c, 'c'), this.f(k, 'dbeta', dbeta, s.c, 'c'),
      ...this.bnArgs(p), accumulate,
    );
  }

  // ---- fused convolution → activation → max pool (inference): the unfused kernels (../compose.ts) ----
  conv2dMaxPool(x: F32, w: F32, bias: F32 | null, out: F32, p: Conv2dMaxPoolParams): void {
    composeConv2dMaxPool(this, x, w, bias, out, p);
  }

  // ---- fused batch norm → activation → max pool: the unfused kernels (../compose.ts) ----
  batchNormMaxPoolTrain(
    x: F32, gamma: F32, beta: F32, runningMean: F32, runningVar: F32, out: F32, argmax: I32,
    saveMean: F32, saveInvStd: F32, p: BatchNormMaxPoolParams,
  ): void {
    composeBatchNormMaxPoolTrain(this, x, gamma, beta, runningMean, runningVar, out, argmax, saveMean, saveInvStd, p);
  }

  batchNormMaxPoolBackward(
    x: F32, out: F32, argmax: I32, dy: F32, gamma: F32, saveMean: F32, saveInvStd: F32,
    dx: F32, dgamma: F32, dbeta: F32, p: BatchNormMaxPoolParams, accumulate = false,
  ): void {
    composeBatchNormMaxPoolBackward(this, x, out, argmax, dy, gamma, saveMean, saveInvStd, dx, dgamma, dbeta, p, accumulate);
  }

  // ---- fused convolution → batch norm → activation → max pool (training): the unfused kernels (../compose.ts) ----
  convBatchNormMaxPoolTrain(
    x: F32, w: F32, bias: F32 | null, gamma: F32, beta: F32, runningMean: F32, runningVar: F32,
    out: F32, argmax: I32, saveMean: F32, saveInvStd: F32, p: ConvBatchNormMaxPoolParams,
  ): void {
    composeConvBatchNormMaxPoolTrain(this, x, w, bias, gamma, beta, runningMean, runningVar, out, argmax, saveMean, saveInvStd, p);
  }

  convBatchNormMaxPoolBackward(
    x: F32, w: F32, bias: F32 | null, out: F32, argmax: I32, dy: F32,
    gamma: F32, beta: F32, saveMean: F32, saveInvStd: F32, dw: F32, dgamma: F32, dbeta: F32,
    p: ConvBatchNormMaxPoolParams, accumulate = false,
  ): void {
    composeConvBatchNormMaxPoolBackward(this, x, w, bias, out, argmax, dy, gamma, beta, saveMean, saveInvStd, dw, dgamma, dbeta, p, accumulate);
  }

  // ---- pooling ----
  private poolArgs(kernel: string, p: Pool2dParams): { sizes: ReturnType<typeof pool2dSizes>; args: PoolArgs } {
    const sizes = pool2dSizes(kernel, p);
    return { sizes, args: [p.n, p.c, p.h, p.w, p.kh, p.kw, p.stride, sizes.hOut, sizes.wOut] };
  }

  maxPool2d(x: F32, out: F32, argmax: I32, p: Pool2dParams): void {
    const k = 'maxPool2d';
    const { sizes: s, args } = this.poolArgs(k, p);
    const what = () => `the params ${JSON.stringify(p)}`;
    this.ctx(k).maxPool2d(this.f(k, 'x', x, s.x, what), this.f(k, 'out', out, s.out, what), this.i(k, 'argmax', argmax, s.out, what), ...args);
  }

  maxPool2dBackward(dy: F32, argmax: I32, dx: F32, p: Pool2dParams): void {
    const k = 'maxPool2dBackward';
    const { sizes: s, args } = this.poolArgs(k, p);
    const what = () => `the params ${JSON.stringify(p)}`;
    this.ctx(k).maxPool2dBackward(
      this.f(k, 'dy', dy, s.out, what), this.i(k, 'argmax', argmax, s.out, what), this.f(k, 'dx', dx, s.x, what), ...args,
    );
  }

  avgPool2d(x: F32, out: F32, p: Pool2dParams): void {
    const k = 'avgPool2d';
    const { sizes: s, args } = this.poolArgs(k, p);
    const what = () => `the params ${JSON.stringify(p)}`;
    this.ctx(k).avgPool2d(this.f(k, 'x', x, s.x, what), this.f(k, 'out', out, s.out, what), ...args);
  }

  avgPool2dBackward(dy: F32, dx: F32, p: Pool2dParams): void {
    const k = 'avgPool2dBackward';
    const { sizes: s, args } = this.poolArgs(k, p);
    const what = () => `the params ${JSON.stringify(p)}`;
    this.ctx(k).avgPool2dBackward(this.f(k, 'dy', dy, s.out, what), this.f(k, 'dx', dx, s.x, what), ...args);
  }

  // ---- regularisation ----
  private runDropout(kernel: string, src: F32, dst: F32, p: DropoutParams, backward: boolean, accumulate: boolean): void {
    requireSameLength(kernel, backward ? 'dy' : 'x', src, backward ? 'dx' : 'out', dst);
    checkDropoutParams(kernel, p, dst.length);
    if (p.seed > 0xffffffff || p.step > 0xffffffff) throw new Error(`${kernel}: seed and step must fit in 32 bits (the hash is uint32)`);
    this.ctx(kernel).dropout(
      this.f(kernel, backward ? 'dy' : 'x', src), this.f(kernel, backward ? 'dx' : 'out', dst), dst.length, p.seed, p.step,
      dropoutKeepThreshold(p.p), dropoutKeepScale(p.p), p.spatial, backward, accumulate,
    );
  }

  dropout(x: F32, out: F32, p: DropoutParams): void {
    this.runDropout('dropout', x, out, p, false, false);
  }

  dropoutBackward(dy: F32, dx: F32, p: DropoutParams, accumulate = false): void {
    this.runDropout('dropoutBackward', dy, dx, p, true, accumulate);
  }

  // ---- softmax and loss ----
  softmax(x: F32, out: F32, rows: number, cols: number): void {
    this.runSoftmax('softmax', x, out, rows, cols, false);
  }

  logSoftmax(x: F32, out: F32, rows: number, cols: number): void {
    this.runSoftmax('logSoftmax', x, out, rows, cols, true);
  }

  private runSoftmax(k: string, x: F32, out: F32, rows: number, cols: number, log: boolean): void {
    requirePositiveInt(k, 'rows', rows);
    requirePositiveInt(k, 'cols', cols);
    const n = rows * cols;
    this.ctx(k).softmax(this.f(k, 'x', x, n, 'rows·cols'), this.f(k, 'out', out, n, 'rows·cols'), rows, cols, log);
  }

  softmaxCrossEntropy(logits: F32, labels: I32, probs: F32, loss: F32, p: CrossEntropyParams): void {
    const k = 'softmaxCrossEntropy';
    const s = crossEntropySizes(k, p);
    this.ctx(k).softmaxCrossEntropy(
      this.f(k, 'logits', logits, s.logits, 'rows·cols'), this.i(k, 'labels', labels, s.labels, 'rows'),
      this.f(k, 'probs', probs, s.logits, 'rows·cols'), this.f(k, 'loss', loss, 1, 'the loss'), p.rows, p.cols, p.labelSmoothing,
    );
  }

  softmaxCrossEntropyBackward(
    probs: F32, labels: I32, dloss: F32, dlogits: F32, p: CrossEntropyParams, accumulate = false,
  ): void {
    const k = 'softmaxCrossEntropyBackward';
    const s = crossEntropySizes(k, p);
    this.ctx(k).softmaxCrossEntropyBackward(
      this.f(k, 'probs', probs, s.logits, 'rows·cols'), this.i(k, 'labels', labels, s.labels, 'rows'),
      this.f(k, 'dloss', dloss, 1, 'the loss gradient'), this.f(k, 'dlogits', dlogits, s.logits, 'rows·cols'),
      p.rows, p.cols, p.labelSmoothing, accumulate,
    );
  }

  // ---- optimizer updates ----
  sgdStep(param: F32, grad: F32, velocity: F32 | null, p: SgdParams): void {
    const k = 'sgdStep';
    checkSgdStep(param, grad, velocity, p);
    this.ctx(k).sgdStep(
      this.f(k, 'param', param), this.f(k, 'grad', grad), velocity ? this.f(k, 'velocity', velocity) : 0, param.length,
      p.lr, p.momentum, p.dampening, p.weightDecay, p.nesterov,
    );
  }

  adamStep(param: F32, grad: F32, m: F32, v: F32, p: AdamParams): void {
    const k = 'adamStep';
    checkAdamStep(param, grad, m, v, p);
    this.ctx(k).adamStep(
      this.f(k, 'param', param), this.f(k, 'grad', grad), this.f(k, 'm', m), this.f(k, 'v', v), param.length,
      p.lr, p.beta1, p.beta2, p.eps, p.weightDecay, p.decoupled, p.step,
    );
  }
}
