// The WebGPU implementation of the Backend contract (src/nn/backend.ts). Memory management and
// the small kernels live here; the GEMM family is in ops-dense.ts and the layer kernels in
// ops-layers.ts. Every kernel only encodes work (runtime.ts batches it); `download` and
// `flush` are the only places that wait for the GPU.
import type {
  Activation, AdamParams, Backend, BackendStats, BatchNormMaxPoolParams, BatchNormParams, BinaryOp, ChannelLayout, Conv2dMaxPoolParams, Conv2dParams,
  ConvBatchNormMaxPoolParams, CrossEntropyParams, DeviceBuffer, DropoutParams, DType, HostArray, MatmulParams, Pool2dParams, SgdParams, UnaryOp,
} from '../../backend.ts';
import {
  batchNormSizes, channelLayoutSize, checkAdamStep, checkDropoutParams, checkSgdStep, checkUpload, conv2dSizes, crossEntropySizes, downloadLength,
  checkFillValue, isRelu, matmulSizes, pool2dSizes, requireLength, requirePositiveInt, requireRange, requireSameLength,
} from '../validate.ts';
import { binaryCode, unaryCode } from '../op-codes.ts';
import {
  composeBatchNormMaxPoolBackward, composeBatchNormMaxPoolTrain, composeConv2dMaxPool, composeConvBatchNormMaxPoolBackward, composeConvBatchNormMaxPoolTrain,
} from '../compose.ts';
import type { GpuContext } from './device.ts';
import { checkGuardArgs, type GuardedAllocation } from '../guarded-alloc.ts';
import { WebgpuBuffer } from './buffers.ts';
import { grid1d, Runtime } from './runtime.ts';
import { GpuProfiler, type GpuTiming } from './profiler.ts';
import * as dense from './ops-dense.ts';
import * as layers from './ops-layers.ts';

/** requireLength for a list of [name, buffer, needed, what]; the same messages as ref. */
function lengths(kernel: string, checks: [string, DeviceBuffer | null, number, string][]): void {
  for (const [name, buf, needed, what] of checks) if (buf) requireLength(kernel, name, buf, needed, what);
}

export class WebgpuBackend implements Backend {
  readonly name = 'webgpu';
  readonly device: string;
  readonly rt: Runtime;
  private readonly live = new Set<WebgpuBuffer>();
  private liveBytes = 0;
  private profiler: GpuProfiler | null = null;
  private disposed = false;

  constructor(readonly ctx: GpuContext) {
    this.rt = new Runtime(ctx);
    this.device = `WebGPU on ${ctx.description}`;
  }

  /** Our buffer, still alive; anything else is a caller bug worth a clear message. */
  private b<D extends DType>(buf: DeviceBuffer<D>, what = 'buffer', dtype?: DType): WebgpuBuffer<D> {
    if (!(buf instanceof WebgpuBuffer) || buf.owner !== this.rt) {
      throw new Error(`webgpu: ${what} does not belong to this backend (was it allocated by another backend?)`);
    }
    if (buf.freed) throw new Error(`webgpu: ${what} was used after free()`);
    if (dtype && buf.dtype !== dtype) throw new Error(`webgpu: ${what} must be ${dtype}, got ${buf.dtype}`);
    return buf as WebgpuBuffer<D>;
  }

  private ensureAlive(): void {
    if (this.disposed) throw new Error('webgpu: backend used after dispose()');
  }

  // ---- memory ----

  alloc<D extends DType = 'f32'>(length: number, dtype?: D): DeviceBuffer<D> {
    this.ensureAlive();
    if (!Number.isInteger(length) || length < 0) throw new Error(`webgpu alloc: length must be a non-negative integer, got ${length}`);
    const type = (dtype ?? 'f32') as D;
    const limit = this.rt.device.limits.maxStorageBufferBindingSize;
    if (length * 4 > limit) {
      throw new Error(`webgpu alloc: ${length} elements (${length * 4} bytes) exceed this adapter's largest storage binding ` +
        `(${limit} bytes, ${this.ctx.description}); use a smaller batch or another backend`);
    }
    const buf = new WebgpuBuffer<D>(length, type, this.rt.storage.acquire(Math.max(4, length * 4)), this.rt);
    this.live.add(buf);
    this.liveBytes += length * 4;
    return buf;
  }

