// Module: the base of every layer. Holds parameters (trainable leaf tensors), buffers (running
// statistics) and child modules under names, so that namedParameters()/namedBuffers() give
// PyTorch's state_dict names ("conv1.weight", "bn1.running_mean", "bn1.num_batches_tracked").
//
// Parameters and buffers are kept (they survive every tidy scope) and are freed by dispose().

import type { Backend, DeviceBuffer } from '../backend.ts';
import { noGrad } from '../autograd.ts';
import { keep } from '../scope.ts';
import { Tensor } from '../tensor.ts';

/** A tensor on the host: what stateDict() returns and safetensors stores. num_batches_tracked is
 *  'i64' (PyTorch's dtype for it) so that torch's strict load_state_dict accepts our files. */
export type HostTensor =
  | { dtype: 'f32'; shape: number[]; data: Float32Array }
  | { dtype: 'i32'; shape: number[]; data: Int32Array }
  | { dtype: 'i64'; shape: number[]; data: BigInt64Array };

export type StateDict = Record<string, HostTensor>;

export interface LoadStateDictOptions {
  /** Unexpected keys are an error (default true, like PyTorch). Missing keys always are. */
  strict?: boolean;
}

export abstract class Module {
  training = true;
  readonly backend: Backend;
  private readonly params = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();

  constructor(backend: Backend) {
    this.backend = backend;
  }

  abstract forward(x: Tensor): Tensor;

  /** Registers a trainable parameter from host data. */
  protected addParameter(name: string, data: Float32Array, shape: readonly number[]): Tensor {
    const t = keep(Tensor.fromArray(this.backend, data, shape, { requiresGrad: true }));
    this.params.set(name, t);
    return t;
  }

  protected addModule<M extends Module>(name: string, m: M): M {
    if (this.children.has(name) || this.params.has(name)) throw new Error(`Module: the name "${name}" is already used`);
    this.children.set(name, m);
    return m;
  }

  /** This module's own buffers (running statistics...), without the children's. No side effects:
   *  dispose() and loadStateDict() call it too. */
  protected ownBuffers(): [string, Tensor][] {
    return [];
  }

  /** Brings buffers that mirror host-side state up to date; called before buffers are read
   *  (stateDict, namedBuffers), never on dispose or load. The default has nothing to sync. */
  protected syncBuffers(): void {}

  /** Loads one of ownBuffers() from host data (the default copies into the tensor). */
  protected loadBuffer(name: string, value: HostTensor, target: Tensor): void {
    uploadInto(target, value, name);
  }

