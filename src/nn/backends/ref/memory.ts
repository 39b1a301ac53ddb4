// Buffers of the ref backend: a JS typed array inside a handle. Handles are checked on every use
// (right backend, not freed, right dtype) so that tensor-layer lifetime bugs surface here as clear
// errors instead of silently reading stale memory.

import type { BackendStats, DeviceBuffer, DType, HostArray } from '../../backend.ts';
import { checkGuardArgs, type GuardedAllocation } from '../guarded-alloc.ts';
import { checkUpload, downloadLength, requireNonNegativeInt } from '../validate.ts';

export class RefBuffer<D extends DType = DType> implements DeviceBuffer<D> {
  readonly length: number;
  readonly dtype: D;
  /** null once freed. */
  data: HostArray<D> | null;
  readonly owner: RefMemory;

  /** `view`: an existing array to use (a guarded buffer's window into its region). */
  constructor(owner: RefMemory, length: number, dtype: D, view?: HostArray<D>) {
    this.owner = owner;
    this.length = length;
    this.dtype = dtype;
    this.data = view ?? ((dtype === 'i32' ? new Int32Array(length) : new Float32Array(length)) as HostArray<D>);
  }
}

export class RefMemory {
  private readonly live = new Set<RefBuffer>();
  private liveBytes = 0;
  private disposed = false;

  private checkAlive(kernel: string): void {
    if (this.disposed) throw new Error(`${kernel}: the ref backend was disposed; create a new one`);
  }

  alloc<D extends DType>(length: number, dtype: D): RefBuffer<D> {
    this.checkAlive('alloc');
    requireNonNegativeInt('alloc', 'length', length);
    if (dtype !== 'f32' && dtype !== 'i32') throw new Error(`alloc: dtype must be 'f32' or 'i32', got ${String(dtype)}`);
    const buf = new RefBuffer(this, length, dtype);
    this.live.add(buf);
    this.liveBytes += length * 4;
    return buf;
  }

  /** A buffer inside a region with `guard` elements on each side (see ../guarded-alloc.ts). */
  allocGuarded<D extends DType>(length: number, dtype: D, guard: number): GuardedAllocation<D> {
    checkGuardArgs('allocGuarded', length, guard);
    const region = this.alloc(length + 2 * guard, dtype);
    const view = region.data!.subarray(guard, guard + length) as HostArray<D>;
    const buffer = new RefBuffer(this, length, dtype, view);
    this.live.add(buffer);
    this.liveBytes += length * 4;
    return { buffer, region, guard };
  }

  /** The typed array behind a handle, after checking it belongs here, is live and has the dtype. */
  resolve<D extends DType>(kernel: string, name: string, buf: DeviceBuffer<D>, dtype?: D): HostArray<D> {
    this.checkAlive(kernel);
    if (!(buf instanceof RefBuffer) || buf.owner !== this) {
      throw new Error(`${kernel}: ${name} is not a buffer of this ref backend (buffers cannot cross backends)`);
    }
    if (dtype && buf.dtype !== dtype) throw new Error(`${kernel}: ${name} must be ${dtype}, got ${buf.dtype}`);
    if (!buf.data) throw new Error(`${kernel}: ${name} was used after free`);
    return buf.data as HostArray<D>;
  }

  upload<D extends DType>(buf: DeviceBuffer<D>, data: HostArray<D>, offset = 0): void {
    const dst = this.resolve('upload', 'buf', buf);
    checkUpload(buf, data, offset);
    dst.set(data, offset);
  }

  download<D extends DType>(buf: DeviceBuffer<D>, offset = 0, length?: number): HostArray<D> {
    const src = this.resolve('download', 'buf', buf);
    const n = downloadLength(buf, offset, length);
    return src.slice(offset, offset + n) as HostArray<D>;
  }

  free(buf: DeviceBuffer): void {
    this.resolve('free', 'buf', buf);
    const ref = buf as RefBuffer;
    ref.data = null;
    this.live.delete(ref);
    this.liveBytes -= ref.length * 4;
  }

  stats(): BackendStats {
    return { buffers: this.live.size, bytes: this.liveBytes };
  }

  dispose(): void {
    for (const buf of this.live) buf.data = null;
    this.live.clear();
    this.liveBytes = 0;
    this.disposed = true;
  }
}
