// Encoding and submitting work. Kernels call `dispatch`, which only records: dispatches go into
// one open compute pass of one command encoder, and their parameters into a CPU mirror of a
// uniform arena (256-byte slots, one per dispatch). `submit` writes the used part of the arena
// with one queue.writeBuffer and submits the encoder. That happens when the host needs the
// results (download, flush), before an upload (queue.writeBuffer runs at queue time and must not
// overtake earlier unsubmitted dispatches that read the old contents), or when the arena or the
// batch is full. Rewriting the arena after a submit is safe: queue writes are ordered after
// previously submitted work.
import type { GpuContext } from './device.ts';
import { BufferPool, WebgpuBuffer } from './buffers.ts';
import { PipelineCache, type Defines } from './shaders.ts';

const UNIFORM_SLOT_BYTES = 256; // minUniformBufferOffsetAlignment on every adapter we know
const UNIFORM_SLOTS = 1024;
const MAX_WORKGROUPS_PER_DIM = 65535;

/** A uniform value: 'u' u32, 'i' i32, 'f' f32. Fields are laid out in order, 4 bytes each,
 *  matching a WGSL struct of 4-byte scalars. */
export type Uniform = ['u' | 'i' | 'f', number];

export interface Binding {
  buf: WebgpuBuffer;
  /** Written by the kernel (declared read_write in WGSL). */
  write?: boolean;
}

export interface DispatchSpec {
  file: string;
  entry: string;
  defines?: Defines;
  uniforms: Uniform[];
  /** Storage bindings 1..n in order (binding 0 is the uniform struct). */
  bindings: Binding[];
  workgroups: [number, number, number];
  label?: string;
}

/** Hooks for timestamp profiling (profiler.ts): called around every dispatch when set. */
export interface PassTimer {
  passDescriptor(label: string): GPUComputePassDescriptor;
}

const pipelineCaches = new WeakMap<GPUDevice, PipelineCache>();

export class Runtime {
  readonly device: GPUDevice;
  readonly pipelines: PipelineCache;
  /** Storage buffers for logical buffers and kernel scratch space. */
  readonly storage: BufferPool;
  /** MAP_READ staging buffers for downloads. */
  readonly staging: BufferPool;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private readonly arena: GPUBuffer;
  private readonly arenaMirror = new ArrayBuffer(UNIFORM_SLOT_BYTES * UNIFORM_SLOTS);
  private readonly arenaU32 = new Uint32Array(this.arenaMirror);
  private readonly arenaI32 = new Int32Array(this.arenaMirror);
  private readonly arenaF32 = new Float32Array(this.arenaMirror);
  private slotsUsed = 0;
  /** A 1-element buffer bound where a variant has an optional input that this call lacks. */
  readonly dummy: WebgpuBuffer;
  timer: PassTimer | null = null;
  /** Counters for tests and benchmarks. */
  readonly counters = { dispatches: 0, submits: 0 };

  constructor(readonly ctx: GpuContext) {
    this.device = ctx.device;
    let cache = pipelineCaches.get(this.device);
    if (!cache) {
      cache = new PipelineCache(this.device);
      pipelineCaches.set(this.device, cache);
    }
    this.pipelines = cache;
    const U = GPUBufferUsage;
    this.storage = new BufferPool(this.device, U.STORAGE | U.COPY_SRC | U.COPY_DST, 'inkling storage');
    this.staging = new BufferPool(this.device, U.MAP_READ | U.COPY_DST, 'inkling staging');
    this.dummy = new WebgpuBuffer(1, 'f32', this.storage.acquire(4), this);
    this.arena = this.device.createBuffer({
      size: this.arenaMirror.byteLength,
      usage: U.UNIFORM | U.COPY_DST,
      label: 'inkling uniform arena',
    });
  }

  private getEncoder(): GPUCommandEncoder {
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    return this.encoder;
  }

  private endPass(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
  }

  /** A scratch buffer of at least `length` f32 elements, returned to the pool by `releaseTemp`.
   *  Releasing right after encoding is safe: later uses are ordered after this one. */
  temp(length: number, dtype: 'f32' | 'i32' = 'f32'): WebgpuBuffer {
    return new WebgpuBuffer(length, dtype, this.storage.acquire(Math.max(4, length * 4)), this);
  }

  releaseTemp(buf: WebgpuBuffer): void {
    this.storage.release(buf.gpu);
  }