  /** Test hook for the conformance guards (../guarded-alloc.ts): the buffer binds at an offset of
   *  `guard`·4 bytes into its region's GPU buffer (256-byte aligned for guard = 64). */
  allocGuarded<D extends DType>(length: number, dtype: D, guard: number): GuardedAllocation<D> {
    checkGuardArgs('allocGuarded', length, guard);
    const align = this.rt.device.limits.minStorageBufferOffsetAlignment;
    if ((guard * 4) % align !== 0) throw new Error(`webgpu allocGuarded: ${guard} guard elements are not a multiple of the ${align}-byte binding alignment`);
    const region = this.alloc(length + 2 * guard, dtype) as WebgpuBuffer<D>;
    const buffer = new WebgpuBuffer<D>(length, dtype, region.gpu, this.rt, guard * 4);
    this.live.add(buffer);
    this.liveBytes += length * 4;
    return { buffer, region, guard };
  }

  upload<D extends DType>(buf: DeviceBuffer<D>, data: HostArray<D>, offset = 0): void {
    const b = this.b(buf);
    checkUpload(buf, data, offset);
    if (data.length === 0) return;
    // queue.writeBuffer runs at queue time: earlier dispatches still in the encoder must be
    // submitted first, or they would see the new contents.
    this.rt.submit();
    this.rt.device.queue.writeBuffer(b.gpu, b.byteOffset + offset * 4, data.buffer, data.byteOffset, data.byteLength);
  }

  async download<D extends DType>(buf: DeviceBuffer<D>, offset = 0, length?: number): Promise<HostArray<D>> {
    const b = this.b(buf);
    const count = downloadLength(b, offset, length);
    const make = (data: ArrayBuffer) => (b.dtype === 'i32' ? new Int32Array(data) : new Float32Array(data)) as HostArray<D>;
    if (count === 0) {
      this.rt.throwIfErrors();
      return make(new ArrayBuffer(0));
    }
    const bytes = count * 4;
    const staging = this.rt.staging.acquire(bytes);
    this.rt.copyBytes(b.gpu, b.byteOffset + offset * 4, staging, 0, bytes);
    this.rt.submit();
    try {
      await staging.mapAsync(GPUMapMode.READ, 0, bytes);
      const data = staging.getMappedRange(0, bytes).slice(0);
      staging.unmap();
      this.rt.throwIfErrors();
      return make(data);
    } finally {
      this.rt.staging.release(staging);
    }
  }

  /** As on every backend, freeing a buffer twice (or after dispose) is a caller bug and throws. */
  free(buf: DeviceBuffer): void {
    this.ensureAlive();
    const b = this.b(buf, 'free: buf');
    b.freed = true;
    this.live.delete(b);
    this.liveBytes -= b.length * 4;
    if (!b.isView) this.rt.storage.release(b.gpu);
  }

  async flush(): Promise<void> {
    this.ensureAlive();
    this.rt.submit();
    await this.rt.device.queue.onSubmittedWorkDone();
    this.rt.throwIfErrors();
  }

  stats(): BackendStats {
    return { buffers: this.live.size, bytes: this.liveBytes };
  }

  dispose(): void {
    if (this.disposed) return;
    this.rt.submit();
    this.profiler?.destroy();
    for (const buf of this.live) buf.freed = true;
    this.live.clear();
    this.liveBytes = 0;
    this.rt.destroy();
    this.disposed = true;
    // The device and pipeline cache are process-wide (device.ts) and stay for the next backend.
  }

  // ---- GPU timing (not part of the contract; used by bench/) ----

  get hasGpuTimer(): boolean {
    return this.ctx.hasTimestamps;
  }

  /** GPU time of every kernel `fn` enqueues, from timestamp queries; null without the feature. */
  async gpuTime(fn: () => void): Promise<GpuTiming | null> {
    this.ensureAlive();
    if (!this.ctx.hasTimestamps) return null;
    if (!this.profiler) this.profiler = new GpuProfiler(this.rt);
    return this.profiler.time(fn);
  }

  // ---- elementwise, copies, reductions ----