  namedChildren(): [string, Module][] {
    return [...this.children];
  }

  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [name, t] of this.params) out.push([prefix + name, t]);
    for (const [name, m] of this.children) out.push(...m.namedParameters(`${prefix}${name}.`));
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  namedBuffers(prefix = ''): [string, Tensor][] {
    this.syncBuffers();
    const out: [string, Tensor][] = this.ownBuffers().map(([n, t]) => [prefix + n, t]);
    for (const [name, m] of this.children) out.push(...m.namedBuffers(`${prefix}${name}.`));
    return out;
  }

  /** Total number of elements over all parameters (PyTorch's sum(p.numel())). */
  parameterCount(): number {
    let n = 0;
    for (const [, t] of this.namedParameters()) n += t.size;
    return n;
  }

  train(on = true): this {
    this.training = on;
    for (const m of this.children.values()) m.train(on);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Marks every parameter's gradient stale (the next backward overwrites it). */
  zeroGrad(): void {
    for (const [, t] of this.namedParameters()) t.zeroGrad();
  }

  /** Parameters then buffers, in registration order, downloaded to the host. */
  async stateDict(): Promise<StateDict> {
    const entries: [string, Tensor][] = [];
    const self = this;
    // each module contributes its parameters then its buffers, like PyTorch's order
    (function walk(m: Module, prefix: string): void {
      for (const [n, t] of m.params) entries.push([prefix + n, t]);
      m.syncBuffers();
      for (const [n, t] of m.ownBuffers()) entries.push([prefix + n, t]);
      for (const [n, c] of m.children) walk(c, `${prefix}${n}.`);
    })(self, '');
    const out: StateDict = {};
    for (const [name, t] of entries) {
      const data = await t.toArray();
      if (name.endsWith('num_batches_tracked')) {
        out[name] = { dtype: 'i64', shape: t.shape.slice(), data: BigInt64Array.from(data as Int32Array, (v) => BigInt(v)) };
      } else if (t.dtype === 'i32') {
        out[name] = { dtype: 'i32', shape: t.shape.slice(), data: data as Int32Array };
      } else {
        out[name] = { dtype: 'f32', shape: t.shape.slice(), data: data as Float32Array };
      }
    }
    return out;
  }

  /** Copies a state dict into the parameters and buffers. Missing or mis-shaped keys throw an
   *  error naming the key; unexpected keys throw too unless strict is false. */
  loadStateDict(dict: StateDict, opts: LoadStateDictOptions = {}): void {
    const expected = new Set<string>();
    const load = (m: Module, prefix: string): void => {
      for (const [n, t] of m.params) {
        const key = prefix + n;
        expected.add(key);
        uploadInto(t, requireKey(dict, key), key);
      }
      for (const [n, t] of m.ownBuffers()) {
        const key = prefix + n;
        expected.add(key);
        m.loadBuffer(n, requireKey(dict, key), t);
      }
      for (const [n, c] of m.children) load(c, `${prefix}${n}.`);
    };
    // validate everything first, so that a bad dict leaves the module untouched
    const check = (m: Module, prefix: string): void => {
      for (const [n, t] of [...m.params, ...m.ownBuffers()]) {
        const key = prefix + n;
        checkEntry(t, requireKey(dict, key), key);
      }
      for (const [n, c] of m.children) check(c, `${prefix}${n}.`);
    };
    check(this, '');
    noGrad(() => load(this, ''));
    if (opts.strict ?? true) {
      const unexpected = Object.keys(dict).filter((k) => !expected.has(k));
      if (unexpected.length > 0) {
        throw new Error(`loadStateDict: unexpected keys ${unexpected.map((k) => `"${k}"`).join(', ')} (pass {strict: false} to ignore them)`);
      }
    }
  }

  /** Frees parameters, their gradients and buffers of this module and its children. */
  dispose(): void {
    for (const t of this.params.values()) t.dispose();
    for (const [, t] of this.ownBuffers()) t.dispose();
    for (const m of this.children.values()) m.dispose();
  }
}

function requireKey(dict: StateDict, key: string): HostTensor {
  const v = dict[key];
  if (v === undefined) throw new Error(`loadStateDict: missing key "${key}"`);
  return v;
}

function fmt(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function checkEntry(target: Tensor, value: HostTensor, key: string): void {
  const same = value.shape.length === target.shape.length && value.shape.every((d, i) => d === target.shape[i]);
  if (!same) throw new Error(`loadStateDict: "${key}" has shape ${fmt(value.shape)} but the model expects ${fmt(target.shape)}`);
  const okType = target.dtype === 'f32' ? value.dtype === 'f32' : value.dtype === 'i32' || value.dtype === 'i64';
  if (!okType) throw new Error(`loadStateDict: "${key}" is ${value.dtype} but the model expects ${target.dtype}`);
  if (value.data.length !== target.size) {
    throw new Error(`loadStateDict: "${key}" holds ${value.data.length} values for shape ${fmt(value.shape)}`);
  }
}

/** Copies host data into a tensor (after checking shape and dtype). i64 values must fit in i32. */
export function uploadInto(target: Tensor, value: HostTensor, key: string): void {
  checkEntry(target, value, key);
  target.markModified();
  if (target.dtype === 'f32') {
    target.backend.upload(target.buffer as DeviceBuffer<'f32'>, value.data as Float32Array);
    return;
  }
  let ints: Int32Array;
  if (value.dtype === 'i64') {
    ints = new Int32Array(value.data.length);
    for (let i = 0; i < ints.length; i++) {
      const v = value.data[i];
      if (v > 2147483647n || v < -2147483648n) throw new Error(`loadStateDict: "${key}" value ${v} does not fit in int32`);
      ints[i] = Number(v);
    }
  } else {
    ints = value.data as Int32Array;
  }
  target.backend.upload(target.buffer as DeviceBuffer<'i32'>, ints);
}