  dispatch(spec: DispatchSpec): void {
    const [x, y, z] = spec.workgroups;
    if (x === 0 || y === 0 || z === 0) return;
    if (x > MAX_WORKGROUPS_PER_DIM || y > MAX_WORKGROUPS_PER_DIM || z > MAX_WORKGROUPS_PER_DIM) {
      throw new Error(`WebGPU: dispatch ${spec.file}:${spec.entry} of ${x}x${y}x${z} workgroups exceeds ${MAX_WORKGROUPS_PER_DIM} per dimension`);
    }
    const pipeline = this.pipelines.get(spec.file, spec.entry, spec.defines ?? {});
    if (this.slotsUsed === UNIFORM_SLOTS) this.submit();

    // A buffer both read and written by one dispatch is a WebGPU validation error (writable
    // storage usage conflicts): read a copy instead. The contract rarely allows aliasing
    // (scale's out may be x), so this costs nothing in the common case.
    const temps: WebgpuBuffer[] = [];
    const bindings = spec.bindings.map((b) => {
      if (b.write) return b;
      const conflict = spec.bindings.some((o) => o.write && o.buf.gpu === b.buf.gpu);
      if (!conflict) return b;
      const copy = this.temp(b.buf.length, b.buf.dtype as 'f32' | 'i32');
      this.copyBytes(b.buf.gpu, b.buf.byteOffset, copy.gpu, 0, b.buf.bindBytes);
      temps.push(copy);
      return { buf: copy };
    });

    const slot = this.slotsUsed++;
    const base = (slot * UNIFORM_SLOT_BYTES) / 4;
    spec.uniforms.forEach(([type, value], i) => {
      if (type === 'f') this.arenaF32[base + i] = value;
      else if (type === 'i') this.arenaI32[base + i] = value;
      else this.arenaU32[base + i] = value;
    });

    const entries: GPUBindGroupEntry[] = [
      { binding: 0, resource: { buffer: this.arena, offset: slot * UNIFORM_SLOT_BYTES, size: UNIFORM_SLOT_BYTES } },
    ];
    bindings.forEach((b, i) => {
      entries.push({ binding: i + 1, resource: { buffer: b.buf.gpu, offset: b.buf.byteOffset, size: b.buf.bindBytes } });
    });
    const bindGroup = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });

    const label = spec.label ?? `${spec.file}:${spec.entry}`;
    if (this.timer) {
      // Timed: one pass per dispatch, so its begin/end timestamps bracket exactly this kernel.
      this.endPass();
      const pass = this.getEncoder().beginComputePass(this.timer.passDescriptor(label));
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(x, y, z);
      pass.end();
    } else {
      if (!this.pass) this.pass = this.getEncoder().beginComputePass();
      this.pass.setPipeline(pipeline);
      this.pass.setBindGroup(0, bindGroup);
      this.pass.dispatchWorkgroups(x, y, z);
    }
    this.counters.dispatches++;
    for (const t of temps) this.releaseTemp(t);
  }

  copyBytes(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    if (bytes === 0) return;
    this.endPass();
    this.getEncoder().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  clearBytes(buf: GPUBuffer, offset: number, bytes: number): void {
    if (bytes === 0) return;
    this.endPass();
    this.getEncoder().clearBuffer(buf, offset, bytes);
  }

  /** Runs a callback on the encoder outside any compute pass (query resolves, copies). */
  withEncoder(fn: (encoder: GPUCommandEncoder) => void): void {
    this.endPass();
    fn(this.getEncoder());
  }

  submit(): void {
    this.endPass();
    if (this.slotsUsed > 0) {
      this.device.queue.writeBuffer(this.arena, 0, this.arenaMirror, 0, this.slotsUsed * UNIFORM_SLOT_BYTES);
      this.slotsUsed = 0;
    }
    if (this.encoder) {
      this.device.queue.submit([this.encoder.finish()]);
      this.encoder = null;
      this.counters.submits++;
    }
  }

  /** Rejects with Dawn's messages if any validation or device error was reported. */
  throwIfErrors(): void {
    if (this.ctx.errors.length) {
      const messages = this.ctx.errors.splice(0);
      throw new Error(`WebGPU error: ${messages.join('\n')}`);
    }
  }

  destroy(): void {
    this.encoder = null;
    this.pass = null;
    this.storage.destroy();
    this.staging.destroy();
    this.arena.destroy();
  }
}

/** Workgroup counts for `n` invocations in 1-D workgroups of `size`, folded into y when x would
 *  exceed the per-dimension limit. Kernels index with `gid.x + gid.y * num_workgroups.x * size`. */
export function grid1d(n: number, size: number): [number, number, number] {
  const groups = Math.ceil(n / size);
  if (groups <= MAX_WORKGROUPS_PER_DIM) return [groups, 1, 1];
  const y = Math.ceil(groups / MAX_WORKGROUPS_PER_DIM);
  return [Math.ceil(groups / y), y, 1];
}