  fill(out: DeviceBuffer, value: number): void {
    const o = this.b(out, 'out');
    checkFillValue(o.dtype, value);
    if (o.length === 0) return;
    if (value === 0 && !Object.is(value, -0)) {
      this.rt.clearBytes(o.gpu, o.byteOffset, o.length * 4);
      return;
    }
    const bits = o.dtype === 'i32' ? value | 0 : new Uint32Array(new Float32Array([value]).buffer)[0];
    this.rt.dispatch({
      file: 'elementwise.wgsl', entry: 'fill', uniforms: [['u', o.length], ['u', bits >>> 0]],
      bindings: [{ buf: o, write: true }], workgroups: grid1d(o.length, 256),
    });
  }

  copy(src: DeviceBuffer, dst: DeviceBuffer, length: number, srcOffset = 0, dstOffset = 0): void {
    const s = this.b(src, 'src');
    const d = this.b(dst, 'dst');
    if (s.dtype !== d.dtype) throw new Error(`copy: src is ${s.dtype} but dst is ${d.dtype}`);
    requireRange('copy', 'src', srcOffset, length, s);
    requireRange('copy', 'dst', dstOffset, length, d);
    if (length === 0) return;
    if (s.gpu === d.gpu) {
      // copyBufferToBuffer refuses a buffer as its own source and destination: go through a temp.
      const tmp = this.rt.temp(length);
      this.rt.copyBytes(s.gpu, s.byteOffset + srcOffset * 4, tmp.gpu, 0, length * 4);
      this.rt.copyBytes(tmp.gpu, 0, d.gpu, d.byteOffset + dstOffset * 4, length * 4);
      this.rt.releaseTemp(tmp);
      return;
    }
    this.rt.copyBytes(s.gpu, s.byteOffset + srcOffset * 4, d.gpu, d.byteOffset + dstOffset * 4, length * 4);
  }

  /** Elementwise dispatch over n elements, as vec4s when n is a multiple of 4. */
  private elementwise(entry: string, n: number, defines: Record<string, boolean | number>, extra: ['f', number][], bindings: { buf: WebgpuBuffer; write?: boolean }[]): void {
    if (n === 0) return;
    const vec4 = n % 4 === 0;
    const count = vec4 ? n / 4 : n;
    this.rt.dispatch({
      file: 'elementwise.wgsl', entry, defines: { ...defines, VEC4: vec4 },
      uniforms: [['u', count], ...extra], bindings, workgroups: grid1d(count, 256),
    });
  }

  unary(op: UnaryOp, x: DeviceBuffer<'f32'>, out: DeviceBuffer<'f32'>): void {
    const o = this.b(out, 'out', 'f32');
    requireSameLength('unary', 'x', x, 'out', out);
    this.elementwise('unary', o.length, { OP: unaryCode(op) }, [], [{ buf: this.b(x, 'x', 'f32') }, { buf: o, write: true }]);
  }

  binary(op: BinaryOp, a: DeviceBuffer<'f32'>, b: DeviceBuffer<'f32'>, out: DeviceBuffer<'f32'>): void {
    const o = this.b(out, 'out', 'f32');
    requireSameLength('binary', 'a', a, 'out', out);
    requireSameLength('binary', 'b', b, 'out', out);
    this.elementwise('binary', o.length, { OP: binaryCode(op) }, [], [{ buf: this.b(a, 'a', 'f32') }, { buf: this.b(b, 'b', 'f32') }, { buf: o, write: true }]);
  }

  scale(x: DeviceBuffer<'f32'>, alpha: number, beta: number, out: DeviceBuffer<'f32'>): void {
    const xb = this.b(x, 'x', 'f32');
    const o = this.b(out, 'out', 'f32');
    requireSameLength('scale', 'x', x, 'out', out);
    const inPlace = xb.gpu === o.gpu && xb.byteOffset === o.byteOffset;
    const bindings = inPlace ? [{ buf: o, write: true }] : [{ buf: xb }, { buf: o, write: true }];
    this.elementwise('scale', o.length, { IN_PLACE: inPlace }, [['f', alpha], ['f', beta]], bindings);
  }

  axpy(alpha: number, x: DeviceBuffer<'f32'>, y: DeviceBuffer<'f32'>): void {
    const yb = this.b(y, 'y', 'f32');
    requireSameLength('axpy', 'x', x, 'y', y);
    this.elementwise('axpy', yb.length, {}, [['f', alpha]], [{ buf: this.b(x, 'x', 'f32') }, { buf: yb, write: true }]);
  }

