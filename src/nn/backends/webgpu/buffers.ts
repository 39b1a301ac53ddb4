// Device buffers and their pool. A training step frees and allocates the same sizes again and
// again; the pool keeps released GPU buffers by size bucket so that a steady-state step creates
// no GPU buffers at all. Reuse is safe without fences: every use of a buffer is encoded or
// queued in program order (uploads submit pending work first, see runtime.ts), and WebGPU runs
// dispatches and copies of one queue in that order.
import type { DeviceBuffer, DType } from '../../backend.ts';

/** A logical buffer: `length` elements of 4 bytes, backed by a pooled GPUBuffer that may be
 *  larger (its size bucket). Bindings always use the logical byte size. */
export class WebgpuBuffer<D extends DType = DType> implements DeviceBuffer<D> {
  freed = false;
  /** `byteOffset`: where the buffer starts in `gpu` (non-zero only for a guarded buffer's window into
   *  its region, ../guarded-alloc.ts, whose GPUBuffer belongs to the region). */
  constructor(
    readonly length: number,
    readonly dtype: D,
    readonly gpu: GPUBuffer,
    readonly owner: object,
    readonly byteOffset = 0,
  ) {}

  get isView(): boolean {
    return this.byteOffset !== 0;
  }

  /** Bytes to bind: WebGPU rejects zero-sized bindings, so empty buffers bind 4 bytes. */
  get bindBytes(): number {
    return Math.max(4, this.length * 4);
  }
}

/** Size buckets: 256 B minimum, then quarter steps between powers of two (≤ 25% waste). */
export function bucketBytes(bytes: number): number {
  if (bytes <= 256) return 256;
  const pow = 2 ** Math.floor(Math.log2(bytes - 1));
  const step = pow / 4;
  return Math.ceil(bytes / step) * step;
}

export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private readonly all = new Set<GPUBuffer>();
  /** GPU buffers ever created by this pool (a steady training step must not raise it). */
  created = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly usage: GPUBufferUsageFlags,
    private readonly label: string,
  ) {}

  acquire(bytes: number): GPUBuffer {
    const size = bucketBytes(bytes);
    const list = this.free.get(size);
    const reused = list?.pop();
    if (reused) return reused;
    const buf = this.device.createBuffer({ size, usage: this.usage, label: this.label });
    this.all.add(buf);
    this.created++;
    return buf;
  }

  release(buf: GPUBuffer): void {
    let list = this.free.get(buf.size);
    if (!list) {
      list = [];
      this.free.set(buf.size, list);
    }
    list.push(buf);
  }

  /** Bytes held by the pool (in use or cached). */
  get reservedBytes(): number {
    let total = 0;
    for (const b of this.all) total += b.size;
    return total;
  }

  destroy(): void {
    for (const b of this.all) b.destroy();
    this.all.clear();
    this.free.clear();
  }
}
