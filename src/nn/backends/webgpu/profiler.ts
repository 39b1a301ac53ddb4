// GPU timestamps per kernel, for benchmarks. While `time(fn)` runs, every dispatch gets its own
// compute pass whose beginning/end timestamps go into a query set; afterwards the query set is
// resolved and read back. Only available when the adapter has 'timestamp-query' (lavapipe and
// most desktop drivers do). Timing changes batching (one pass per dispatch), so use it for
// per-kernel figures, and wall-clock around flush() for whole-step figures.
import type { PassTimer, Runtime } from './runtime.ts';

export interface KernelTiming {
  label: string;
  ms: number;
}

export interface GpuTiming {
  /** Sum of the timed dispatches' GPU time. */
  totalMs: number;
  kernels: KernelTiming[];
  /** Dispatches beyond the query set's capacity, not timed. */
  untimed: number;
}

export class GpuProfiler implements PassTimer {
  private readonly querySet: GPUQuerySet;
  private readonly resolveBuffer: GPUBuffer;
  private readonly readBuffer: GPUBuffer;
  private labels: string[] = [];
  private untimed = 0;

  constructor(private readonly rt: Runtime, private readonly capacity = 512) {
    const device = rt.device;
    this.querySet = device.createQuerySet({ type: 'timestamp', count: 2 * capacity });
    this.resolveBuffer = device.createBuffer({ size: 16 * capacity, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    this.readBuffer = device.createBuffer({ size: 16 * capacity, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  }

  passDescriptor(label: string): GPUComputePassDescriptor {
    const i = this.labels.length;
    if (i >= this.capacity) {
      this.untimed++;
      return {};
    }
    this.labels.push(label);
    return { timestampWrites: { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } };
  }

  /** Runs `fn` (which only enqueues kernels) with every dispatch timed on the GPU. */
  async time(fn: () => void): Promise<GpuTiming> {
    const rt = this.rt;
    rt.submit();
    this.labels = [];
    this.untimed = 0;
    rt.timer = this;
    try {
      fn();
    } finally {
      rt.timer = null;
    }
    const n = this.labels.length;
    if (n > 0) {
      rt.withEncoder((encoder) => {
        encoder.resolveQuerySet(this.querySet, 0, 2 * n, this.resolveBuffer, 0);
        encoder.copyBufferToBuffer(this.resolveBuffer, 0, this.readBuffer, 0, 16 * n);
      });
    }
    rt.submit();
    const kernels: KernelTiming[] = [];
    if (n > 0) {
      await this.readBuffer.mapAsync(GPUMapMode.READ, 0, 16 * n);
      const stamps = new BigUint64Array(this.readBuffer.getMappedRange(0, 16 * n).slice(0));
      this.readBuffer.unmap();
      for (let i = 0; i < n; i++) {
        const ns = Number(stamps[2 * i + 1] - stamps[2 * i]);
        kernels.push({ label: this.labels[i], ms: Math.max(0, ns) / 1e6 });
      }
    }
    rt.throwIfErrors();
    return { totalMs: kernels.reduce((s, k) => s + k.ms, 0), kernels, untimed: this.untimed };
  }

  destroy(): void {
    this.querySet.destroy();
    this.resolveBuffer.destroy();
    this.readBuffer.destroy();
  }
}