  reluBackward(x: DeviceBuffer<'f32'>, dy: DeviceBuffer<'f32'>, dx: DeviceBuffer<'f32'>, accumulate = false): void {
    const d = this.b(dx, 'dx', 'f32');
    requireSameLength('reluBackward', 'x', x, 'dx', dx);
    requireSameLength('reluBackward', 'dy', dy, 'dx', dx);
    this.elementwise('relu_backward', d.length, { ACCUMULATE: accumulate }, [], [{ buf: this.b(x, 'x', 'f32') }, { buf: this.b(dy, 'dy', 'f32') }, { buf: d, write: true }]);
  }

  channelSum(x: DeviceBuffer<'f32'>, out: DeviceBuffer<'f32'>, layout: ChannelLayout, accumulate = false): void {
    const size = channelLayoutSize('channelSum', layout);
    lengths('channelSum', [['x', x, size, 'the layout'], ['out', out, layout.channels, 'channels']]);
    dense.channelSum(this.rt, this.b(x, 'x', 'f32'), this.b(out, 'out', 'f32'), layout, accumulate);
  }

  argmax(x: DeviceBuffer<'f32'>, out: DeviceBuffer<'i32'>, rows: number, cols: number): void {
    requirePositiveInt('argmax', 'rows', rows);
    requirePositiveInt('argmax', 'cols', cols);
    lengths('argmax', [['x', x, rows * cols, 'rows·cols'], ['out', out, rows, 'rows']]);
    this.rt.dispatch({
      file: 'reduce.wgsl', entry: 'argmax', uniforms: [['u', rows], ['u', cols]],
      bindings: [{ buf: this.b(x, 'x', 'f32') }, { buf: this.b(out, 'out', 'i32'), write: true }], workgroups: grid1d(rows, 64),
    });
  }

  countEqual(a: DeviceBuffer<'i32'>, b: DeviceBuffer<'i32'>, out: DeviceBuffer<'f32'>, accumulate = false): void {
    const ab = this.b(a, 'a', 'i32');
    requireSameLength('countEqual', 'b', b, 'a', a);
    lengths('countEqual', [['out', out, 1, 'the count']]);
    if (ab.length === 0) {
      if (!accumulate) this.fill(out, 0);
      return;
    }
    this.rt.dispatch({
      file: 'reduce.wgsl', entry: 'count_equal', defines: { ACCUMULATE: accumulate }, uniforms: [['u', ab.length]],
      bindings: [{ buf: ab }, { buf: this.b(b, 'b', 'i32') }, { buf: this.b(out, 'out', 'f32'), write: true }], workgroups: [1, 1, 1],
    });
  }

  // ---- dense layers ----

  matmul(a: DeviceBuffer<'f32'>, b: DeviceBuffer<'f32'>, bias: DeviceBuffer<'f32'> | null, out: DeviceBuffer<'f32'>, p: MatmulParams): void {
    const size = matmulSizes(p);
    isRelu('matmul', p.activation);
    const js = JSON.stringify(p);
    lengths('matmul', [['a', a, size.a, `m·k for ${js}`], ['b', b, size.b, `k·n for ${js}`], ['bias', bias, size.bias, 'n'], ['out', out, size.out, `m·n for ${js}`]]);
    dense.matmul(this.rt, this.b(a, 'a', 'f32'), this.b(b, 'b', 'f32'), bias ? this.b(bias, 'bias', 'f32') : null, this.b(out, 'out', 'f32'), p);
  }

  conv2d(x: DeviceBuffer<'f32'>, w: DeviceBuffer<'f32'>, bias: DeviceBuffer<'f32'> | null, out: DeviceBuffer<'f32'>, p: Conv2dParams & { activation?: Activation }): void {
    const k = 'conv2d';
    const s = conv2dSizes(k, p);
    isRelu(k, p.activation);
    const what = `the params ${JSON.stringify(p)}`;
    lengths(k, [['x', x, s.x, what], ['w', w, s.w, what], ['bias', bias, s.bias, 'cOut'], ['out', out, s.out, what]]);
    dense.conv2d(this.rt, this.b(x, 'x', 'f32'), this.b(w, 'w', 'f32'), bias ? this.b(bias, 'bias', 'f32') : null, this.b(out, 'out', 'f32'), p);
  }

