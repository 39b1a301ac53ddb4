// The cpu backend: the Backend contract over the native addon. Each method checks its buffers
// and params (the shared checks of ../validate.ts, so errors read as on every backend), then runs
// the kernel synchronously on the typed arrays; `download` resolves with a copy and `flush` at
// once, which satisfies the asynchronous contract.

import type {
  Activation, AdamParams, Backend, BackendStats, BatchNormMaxPoolParams, BatchNormParams, BinaryOp, ChannelLayout, Conv2dMaxPoolParams, Conv2dParams,
  ConvBatchNormMaxPoolParams, CrossEntropyParams, DeviceBuffer, DropoutParams, DType, HostArray, MatmulParams, Pool2dParams, SgdParams, UnaryOp,
} from '../../backend.ts';
import {
  batchNormMaxPoolSizes, batchNormSizes, convBatchNormMaxPoolSizes, channelLayoutSize, checkAdamStep, checkDropoutParams, checkSgdStep, conv2dMaxPoolSizes, conv2dSizes, crossEntropySizes,
  checkFillValue, isRelu, matmulSizes, pool2dSizes, requireLength, requirePositiveInt, requireRange, requireSameLength,
} from '../validate.ts';
import { composeConvBatchNormMaxPoolBackward, composeConvBatchNormMaxPoolTrain } from '../compose.ts';
import { binaryCode, unaryCode } from '../op-codes.ts';
import type { CpuAddon, NativeContext } from './addon.ts';
import type { GuardedAllocation } from '../guarded-alloc.ts';
import { CpuMemory, type CpuBuffer } from './memory.ts';

type F32 = DeviceBuffer<'f32'>;
type I32 = DeviceBuffer<'i32'>;

const ISA_NAMES: Record<string, string> = {
  avx512: 'AVX-512 kernels',
  'avx512-simde': 'AVX-512 kernels under SIMDe emulation (not hardware)',
  avx2: 'AVX2+FMA kernels',
  neon: 'NEON kernels',
  portable: 'portable kernels',
};

/** The lazy description of a kernel's params for a length error. A factory on purpose: an arrow
 *  function bound to a name inside a method gets a runtime name-setting call under tsx (esbuild's
 *  keepNames: Object.defineProperty on every kernel call, a measurable part of a batch-1
 *  forward); the arrow returned here is anonymous. */
function describeParams(p: object, prefix = 'the params'): () => string {
  return () => `${prefix} ${JSON.stringify(p)}`;
}

export interface CpuBackendInfo {
  isa: string;
  threads: number;
  cpuModel: string;
}

export class CpuBackend implements Backend {
  readonly name = 'cpu';
  readonly device: string;
  readonly info: CpuBackendInfo;
  private readonly mem = new CpuMemory();
  private disposed = false;

  constructor(private readonly addon: CpuAddon, private readonly ctx: NativeContext, info: CpuBackendInfo) {
    this.info = info;
    const isaName = ISA_NAMES[info.isa] ?? `${info.isa} kernels`;
    this.device = `${info.cpuModel}, ${isaName}, ${info.threads} thread${info.threads === 1 ? '' : 's'}`;
  }

  /** A float32 buffer's array; `needed` (when given) is checked against its length. The
   *  description is built only when the check fails (it would cost more than the kernel). */
  private f32(kernel: string, name: string, buf: F32, needed?: number, what?: () => string): Float32Array {
    const data = this.mem.resolve(kernel, name, buf, 'f32');
    if (needed !== undefined && buf.length < needed) requireLength(kernel, name, buf, needed, what ? what() : 'the params');
    return data;
  }

