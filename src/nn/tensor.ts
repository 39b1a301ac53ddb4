// Tensor: a shape over a device buffer, plus what autograd needs (requiresGrad, the node that made
// it, its gradient). Data never leaves the backend except through the async toArray()/item().
//
// Views: reshape/flatten/detach share the buffer. The buffer belongs to a refcounted Storage and
// is freed when the last tensor on it is disposed, so disposing a base never breaks a view.

import type { Backend, DeviceBuffer, DType } from './backend.ts';
import { track, type Tracked } from './scope.ts';
import { isGradEnabled, recordOp, releaseNode, runBackward, type GradNode } from './autograd.ts';

export interface TensorOptions {
  requiresGrad?: boolean;
  dtype?: DType;
}

class Storage {
  refs = 1;
  /** Bumped by every write through the tensor API (write, loadStateDict, optimizer steps, batch
   *  norm's running statistics), so caches derived from the contents know when they are stale. */
  version = 0;
  constructor(readonly buffer: DeviceBuffer) {}
}

export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function checkShape(shape: readonly number[], what: string): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 1) {
      throw new Error(`${what}: shape [${shape.join(', ')}] must hold positive integers`);
    }
  }
}

export class Tensor implements Tracked {
  readonly shape: readonly number[];
  readonly size: number;
  readonly dtype: DType;
  readonly backend: Backend;
  readonly buffer: DeviceBuffer;
  /** Whether gradients flow to this tensor. Set it on leaves (parameters); ops set it on outputs. */
  requiresGrad = false;
  disposed = false;
  /** Survives every tidy scope (see keep()). */
  kept = false;

  // ---- autograd internals (autograd.ts reads and writes these) ----
  /** The op that produced this tensor while recording; null for leaves and after backward. */
  node: GradNode | null = null;
  /** False for tensors an op produced while recording (they get no persistent .grad). */
  isLeaf = true;
  /** Set once backward has consumed this tensor's node: a second backward is an error. */
  graphFreed = false;
  /** A leaf's persistent gradient tensor (allocated on the first backward, then reused). */
  gradTensor: Tensor | null = null;
  /** False after zeroGrad: the next backward overwrites instead of accumulating. */
  gradValid = false;
  /** A non-leaf's gradient while backward runs; freed as soon as its node has run. */
  gradBuf: DeviceBuffer<'f32'> | null = null;

  private readonly storage: Storage;

  /** Wraps an existing buffer (of at least shapeSize(shape) elements). Prefer the factories. */
  constructor(backend: Backend, buffer: DeviceBuffer, shape: readonly number[], storage?: Storage) {
    this.backend = backend;
    this.buffer = buffer;
    this.shape = shape;
    this.size = shapeSize(shape);
    this.dtype = buffer.dtype;
    if (storage) {
      storage.refs++;
      this.storage = storage;
    } else {
      this.storage = new Storage(buffer);
    }
    track(this);
  }

  /** An uninitialised tensor (the output of an op). */
  static empty(backend: Backend, shape: readonly number[], dtype: DType = 'f32'): Tensor {
    checkShape(shape, 'Tensor.empty');
    return new Tensor(backend, backend.alloc(shapeSize(shape), dtype), shape.slice());
  }

  static zeros(backend: Backend, shape: readonly number[], opts: TensorOptions = {}): Tensor {
    return Tensor.full(backend, shape, 0, opts);
  }

  static full(backend: Backend, shape: readonly number[], value: number, opts: TensorOptions = {}): Tensor {
    const t = Tensor.empty(backend, shape, opts.dtype ?? 'f32');
    backend.fill(t.buffer, value);
    if (opts.requiresGrad) t.setRequiresGrad();
    return t;
  }

  static fromArray(
    backend: Backend,
    data: Float32Array | Int32Array | number[],
    shape: readonly number[],
    opts: TensorOptions = {},
  ): Tensor {
    checkShape(shape, 'Tensor.fromArray');
    const dtype: DType = opts.dtype ?? (data instanceof Int32Array ? 'i32' : 'f32');
    const n = shapeSize(shape);
    if (data.length !== n) {
      throw new Error(`Tensor.fromArray: ${data.length} values do not fill shape [${shape.join(', ')}] (${n} elements)`);
    }
    let host: Float32Array | Int32Array;
    if (dtype === 'i32') host = data instanceof Int32Array ? data : Int32Array.from(data);
    else host = data instanceof Float32Array ? data : Float32Array.from(data);
    const t = Tensor.empty(backend, shape, dtype);
    // upload takes the same host type as the buffer's dtype: one of the two branches holds.
    if (dtype === 'i32') backend.upload(t.buffer as DeviceBuffer<'i32'>, host as Int32Array);
    else backend.upload(t.buffer as DeviceBuffer<'f32'>, host as Float32Array);
    if (opts.requiresGrad) t.setRequiresGrad();
    return t;
  }