  conv2dBackwardInput(dy: DeviceBuffer<'f32'>, w: DeviceBuffer<'f32'>, dx: DeviceBuffer<'f32'>, p: Conv2dParams, accumulate = false): void {
    const k = 'conv2dBackwardInput';
    const s = conv2dSizes(k, p);
    const what = `the params ${JSON.stringify(p)}`;
    lengths(k, [['dy', dy, s.out, what], ['w', w, s.w, what], ['dx', dx, s.x, what]]);
    dense.conv2dBackwardInput(this.rt, this.b(dy, 'dy', 'f32'), this.b(w, 'w', 'f32'), this.b(dx, 'dx', 'f32'), p, accumulate);
  }

  conv2dBackwardWeight(x: DeviceBuffer<'f32'>, dy: DeviceBuffer<'f32'>, dw: DeviceBuffer<'f32'>, db: DeviceBuffer<'f32'> | null, p: Conv2dParams, accumulate = false): void {
    const k = 'conv2dBackwardWeight';
    const s = conv2dSizes(k, p);
    const what = `the params ${JSON.stringify(p)}`;
    lengths(k, [['x', x, s.x, what], ['dy', dy, s.out, what], ['dw', dw, s.w, what], ['db', db, s.bias, 'cOut']]);
    dense.conv2dBackwardWeight(this.rt, this.b(x, 'x', 'f32'), this.b(dy, 'dy', 'f32'), this.b(dw, 'dw', 'f32'), db ? this.b(db, 'db', 'f32') : null, p, accumulate);
  }

  // ---- normalisation ----

  batchNormTrain(
    x: DeviceBuffer<'f32'>, gamma: DeviceBuffer<'f32'>, beta: DeviceBuffer<'f32'>, runningMean: DeviceBuffer<'f32'>, runningVar: DeviceBuffer<'f32'>,
    out: DeviceBuffer<'f32'>, saveMean: DeviceBuffer<'f32'>, saveInvStd: DeviceBuffer<'f32'>, p: BatchNormParams,
  ): void {
    const k = 'batchNormTrain';
    const s = batchNormSizes(k, p, true);
    isRelu(k, p.activation);
    const what = `n·c·spatial for ${JSON.stringify(p)}`;
    lengths(k, [['x', x, s.x, what], ['gamma', gamma, s.c, 'c'], ['beta', beta, s.c, 'c'], ['runningMean', runningMean, s.c, 'c'],
      ['runningVar', runningVar, s.c, 'c'], ['out', out, s.x, what], ['saveMean', saveMean, s.c, 'c'], ['saveInvStd', saveInvStd, s.c, 'c']]);
    layers.batchNormTrain(this.rt, this.b(x, 'x', 'f32'), this.b(gamma, 'gamma', 'f32'), this.b(beta, 'beta', 'f32'), this.b(runningMean, 'runningMean', 'f32'), this.b(runningVar, 'runningVar', 'f32'), this.b(out, 'out', 'f32'), this.b(saveMean, 'saveMean', 'f32'), this.b(saveInvStd, 'saveInvStd', 'f32'), p);
  }

  batchNormInference(
    x: DeviceBuffer<'f32'>, gamma: DeviceBuffer<'f32'>, beta: DeviceBuffer<'f32'>, runningMean: DeviceBuffer<'f32'>, runningVar: DeviceBuffer<'f32'>,
    out: DeviceBuffer<'f32'>, p: BatchNormParams,
  ): void {
    const k = 'batchNormInference';
    const s = batchNormSizes(k, p, false);
    isRelu(k, p.activation);
    const what = `n·c·spatial for ${JSON.stringify(p)}`;
    lengths(k, [['x', x, s.x, what], ['gamma', gamma, s.c, 'c'], ['beta', beta, s.c, 'c'], ['runningMean', runningMean, s.c, 'c'],
      ['runningVar', runningVar, s.c, 'c'], ['out', out, s.x, what]]);
    layers.batchNormInference(this.rt, this.b(x, 'x', 'f32'), this.b(gamma, 'gamma', 'f32'), this.b(beta, 'beta', 'f32'), this.b(runningMean, 'runningMean', 'f32'), this.b(runningVar, 'runningVar', 'f32'), this.b(out, 'out', 'f32'), p);
  }