  private i32(kernel: string, name: string, buf: I32, needed?: number, what?: () => string): Int32Array {
    const data = this.mem.resolve(kernel, name, buf, 'i32');
    if (needed !== undefined && buf.length < needed) requireLength(kernel, name, buf, needed, what ? what() : 'the params');
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
    this.mem.release(buf);
  }
  async flush(): Promise<void> {}
  stats(): BackendStats {
    return this.mem.stats();
  }
  /** Bytes of freed buffers kept for reuse (not part of the contract; tests and diagnostics). */
  pooledBytes(): number {
    return this.mem.pooled();
  }
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.mem.dispose();
    this.addon.destroyContext(this.ctx);
  }

  // ---- elementwise, copies, reductions ----
  // fill and copy are TypedArray.fill / set: V8's own memset / memmove.
  fill(out: DeviceBuffer, value: number): void {
    const data = this.mem.resolve('fill', 'out', out);
    checkFillValue(out.dtype, value);
    data.fill(value);
  }

  copy(src: DeviceBuffer, dst: DeviceBuffer, length: number, srcOffset = 0, dstOffset = 0): void {
    const s = this.mem.resolve('copy', 'src', src);
    const d = this.mem.resolve('copy', 'dst', dst);
    if (src.dtype !== dst.dtype) throw new Error(`copy: src is ${src.dtype} but dst is ${dst.dtype}`);
    requireRange('copy', 'src', srcOffset, length, src);
    requireRange('copy', 'dst', dstOffset, length, dst);
    if (s === d) d.copyWithin(dstOffset, srcOffset, srcOffset + length);
    else (d as Float32Array).set((s as Float32Array).subarray(srcOffset, srcOffset + length), dstOffset);
  }

  unary(op: UnaryOp, x: F32, out: F32): void {
    requireSameLength('unary', 'x', x, 'out', out);
    const code = unaryCode(op);
    this.addon.unary(this.ctx, code, this.f32('unary', 'x', x), this.f32('unary', 'out', out), out.length);
  }

  binary(op: BinaryOp, a: F32, b: F32, out: F32): void {
    requireSameLength('binary', 'a', a, 'out', out);
    requireSameLength('binary', 'b', b, 'out', out);
    const code = binaryCode(op);
    this.addon.binary(this.ctx, code, this.f32('binary', 'a', a), this.f32('binary', 'b', b), this.f32('binary', 'out', out), out.length);
  }

  scale(x: F32, alpha: number, beta: number, out: F32): void {
    requireSameLength('scale', 'x', x, 'out', out);
    this.addon.scale(this.ctx, this.f32('scale', 'x', x), alpha, beta, this.f32('scale', 'out', out), out.length);
  }

  axpy(alpha: number, x: F32, y: F32): void {
    requireSameLength('axpy', 'x', x, 'y', y);
    this.addon.axpy(this.ctx, alpha, this.f32('axpy', 'x', x), this.f32('axpy', 'y', y), y.length);
  }

  reluBackward(x: F32, dy: F32, dx: F32, accumulate = false): void {
    const k = 'reluBackward';
    requireSameLength(k, 'x', x, 'dx', dx);
    requireSameLength(k, 'dy', dy, 'dx', dx);
    this.addon.reluBackward(this.ctx, this.f32(k, 'x', x), this.f32(k, 'dy', dy), this.f32(k, 'dx', dx), dx.length, accumulate);
  }

  channelSum(x: F32, out: F32, layout: ChannelLayout, accumulate = false): void {
    const k = 'channelSum';
    const size = channelLayoutSize(k, layout);
    this.addon.channelSum(this.ctx, this.f32(k, 'x', x, size, () => 'the layout'), this.f32(k, 'out', out, layout.channels, () => 'channels'),
      layout.outer, layout.channels, layout.inner, accumulate);
  }

  argmax(x: F32, out: I32, rows: number, cols: number): void {
    const k = 'argmax';
    requirePositiveInt(k, 'rows', rows);
    requirePositiveInt(k, 'cols', cols);
    this.addon.argmax(this.ctx, this.f32(k, 'x', x, rows * cols, () => 'rows·cols'), this.i32(k, 'out', out, rows, () => 'rows'), rows, cols);
  }

  countEqual(a: I32, b: I32, out: F32, accumulate = false): void {
    const k = 'countEqual';
    requireSameLength(k, 'b', b, 'a', a);
    this.addon.countEqual(this.ctx, this.i32(k, 'a', a), this.i32(k, 'b', b), this.f32(k, 'out', out, 1, () => 'the count'), a.length, accumulate);
  }

  // ---- dense layers ----
  matmul(a: F32, b: F32, bias: F32 | null, out: F32, p: MatmulParams): void {
    const k = 'matmul';
    const size = matmulSizes(p);
    const act = isRelu(k, p.activation);
    const what = describeParams(p);
    this.addon.matmul(this.ctx, this.f32(k, 'a', a, size.a, what), this.f32(k, 'b', b, size.b, what),
      bias ? this.f32(k, 'bias', bias, size.bias, () => 'n') : null, this.f32(k, 'out', out, size.out, what),
      p.m, p.n, p.k, p.transA, p.transB, p.accumulate ?? false, act);
  }

  /** A buffer the kernel only reads, so its stamp stays: the kernel may reuse what it derived from
   *  it while it is unchanged (Winograd's transformed filters at inference, the fused first
   *  layer's input moments from its forward to its backward). */
  private readOnlyF32(k: string, name: string, buf: F32, length: number, what: () => string): Float32Array {
    const data = this.mem.resolveForRead(k, name, buf, 'f32');
    if (buf.length < length) requireLength(k, name, buf, length, what());
    return data;
  }

  /** A forward convolution's weights (read only: see readOnlyF32). */
  private convWeights(k: string, w: F32, length: number, what: () => string): Float32Array {
    return this.readOnlyF32(k, 'w', w, length, what);
  }

  conv2d(x: F32, w: F32, bias: F32 | null, out: F32, p: Conv2dParams & { activation?: Activation }): void {
    const k = 'conv2d';
    const s = conv2dSizes(k, p);
    const act = isRelu(k, p.activation);
    const what = describeParams(p);
    const wData = this.convWeights(k, w, s.w, what);
    this.addon.conv2d(this.ctx, this.f32(k, 'x', x, s.x, what), wData,
      bias ? this.f32(k, 'bias', bias, s.bias, () => 'cOut') : null, this.f32(k, 'out', out, s.out, what),
      p.n, p.cIn, p.h, p.w, p.cOut, p.kh, p.kw, p.stride, p.pad, act, (w as CpuBuffer).stamp);
  }

  conv2dMaxPool(x: F32, w: F32, bias: F32 | null, out: F32, p: Conv2dMaxPoolParams): void {
    const k = 'conv2dMaxPool';
    const s = conv2dMaxPoolSizes(k, p);
    const act = isRelu(k, p.activation);
    const what = describeParams(p);
    const wData = this.convWeights(k, w, s.w, what);
    this.addon.conv2dMaxPool(this.ctx, this.f32(k, 'x', x, s.x, what), wData,
      bias ? this.f32(k, 'bias', bias, s.bias, () => 'cOut') : null, this.f32(k, 'out', out, s.out, describeParams(p, 'the pooled size for the params')),
      p.n, p.cIn, p.h, p.w, p.cOut, p.kh, p.kw, p.stride, p.pad, act, p.poolKh, p.poolKw, p.poolStride, (w as CpuBuffer).stamp);
  }

  conv2dBackwardInput(dy: F32, w: F32, dx: F32, p: Conv2dParams, accumulate = false): void {
    const k = 'conv2dBackwardInput';
    const s = conv2dSizes(k, p);
    const what = describeParams(p);
    this.addon.conv2dBackwardInput(this.ctx, this.f32(k, 'dy', dy, s.out, what), this.f32(k, 'w', w, s.w, what),
      this.f32(k, 'dx', dx, s.x, what), p.n, p.cIn, p.h, p.w, p.cOut, p.kh, p.kw, p.stride, p.pad, accumulate);
  }

  conv2dBackwardWeight(x: F32, dy: F32, dw: F32, db: F32 | null, p: Conv2dParams, accumulate = false): void {
    const k = 'conv2dBackwardWeight';
    const s = conv2dSizes(k, p);
    const what = describeParams(p);
    this.addon.conv2dBackwardWeight(this.ctx, this.f32(k, 'x', x, s.x, what), this.f32(k, 'dy', dy, s.out, what),
      this.f32(k, 'dw', dw, s.w, what), db ? this.f32(k, 'db', db, s.bias, () => 'cOut') : null,
      p.n, p.cIn, p.h, p.w, p.cOut, p.kh, p.kw, p.stride, p.pad, accumulate);
  }

  // ---- normalisation ----
  batchNormTrain(
    x: F32, gamma: F32, beta: F32, runningMean: F32, runningVar: F32, out: F32, saveMean: F32, saveInvStd: F32, p: BatchNormParams,
  ): void {
    const k = 'batchNormTrain';
    const s = batchNormSizes(k, p, true);
    const act = isRelu(k, p.activation);
    const what = describeParams(p, 'n·c·spatial for');
    const c = (): string => 'c';
    this.addon.batchNormTrain(this.ctx, this.f32(k, 'x', x, s.x, what), this.f32(k, 'gamma', gamma, s.c, c),
      this.f32(k, 'beta', beta, s.c, c), this.f32(k, 'runningMean', runningMean, s.c, c),
      this.f32(k, 'runningVar', runningVar, s.c, c), this.f32(k, 'out', out, s.x, what),
      this.f32(k, 'saveMean', saveMean, s.c, c), this.f32(k, 'saveInvStd', saveInvStd, s.c, c),
      p.n, p.c, p.spatial, p.eps, p.momentum, act);
  }

  batchNormInference(x: F32, gamma: F32, beta: F32, runningMean: F32, runningVar: F32, out: F32, p: BatchNormParams): void {
    const k = 'batchNormInference';
    const s = batchNormSizes(k, p, false);
    const act = isRelu(k, p.activation);
    const what = describeParams(p, 'n·c·spatial for');
    const c = (): string => 'c';
    this.addon.batchNormInference(this.ctx, this.f32(k, 'x', x, s.x, what), this.f32(k, 'gamma', gamma, s.c, c),
      this.f32(k, 'beta', beta, s.c, c), this.f32(k, 'runningMean', runningMean, s.c, c),
      this.f32(k, 'runningVar', runningVar, s.c, c), this.f32(k, 'out', out, s.x, what), p.n, p.c, p.spatial, p.eps, act);
  }

  batchNormBackward(
    x: F32, dy: F32, gamma: F32, saveMean: F32, saveInvStd: F32, dx: F32, dgamma: F32, dbeta: F32, p: BatchNormParams, accumulate = false,
  ): void {
    const k = 'batchNormBackward';
    const s = batchNormSizes(k, p, false);
    const what = describeParams(p, 'n·c·spatial for');
    const c = (): string => 'c';
    this.addon.batchNormBackward(this.ctx, this.f32(k, 'x', x, s.x, what), this.f32(k, 'dy', dy, s.x, what),
      this.f32(k, 'gamma', gamma, s.c, c), this.f32(k, 'saveMean', saveMean, s.c, c),
      this.f32(k, 'saveInvStd', saveInvStd, s.c, c), this.f32(k, 'dx', dx, s.x, what),
      this.f32(k, 'dgamma', dgamma, s.c, c), this.f32(k, 'dbeta', dbeta, s.c, c), p.n, p.c, p.spatial, accumulate);
  }

  // ---- fused batch norm → activation → max pool ----
  batchNormMaxPoolTrain(
    x: F32, gamma: F32, beta: F32, runningMean: F32, runningVar: F32, out: F32, argmax: I32, saveMean: F32, saveInvStd: F32,
    p: BatchNormMaxPoolParams,
  ): void {
    const k = 'batchNormMaxPoolTrain';
    const s = batchNormMaxPoolSizes(k, p, true);
    const what = describeParams(p);
    const c = (): string => 'c';
    this.addon.batchNormMaxPoolTrain(this.ctx, this.f32(k, 'x', x, s.x, what), this.f32(k, 'gamma', gamma, s.c, c),
      this.f32(k, 'beta', beta, s.c, c), this.f32(k, 'runningMean', runningMean, s.c, c),
      this.f32(k, 'runningVar', runningVar, s.c, c), this.f32(k, 'out', out, s.out, what),
      this.i32(k, 'argmax', argmax, s.out, what), this.f32(k, 'saveMean', saveMean, s.c, c),
      this.f32(k, 'saveInvStd', saveInvStd, s.c, c), p.n, p.c, p.h, p.w, p.kh, p.kw, p.stride, p.eps, p.momentum,
      isRelu(k, p.activation));
  }

  batchNormMaxPoolBackward(
    x: F32, out: F32, argmax: I32, dy: F32, gamma: F32, saveMean: F32, saveInvStd: F32, dx: F32, dgamma: F32, dbeta: F32,
    p: BatchNormMaxPoolParams, accumulate = false,
  ): void {
    const k = 'batchNormMaxPoolBackward';
    const s = batchNormMaxPoolSizes(k, p, false);
    const what = describeParams(p);
    const c = (): string => 'c';
    // (the kernel checks every argmax against the plane before it gathers or scatters by it)
    this.addon.batchNormMaxPoolBackward(this.ctx, this.f32(k, 'x', x, s.x, what), this.f32(k, 'out', out, s.out, what),
      this.i32(k, 'argmax', argmax, s.out, what),
      this.f32(k, 'dy', dy, s.out, what), this.f32(k, 'gamma', gamma, s.c, c), this.f32(k, 'saveMean', saveMean, s.c, c),
      this.f32(k, 'saveInvStd', saveInvStd, s.c, c), this.f32(k, 'dx', dx, s.x, what), this.f32(k, 'dgamma', dgamma, s.c, c),
      this.f32(k, 'dbeta', dbeta, s.c, c), p.n, p.c, p.h, p.w, p.kh, p.kw, p.stride, isRelu(k, p.activation), accumulate);
  }

  // ---- fused convolution → batch norm → activation → max pool (training, input without gradient) ----
  fusesConvBatchNormMaxPool(p: ConvBatchNormMaxPoolParams): boolean {
    return this.addon.convBatchNormMaxPoolApplies(this.ctx, p.n, p.cIn, p.h, p.w, p.cOut, p.kh, p.kw, p.stride, p.pad);
  }

  convBatchNormMaxPoolTrain(
    x: F32, w: F32, bias: F32 | null, gamma: F32, beta: F32, runningMean: F32, runningVar: F32, out: F32, argmax: I32,
    saveMean: F32, saveInvStd: F32, p: ConvBatchNormMaxPoolParams,
  ): void {
    const k = 'convBatchNormMaxPoolTrain';
    const s = convBatchNormMaxPoolSizes(k, p, true);
    const what = describeParams(p);
    const c = (): string => 'cOut';
    const ran = this.addon.convBatchNormMaxPoolTrain(this.ctx, this.readOnlyF32(k, 'x', x, s.x, what), this.f32(k, 'w', w, s.w, what),
      bias ? this.f32(k, 'bias', bias, s.bias, c) : null, this.f32(k, 'gamma', gamma, s.c, c), this.f32(k, 'beta', beta, s.c, c),
      this.f32(k, 'runningMean', runningMean, s.c, c), this.f32(k, 'runningVar', runningVar, s.c, c),
      this.f32(k, 'out', out, s.out, what), this.i32(k, 'argmax', argmax, s.out, what), this.f32(k, 'saveMean', saveMean, s.c, c),
      this.f32(k, 'saveInvStd', saveInvStd, s.c, c), p.n, p.cIn, p.h, p.w, p.cOut, p.kh, p.kw, p.stride, p.pad,
      p.poolKh, p.poolKw, p.poolStride, p.eps, p.momentum, isRelu(k, p.activation), (x as CpuBuffer).stamp);
    if (!ran) composeConvBatchNormMaxPoolTrain(this, x, w, bias, gamma, beta, runningMean, runningVar, out, argmax, saveMean, saveInvStd, p);
  }

  convBatchNormMaxPoolBackward(
    x: F32, w: F32, bias: F32 | null, out: F32, argmax: I32, dy: F32, gamma: F32, beta: F32, saveMean: F32, saveInvStd: F32,
    dw: F32, dgamma: F32, dbeta: F32, p: ConvBatchNormMaxPoolParams, accumulate = false,
  ): void {
    const k = 'convBatchNormMaxPoolBackward';
    const s = convBatchNormMaxPoolSizes(k, p, false);
    const what = describeParams(p);
    const c = (): string => 'cOut';
    // (the kernel checks every argmax against the plane before it gathers or scatters by it)
    const ran = this.addon.convBatchNormMaxPoolBackward(this.ctx, this.readOnlyF32(k, 'x', x, s.x, what), this.f32(k, 'w', w, s.w, what),
      bias ? this.f32(k, 'bias', bias, s.bias, c) : null, this.f32(k, 'out', out, s.out, what),
      this.i32(k, 'argmax', argmax, s.out, what), this.f32(k, 'dy', dy, s.out, what), this.f32(k, 'gamma', gamma, s.c, c),
      this.f32(k, 'beta', beta, s.c, c), this.f32(k, 'saveMean', saveMean, s.c, c), this.f32(k, 'saveInvStd', saveInvStd, s.c, c),
      this.f32(k, 'dw', dw, s.w, what),
      this.f32(k, 'dgamma', dgamma, s.c, c), this.f32(k, 'dbeta', dbeta, s.c, c), p.n, p.cIn, p.h, p.w, p.cOut, p.kh, p.kw,
      p.stride, p.pad, p.poolKh, p.poolKw, p.poolStride, isRelu(k, p.activation), accumulate, (x as CpuBuffer).stamp);
    if (!ran) composeConvBatchNormMaxPoolBackward(this, x, w, bias, out, argmax, dy, gamma, beta, saveMean, saveInvStd, dw, dgamma, dbeta, p, accumulate);
  }

  // ---- pooling ----
  maxPool2d(x: F32, out: F32, argmax: I32, p: Pool2dParams): void {
    const k = 'maxPool2d';
    const s = pool2dSizes(k, p);
    const what = describeParams(p);
    this.addon.maxPool2d(this.ctx, this.f32(k, 'x', x, s.x, what), this.f32(k, 'out', out, s.out, what),
      this.i32(k, 'argmax', argmax, s.out, what), p.n, p.c, p.h, p.w, p.kh, p.kw, p.stride);
  }

  maxPool2dBackward(dy: F32, argmax: I32, dx: F32, p: Pool2dParams): void {
    const k = 'maxPool2dBackward';
    const s = pool2dSizes(k, p);
    const what = describeParams(p);
    this.addon.maxPool2dBackward(this.ctx, this.f32(k, 'dy', dy, s.out, what), this.i32(k, 'argmax', argmax, s.out, what),
      this.f32(k, 'dx', dx, s.x, what), p.n, p.c, p.h, p.w, p.kh, p.kw, p.stride);
  }

  avgPool2d(x: F32, out: F32, p: Pool2dParams): void {
    const k = 'avgPool2d';
    const s = pool2dSizes(k, p);
    const what = describeParams(p);
    this.addon.avgPool2d(this.ctx, this.f32(k, 'x', x, s.x, what), this.f32(k, 'out', out, s.out, what),
      p.n, p.c, p.h, p.w, p.kh, p.kw, p.stride);
  }

  avgPool2dBackward(dy: F32, dx: F32, p: Pool2dParams): void {
    const k = 'avgPool2dBackward';
    const s = pool2dSizes(k, p);
    const what = describeParams(p);
    this.addon.avgPool2dBackward(this.ctx, this.f32(k, 'dy', dy, s.out, what), this.f32(k, 'dx', dx, s.x, what),
      p.n, p.c, p.h, p.w, p.kh, p.kw, p.stride);
  }

  // ---- regularisation ----
  dropout(x: F32, out: F32, p: DropoutParams): void {
    const k = 'dropout';
    requireSameLength(k, 'x', x, 'out', out);
    checkDropoutParams(k, p, out.length);
    this.addon.dropout(this.ctx, this.f32(k, 'x', x), this.f32(k, 'out', out), out.length, p.p, p.seed >>> 0, p.step >>> 0, p.spatial, false);
  }

  dropoutBackward(dy: F32, dx: F32, p: DropoutParams, accumulate = false): void {
    const k = 'dropoutBackward';
    requireSameLength(k, 'dy', dy, 'dx', dx);
    checkDropoutParams(k, p, dx.length);
    this.addon.dropout(this.ctx, this.f32(k, 'dy', dy), this.f32(k, 'dx', dx), dx.length, p.p, p.seed >>> 0, p.step >>> 0, p.spatial, accumulate);
  }

  // ---- softmax and loss ----
  softmax(x: F32, out: F32, rows: number, cols: number): void {
    this.softmaxLike('softmax', x, out, rows, cols, false);
  }

  logSoftmax(x: F32, out: F32, rows: number, cols: number): void {
    this.softmaxLike('logSoftmax', x, out, rows, cols, true);
  }

  private softmaxLike(k: string, x: F32, out: F32, rows: number, cols: number, log: boolean): void {
    requirePositiveInt(k, 'rows', rows);
    requirePositiveInt(k, 'cols', cols);
    const what = (): string => 'rows·cols';
    this.addon.softmax(this.ctx, this.f32(k, 'x', x, rows * cols, what), this.f32(k, 'out', out, rows * cols, what), rows, cols, log);
  }

  softmaxCrossEntropy(logits: F32, labels: I32, probs: F32, loss: F32, p: CrossEntropyParams): void {
    const k = 'softmaxCrossEntropy';
    const s = crossEntropySizes(k, p);
    this.addon.softmaxCrossEntropy(this.ctx, this.f32(k, 'logits', logits, s.logits, () => 'rows·cols'),
      this.i32(k, 'labels', labels, s.labels, () => 'rows'),
      this.f32(k, 'probs', probs, s.logits, () => 'rows·cols'), this.f32(k, 'loss', loss, 1, () => 'the loss'),
      p.rows, p.cols, p.labelSmoothing);
  }

  softmaxCrossEntropyBackward(probs: F32, labels: I32, dloss: F32, dlogits: F32, p: CrossEntropyParams, accumulate = false): void {
    const k = 'softmaxCrossEntropyBackward';
    const s = crossEntropySizes(k, p);
    this.addon.softmaxCrossEntropyBackward(this.ctx, this.f32(k, 'probs', probs, s.logits, () => 'rows·cols'),
      this.i32(k, 'labels', labels, s.labels, () => 'rows'), this.f32(k, 'dloss', dloss, 1, () => 'the loss gradient'),
      this.f32(k, 'dlogits', dlogits, s.logits, () => 'rows·cols'), p.rows, p.cols, p.labelSmoothing, accumulate);
  }

  // ---- optimizer updates ----
  sgdStep(param: F32, grad: F32, velocity: F32 | null, p: SgdParams): void {
    const k = 'sgdStep';
    checkSgdStep(param, grad, velocity, p);
    this.addon.sgdStep(this.ctx, this.f32(k, 'param', param), this.f32(k, 'grad', grad),
      velocity ? this.f32(k, 'velocity', velocity) : null, param.length, p.lr, p.momentum, p.dampening, p.nesterov, p.weightDecay);
  }

  adamStep(param: F32, grad: F32, m: F32, v: F32, p: AdamParams): void {
    const k = 'adamStep';
    checkAdamStep(param, grad, m, v, p);
    this.addon.adamStep(this.ctx, this.f32(k, 'param', param), this.f32(k, 'grad', grad), this.f32(k, 'm', m),
      this.f32(k, 'v', v), param.length, p.lr, p.beta1, p.beta2, p.eps, p.weightDecay, p.decoupled, p.step);
  }

  // ---- machine limits for bench:kernels (not part of the contract) ----
  peakFmaGflops(threads: number, seconds = 0.3): number {
    return this.addon.peakFmaGflops(this.ctx, threads, seconds);
  }
  triadGBps(threads: number, seconds = 0.5): number {
    return this.addon.triadGBps(this.ctx, threads, seconds);
  }
}