  /** The gradient accumulated by backward(); null before the first backward and after zeroGrad. */
  get grad(): Tensor | null {
    return this.gradValid ? this.gradTensor : null;
  }

  /** Makes this leaf a trainable one. */
  setRequiresGrad(on = true): this {
    if (!this.isLeaf) throw new Error('setRequiresGrad: only leaf tensors (not op outputs) can change requiresGrad');
    if (on && this.dtype !== 'f32') throw new Error(`setRequiresGrad: only f32 tensors can require grad, this one is ${this.dtype}`);
    this.requiresGrad = on;
    return this;
  }

  /** Forget the gradient: the next backward writes it afresh (no fill pass). */
  zeroGrad(): void {
    this.gradValid = false;
  }

  /** A view with another shape (one dimension may be −1). Shares the buffer; gradients flow through. */
  reshape(shape: readonly number[]): Tensor {
    this.assertAlive('reshape');
    const resolved = resolveShape(shape, this.size, this.shape);
    const view = new Tensor(this.backend, this.buffer, resolved, this.storage);
    if (this.requiresGrad && isGradEnabled()) {
      recordOp(view, 'reshape', [this], (gy, g) => g.pass(this, gy));
    }
    return view;
  }

  /** A view that shares the data but is cut off from autograd. */
  detach(): Tensor {
    this.assertAlive('detach');
    return new Tensor(this.backend, this.buffer, this.shape.slice(), this.storage);
  }

  /** Counts the writes to this tensor's storage (shared with its views) made through the tensor
   *  API; a cache of something computed from the contents (folded inference weights) compares it. */
  get version(): number {
    return this.storage.version;
  }

  /** Records a write to the contents made outside the tensor API's own writers (a kernel run on
   *  `buffer` directly): call it after such a write, or caches may serve stale values. */
  markModified(): void {
    this.storage.version++;
  }

  /** Overwrites the contents from host data of the same size and dtype (reuse an input batch
   *  tensor instead of allocating one per step). Enqueued like every upload. */
  write(data: Float32Array | Int32Array): this {
    this.assertAlive('write');
    if (data.length !== this.size) throw new Error(`write: ${data.length} values for a tensor of ${this.size} (shape [${this.shape.join(', ')}])`);
    this.storage.version++;
    if (this.dtype === 'i32') {
      if (!(data instanceof Int32Array)) throw new Error('write: an i32 tensor takes an Int32Array');
      this.backend.upload(this.buffer as DeviceBuffer<'i32'>, data);
    } else {
      if (!(data instanceof Float32Array)) throw new Error('write: an f32 tensor takes a Float32Array');
      this.backend.upload(this.buffer as DeviceBuffer<'f32'>, data);
    }
    return this;
  }

  async toArray(): Promise<Float32Array | Int32Array> {
    this.assertAlive('toArray');
    return this.backend.download(this.buffer, 0, this.size);
  }

  async item(): Promise<number> {
    if (this.size !== 1) throw new Error(`item(): the tensor has ${this.size} elements (shape [${this.shape.join(', ')}]); item() needs exactly 1`);
    const a = await this.toArray();
    return a[0];
  }

  /** Reverse-mode autograd from this scalar: seeds dL/dL = 1 on the device and runs the tape. */
  backward(): void {
    runBackward(this);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    releaseNode(this);
    if (this.gradBuf !== null) {
      this.backend.free(this.gradBuf);
      this.gradBuf = null;
    }
    if (this.gradTensor !== null) {
      this.gradTensor.dispose();
      this.gradTensor = null;
    }
    if (--this.storage.refs === 0) this.backend.free(this.storage.buffer);
  }

  assertAlive(what: string): void {
    if (this.disposed) throw new Error(`${what}: the tensor (shape [${this.shape.join(', ')}]) was disposed`);
  }

  toString(): string {
    return `Tensor(${this.dtype}[${this.shape.join(', ')}]${this.requiresGrad ? ', requiresGrad' : ''}, ${this.backend.name})`;
  }
}

function resolveShape(shape: readonly number[], size: number, from: readonly number[]): number[] {
  let inferred = -1;
  let known = 1;
  const out = shape.slice();
  for (let i = 0; i < out.length; i++) {
    const d = out[i];
    if (d === -1) {
      if (inferred >= 0) throw new Error(`reshape: only one dimension may be -1 in [${shape.join(', ')}]`);
      inferred = i;
    } else if (!Number.isInteger(d) || d < 1) {
      throw new Error(`reshape: bad dimension ${d} in [${shape.join(', ')}]`);
    } else known *= d;
  }
  if (inferred >= 0) {
    if (size % known !== 0) throw new Error(`reshape: cannot view [${from.join(', ')}] as [${shape.join(', ')}]`);
    out[inferred] = size / known;
  } else if (known !== size) {
    throw new Error(`reshape: cannot view [${from.join(', ')}] (${size} elements) as [${shape.join(', ')}] (${known})`);
  }
  return out;
}