  batchNormBackward(
    x: DeviceBuffer<'f32'>, dy: DeviceBuffer<'f32'>, gamma: DeviceBuffer<'f32'>, saveMean: DeviceBuffer<'f32'>, saveInvStd: DeviceBuffer<'f32'>,
    dx: DeviceBuffer<'f32'>, dgamma: DeviceBuffer<'f32'>, dbeta: DeviceBuffer<'f32'>, p: BatchNormParams, accumulate = false,
  ): void {
    const k = 'batchNormBackward';
    const s = batchNormSizes(k, p, false);
    const what = `n·c·spatial for ${JSON.stringify(p)}`;
    lengths(k, [['x', x, s.x, what], ['dy', dy, s.x, what], ['gamma', gamma, s.c, 'c'], ['saveMean', saveMean, s.c, 'c'],
      ['saveInvStd', saveInvStd, s.c, 'c'], ['dx', dx, s.x, what], ['dgamma', dgamma, s.c, 'c'], ['dbeta', dbeta, s.c, 'c']]);
    layers.batchNormBackward(this.rt, this.b(x, 'x', 'f32'), this.b(dy, 'dy', 'f32'), this.b(gamma, 'gamma', 'f32'), this.b(saveMean, 'saveMean', 'f32'), this.b(saveInvStd, 'saveInvStd', 'f32'), this.b(dx, 'dx', 'f32'), this.b(dgamma, 'dgamma', 'f32'), this.b(dbeta, 'dbeta', 'f32'), p, accumulate);
  }

  // ---- fused convolution → activation → max pool (inference): the unfused kernels (../compose.ts) ----
  conv2dMaxPool(x: DeviceBuffer<'f32'>, w: DeviceBuffer<'f32'>, bias: DeviceBuffer<'f32'> | null, out: DeviceBuffer<'f32'>, p: Conv2dMaxPoolParams): void {
    composeConv2dMaxPool(this, x, w, bias, out, p);
  }

  // ---- fused batch norm → activation → max pool: the unfused kernels (../compose.ts) ----
  batchNormMaxPoolTrain(
    x: DeviceBuffer<'f32'>, gamma: DeviceBuffer<'f32'>, beta: DeviceBuffer<'f32'>, runningMean: DeviceBuffer<'f32'>, runningVar: DeviceBuffer<'f32'>, out: DeviceBuffer<'f32'>, argmax: DeviceBuffer<'i32'>,
    saveMean: DeviceBuffer<'f32'>, saveInvStd: DeviceBuffer<'f32'>, p: BatchNormMaxPoolParams,
  ): void {
    composeBatchNormMaxPoolTrain(this, x, gamma, beta, runningMean, runningVar, out, argmax, saveMean, saveInvStd, p);
  }

  batchNormMaxPoolBackward(
    x: DeviceBuffer<'f32'>, out: DeviceBuffer<'f32'>, argmax: DeviceBuffer<'i32'>, dy: DeviceBuffer<'f32'>, gamma: DeviceBuffer<'f32'>, saveMean: DeviceBuffer<'f32'>, saveInvStd: DeviceBuffer<'f32'>,
    dx: DeviceBuffer<'f32'>, dgamma: DeviceBuffer<'f32'>, dbeta: DeviceBuffer<'f32'>, p: BatchNormMaxPoolParams, accumulate = false,
  ): void {
    composeBatchNormMaxPoolBackward(this, x, out, argmax, dy, gamma, saveMean, saveInvStd, dx, dgamma, dbeta, p, accumulate);
  }

