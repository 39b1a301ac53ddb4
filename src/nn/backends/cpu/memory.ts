// Buffers of the cpu backend: typed arrays on pooled ArrayBuffers. The native kernels work on them
// in place (Node-API hands C++ the pointer; nothing is copied). Freed buffers go to a free list
// keyed by their size bucket, so a training step's temporaries, which have the same sizes every
// step, are reused instead of churning the allocator and the GC.
//
// alloc returns UNINITIALISED memory when it reuses a buffer (the contract promises nothing else;
// Tensor.zeros fills). Handles are checked on use: right backend, not freed, right dtype.

import type { BackendStats, DeviceBuffer, DType, HostArray } from '../../backend.ts';
import { checkGuardArgs, type GuardedAllocation } from '../guarded-alloc.ts';
import { checkUpload, downloadLength, requireNonNegativeInt } from '../validate.ts';

/** Stamps are unique across every buffer of the process and only grow (see CpuBuffer.stamp). */
let lastStamp = 0;

export class CpuBuffer<D extends DType = DType> implements DeviceBuffer<D> {
  readonly length: number;
  readonly dtype: D;
  /** null once freed. */
  data: HostArray<D> | null;
  readonly owner: CpuMemory;
  /** A guarded buffer's window into its region (../guarded-alloc.ts): freeing it pools nothing. */
  readonly view: boolean;
  /** A new value whenever the contents may have changed: at allocation and at every access
   *  through CpuMemory.resolve (kernels, uploads, fills, copies), except reads that say they
   *  only read (resolveForRead). So (pointer, stamp) identifies contents: the native side caches
   *  what it derives from constant weights (Winograd's transformed filters) under it. */
  stamp = ++lastStamp;

  constructor(owner: CpuMemory, length: number, dtype: D, data: HostArray<D>, view = false) {
    this.owner = owner;
    this.length = length;
    this.dtype = dtype;
    this.data = data;
    this.view = view;
  }
}

/** Buckets are 64-byte multiples up to 4 KiB, then 1/8-octave steps (at most 12.5% slack). */
export function bucketBytes(bytes: number): number {
  if (bytes <= 4096) return Math.max(64, Math.ceil(bytes / 64) * 64);
  const step = 2 ** (Math.floor(Math.log2(bytes)) - 3);
  return Math.ceil(bytes / step) * step;
}

/** Free buffers kept for reuse, in bytes, before further frees go back to the GC. */
const MAX_POOLED_BYTES = 512 * 1024 * 1024;

export class CpuMemory {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private pooledBytes = 0;
  private liveBuffers = 0;
  private liveBytes = 0;
  private disposed = false;
  private readonly live = new Set<CpuBuffer>();

  private checkAlive(kernel: string): void {
    if (this.disposed) throw new Error(`${kernel}: the cpu backend was disposed; create a new one`);
  }

  alloc<D extends DType>(length: number, dtype: D): CpuBuffer<D> {
    this.checkAlive('alloc');
    requireNonNegativeInt('alloc', 'length', length);
    if (dtype !== 'f32' && dtype !== 'i32') throw new Error(`alloc: dtype must be 'f32' or 'i32', got ${String(dtype)}`);
    const bucket = bucketBytes(length * 4);
    const list = this.free.get(bucket);
    let ab = list?.pop();
    if (ab) this.pooledBytes -= bucket;
    else ab = new ArrayBuffer(bucket);
    const data = (dtype === 'i32' ? new Int32Array(ab, 0, length) : new Float32Array(ab, 0, length)) as HostArray<D>;
    const buf = new CpuBuffer(this, length, dtype, data);
    this.live.add(buf);
    this.liveBuffers++;
    this.liveBytes += length * 4;
    return buf;
  }

  /** A buffer inside a region with `guard` elements on each side (see ../guarded-alloc.ts). The
   *  kernels get a pointer into the region, so a native write past the buffer lands in a guard. */
  allocGuarded<D extends DType>(length: number, dtype: D, guard: number): GuardedAllocation<D> {
    checkGuardArgs('allocGuarded', length, guard);
    const region = this.alloc(length + 2 * guard, dtype);
    const buffer = new CpuBuffer(this, length, dtype, region.data!.subarray(guard, guard + length) as HostArray<D>, true);
    this.live.add(buffer);
    this.liveBuffers++;
    this.liveBytes += length * 4;
    return { buffer, region, guard };
  }

  /** The typed array behind a handle, after checking it belongs here, is live and has the dtype.
   *  Marks the contents as possibly changed (a new stamp). A guarded view and its region are two
   *  handles on one memory: only the harness writes the region, and only its guards, outside the
   *  view, so the view's stamp still names the view's contents. */
  resolve<D extends DType>(kernel: string, name: string, buf: DeviceBuffer<D>, dtype?: D): HostArray<D> {
    const data = this.resolveForRead(kernel, name, buf, dtype);
    (buf as unknown as CpuBuffer).stamp = ++lastStamp; // resolveForRead checked that it is one
    return data;
  }

  /** resolve, for an access that only reads: the stamp stays (use it only where nothing can write). */
  resolveForRead<D extends DType>(kernel: string, name: string, buf: DeviceBuffer<D>, dtype?: D): HostArray<D> {
    if (!(buf instanceof CpuBuffer) || buf.owner !== this) {
      this.checkAlive(kernel);
      throw new Error(`${kernel}: ${name} is not a buffer of this cpu backend (buffers cannot cross backends)`);
    }
    const data = buf.data;
    if (!data) {
      this.checkAlive(kernel);
      throw new Error(`${kernel}: ${name} was used after free`);
    }
    if (dtype && buf.dtype !== dtype) throw new Error(`${kernel}: ${name} must be ${dtype}, got ${buf.dtype}`);
    return data as HostArray<D>;
  }

  upload<D extends DType>(buf: DeviceBuffer<D>, data: HostArray<D>, offset = 0): void {
    const dst = this.resolve('upload', 'buf', buf);
    checkUpload(buf, data, offset);
    dst.set(data, offset);
  }

  download<D extends DType>(buf: DeviceBuffer<D>, offset = 0, length?: number): HostArray<D> {
    const src = this.resolveForRead('download', 'buf', buf);
    const n = downloadLength(buf, offset, length);
    return src.slice(offset, offset + n) as HostArray<D>;
  }

  release(buf: DeviceBuffer): void {
    const data = this.resolve('free', 'buf', buf);
    const cpu = buf as CpuBuffer;
    cpu.data = null;
    this.live.delete(cpu);
    this.liveBuffers--;
    this.liveBytes -= cpu.length * 4;
    if (cpu.view) return;
    const bucket = data.buffer.byteLength;
    if (this.pooledBytes + bucket <= MAX_POOLED_BYTES) {
      let list = this.free.get(bucket);
      if (!list) this.free.set(bucket, (list = []));
      list.push(data.buffer as ArrayBuffer);
      this.pooledBytes += bucket;
    }
  }

  stats(): BackendStats {
    return { buffers: this.liveBuffers, bytes: this.liveBytes };
  }

  /** Bytes held in the free lists (for tests and diagnostics). */
  pooled(): number {
    return this.pooledBytes;
  }

  dispose(): void {
    for (const buf of this.live) buf.data = null;
    this.live.clear();
    this.free.clear();
    this.pooledBytes = 0;
    this.liveBuffers = 0;
    this.liveBytes = 0;
    this.disposed = true;
  }
}