  // ---- fused convolution → batch norm → activation → max pool (training): the unfused kernels (../compose.ts) ----
  convBatchNormMaxPoolTrain(
    x: DeviceBuffer<'f32'>, w: DeviceBuffer<'f32'>, bias: DeviceBuffer<'f32'> | null, gamma: DeviceBuffer<'f32'>, beta: DeviceBuffer<'f32'>, runningMean: DeviceBuffer<'f32'>, runningVar: DeviceBuffer<'f32'>,
    out: DeviceBuffer<'f32'>, argmax: DeviceBuffer<'i32'>, saveMean: DeviceBuffer<'f32'>, saveInvStd: DeviceBuffer<'f32'>, p: ConvBatchNormMaxPoolParams,
  ): void {
    composeConvBatchNormMaxPoolTrain(this, x, w, bias, gamma, beta, runningMean, runningVar, out, argmax, saveMean, saveInvStd, p);
  }

  convBatchNormMaxPoolBackward(
    x: DeviceBuffer<'f32'>, w: DeviceBuffer<'f32'>, bias: DeviceBuffer<'f32'> | null, out: DeviceBuffer<'f32'>, argmax: DeviceBuffer<'i32'>, dy: DeviceBuffer<'f32'>,
    gamma: DeviceBuffer<'f32'>, beta: DeviceBuffer<'f32'>, saveMean: DeviceBuffer<'f32'>, saveInvStd: DeviceBuffer<'f32'>, dw: DeviceBuffer<'f32'>, dgamma: DeviceBuffer<'f32'>, dbeta: DeviceBuffer<'f32'>,
    p: ConvBatchNormMaxPoolParams, accumulate = false,
  ): void {
    composeConvBatchNormMaxPoolBackward(this, x, w, bias, out, argmax, dy, gamma, beta, saveMean, saveInvStd, dw, dgamma, dbeta, p, accumulate);
  }

  // ---- pooling ----

  maxPool2d(x: DeviceBuffer<'f32'>, out: DeviceBuffer<'f32'>, argmax: DeviceBuffer<'i32'>, p: Pool2dParams): void {
    const s = pool2dSizes('maxPool2d', p);
    const what = `the params ${JSON.stringify(p)}`;
    lengths('maxPool2d', [['x', x, s.x, what], ['out', out, s.out, what], ['argmax', argmax, s.out, what]]);
    layers.maxPool2d(this.rt, this.b(x, 'x', 'f32'), this.b(out, 'out', 'f32'), this.b(argmax, 'argmax', 'i32'), p);
  }

  maxPool2dBackward(dy: DeviceBuffer<'f32'>, argmax: DeviceBuffer<'i32'>, dx: DeviceBuffer<'f32'>, p: Pool2dParams): void {
    const s = pool2dSizes('maxPool2dBackward', p);
    const what = `the params ${JSON.stringify(p)}`;
    lengths('maxPool2dBackward', [['dy', dy, s.out, what], ['argmax', argmax, s.out, what], ['dx', dx, s.x, what]]);
    layers.maxPool2dBackward(this.rt, this.b(dy, 'dy', 'f32'), this.b(argmax, 'argmax', 'i32'), this.b(dx, 'dx', 'f32'), p);
  }

  avgPool2d(x: DeviceBuffer<'f32'>, out: DeviceBuffer<'f32'>, p: Pool2dParams): void {
    const s = pool2dSizes('avgPool2d', p);
    const what = `the params ${JSON.stringify(p)}`;
    lengths('avgPool2d', [['x', x, s.x, what], ['out', out, s.out, what]]);
    layers.avgPool2d(this.rt, this.b(x, 'x', 'f32'), this.b(out, 'out', 'f32'), p);
  }

  avgPool2dBackward(dy: DeviceBuffer<'f32'>, dx: DeviceBuffer<'f32'>, p: Pool2dParams): void {
    const s = pool2dSizes('avgPool2dBackward', p);
    const what = `the params ${JSON.stringify(p)}`;
    lengths('avgPool2dBackward', [['dy', dy, s.out, what], ['dx', dx, s.x, what]]);
    layers.avgPool2dBackward(this.rt, this.b(dy, 'dy', 'f32'), this.b(dx, 'dx', 'f32'), p);
  }

  // ---- regularisation ----

  dropout(x: DeviceBuffer<'f32'>, out: DeviceBuffer<'f32'>, p: DropoutParams): void {
    requireSameLength('dropout', 'x', x, 'out', out);
    checkDropoutParams('dropout', p, out.length);
    layers.dropout(this.rt, this.b(x, 'x', 'f32'), this.b(out, 'out', 'f32'), p);
  }

  dropoutBackward(dy: DeviceBuffer<'f32'>, dx: DeviceBuffer<'f32'>, p: DropoutParams, accumulate = false): void {
    requireSameLength('dropoutBackward', 'dy', dy, 'dx', dx);
    checkDropoutParams('dropoutBackward', p, dx.length);
    layers.dropoutBackward(this.rt, this.b(dy, 'dy', 'f32'), this.b(dx, 'dx', 'f32'), p, accumulate);
  }

  // ---- softmax and loss ----

  softmax(x: DeviceBuffer<'f32'>, out: DeviceBuffer<'f32'>, rows: number, cols: number): void {
    this.checkRows('softmax', x, out, rows, cols);
    layers.softmax(this.rt, this.b(x, 'x', 'f32'), this.b(out, 'out', 'f32'), rows, cols, false);
  }

  logSoftmax(x: DeviceBuffer<'f32'>, out: DeviceBuffer<'f32'>, rows: number, cols: number): void {
    this.checkRows('logSoftmax', x, out, rows, cols);
    layers.softmax(this.rt, this.b(x, 'x', 'f32'), this.b(out, 'out', 'f32'), rows, cols, true);
  }

  private checkRows(k: string, x: DeviceBuffer, out: DeviceBuffer, rows: number, cols: number): void {
    requirePositiveInt(k, 'rows', rows);
    requirePositiveInt(k, 'cols', cols);
    lengths(k, [['x', x, rows * cols, 'rows·cols'], ['out', out, rows * cols, 'rows·cols']]);
  }

  softmaxCrossEntropy(logits: DeviceBuffer<'f32'>, labels: DeviceBuffer<'i32'>, probs: DeviceBuffer<'f32'>, loss: DeviceBuffer<'f32'>, p: CrossEntropyParams): void {
    const k = 'softmaxCrossEntropy';
    const s = crossEntropySizes(k, p);
    lengths(k, [['logits', logits, s.logits, 'rows·cols'], ['labels', labels, s.labels, 'rows'], ['probs', probs, s.logits, 'rows·cols'], ['loss', loss, 1, 'the loss']]);
    layers.softmaxCrossEntropy(this.rt, this.b(logits, 'logits', 'f32'), this.b(labels, 'labels', 'i32'), this.b(probs, 'probs', 'f32'), this.b(loss, 'loss', 'f32'), p);
  }

  softmaxCrossEntropyBackward(
    probs: DeviceBuffer<'f32'>, labels: DeviceBuffer<'i32'>, dloss: DeviceBuffer<'f32'>, dlogits: DeviceBuffer<'f32'>, p: CrossEntropyParams, accumulate = false,
  ): void {
    const k = 'softmaxCrossEntropyBackward';
    const s = crossEntropySizes(k, p);
    lengths(k, [['probs', probs, s.logits, 'rows·cols'], ['labels', labels, s.labels, 'rows'], ['dloss', dloss, 1, 'the loss gradient'],
      ['dlogits', dlogits, s.logits, 'rows·cols']]);
    layers.softmaxCrossEntropyBackward(this.rt, this.b(probs, 'probs', 'f32'), this.b(labels, 'labels', 'i32'), this.b(dloss, 'dloss', 'f32'), this.b(dlogits, 'dlogits', 'f32'), p, accumulate);
  }

  // ---- optimizers ----

  sgdStep(param: DeviceBuffer<'f32'>, grad: DeviceBuffer<'f32'>, velocity: DeviceBuffer<'f32'> | null, p: SgdParams): void {
    checkSgdStep(param, grad, velocity, p);
    layers.sgdStep(this.rt, this.b(param, 'param', 'f32'), this.b(grad, 'grad', 'f32'), velocity ? this.b(velocity, 'velocity', 'f32') : null, p);
  }

  adamStep(param: DeviceBuffer<'f32'>, grad: DeviceBuffer<'f32'>, m: DeviceBuffer<'f32'>, v: DeviceBuffer<'f32'>, p: AdamParams): void {
    checkAdamStep(param, grad, m, v, p);
    layers.adamStep(this.rt, this.b(param, 'param', 'f32'), this.b(grad, 'grad', 'f32'), this.b(m, 'm', 'f32'), this.b(v, 'v', 'f32'), p);
  }
}
