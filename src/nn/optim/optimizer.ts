// The optimizer base: a list of parameters, their per-parameter state buffers on the device
// (allocated on first use, zeroed, reused every step) and per-parameter step counts (on the host:
// they are known without a readback). step() enqueues one update kernel per parameter; nothing is
// read back. Parameters without a gradient since zeroGrad() are skipped, like PyTorch's
// zero_grad(set_to_none=True) default.

import type { Backend, DeviceBuffer } from '../backend.ts';
import type { HostTensor } from '../modules/module.ts';
import type { Tensor } from '../tensor.ts';

export interface OptimizerStateDict {
  /** 'SGD' | 'Adam' | 'AdamW' */
  type: string;
  hyper: Record<string, number | boolean>;
  /** Updates applied to each parameter (Adam's bias-correction t; SGD's "has a momentum buffer"). */
  steps: number[];
  /** Device state per parameter index, named like PyTorch's: "0.momentum_buffer", "3.exp_avg"... */
  tensors: Record<string, HostTensor>;
}

export type ParamsInput = Iterable<Tensor> | Iterable<readonly [string, Tensor]>;

function toParams(input: ParamsInput): Tensor[] {
  const out: Tensor[] = [];
  for (const e of input as Iterable<Tensor | readonly [string, Tensor]>) out.push(Array.isArray(e) ? (e as readonly [string, Tensor])[1] : (e as Tensor));
  const seen = new Set<Tensor>();
  for (const p of out) {
    if (seen.has(p)) throw new Error('optimizer: a parameter appears twice in the list');
    seen.add(p);
    if (!p.isLeaf || !p.requiresGrad || p.dtype !== 'f32') {
      throw new Error(`optimizer: every parameter must be an f32 leaf tensor with requiresGrad (got ${p.toString()})`);
    }
  }
  if (out.length === 0) throw new Error('optimizer: the parameter list is empty');
  return out;
}

export abstract class Optimizer {
  readonly params: Tensor[];
  /** Learning rate, read at every step (schedules set it before step()). */
  lr: number;
  protected readonly steps: number[];
  private readonly state: (DeviceBuffer<'f32'>[] | null)[];
  protected readonly backend: Backend;

  constructor(params: ParamsInput, lr: number) {
    this.params = toParams(params);
    if (!(lr >= 0)) throw new Error(`optimizer: lr must be >= 0, got ${lr}`);
    this.lr = lr;
    this.backend = this.params[0].backend;
    this.steps = this.params.map(() => 0);
    this.state = this.params.map(() => null);
  }

  abstract readonly type: string;
  /** Names of the per-parameter state buffers (PyTorch's state keys). */
  protected abstract readonly stateNames: readonly string[];
  protected abstract hyper(): Record<string, number | boolean>;
  protected abstract setHyper(h: Record<string, number | boolean>): void;
  protected abstract update(i: number, param: DeviceBuffer<'f32'>, grad: DeviceBuffer<'f32'>, state: DeviceBuffer<'f32'>[]): void;

  /** Marks every gradient stale: the next backward overwrites instead of adding. */
  zeroGrad(): void {
    for (const p of this.params) p.zeroGrad();
  }

  step(): void {
    if (!(this.lr >= 0) || !Number.isFinite(this.lr)) throw new Error(`optimizer: lr must be a finite number >= 0, got ${this.lr}`);
    for (let i = 0; i < this.params.length; i++) {
      const p = this.params[i];
      const g = p.grad;
      if (g === null) continue;
      p.assertAlive('optimizer.step');
      this.steps[i]++;
      this.update(i, p.buffer as DeviceBuffer<'f32'>, g.buffer as DeviceBuffer<'f32'>, this.stateOf(i));
      p.markModified();
    }
  }

  private stateOf(i: number): DeviceBuffer<'f32'>[] {
    let s = this.state[i];
    if (s === null) {
      s = this.stateNames.map(() => {
        const b = this.backend.alloc(this.params[i].size, 'f32');
        this.backend.fill(b, 0);
        return b;
      });
      this.state[i] = s;
    }
    return s;
  }

  async stateDict(): Promise<OptimizerStateDict> {
    const tensors: Record<string, HostTensor> = {};
    for (let i = 0; i < this.params.length; i++) {
      const s = this.state[i];
      if (s === null) continue;
      for (let j = 0; j < s.length; j++) {
        const data = (await this.backend.download(s[j])) as Float32Array;
        tensors[`${i}.${this.stateNames[j]}`] = { dtype: 'f32', shape: this.params[i].shape.slice(), data };
      }
    }
    return { type: this.type, hyper: this.hyper(), steps: this.steps.slice(), tensors };
  }

  loadStateDict(sd: OptimizerStateDict): void {
    if (sd.type !== this.type) throw new Error(`loadStateDict: the state is for ${sd.type}, this optimizer is ${this.type}`);
    if (sd.steps.length !== this.params.length) {
      throw new Error(`loadStateDict: the state covers ${sd.steps.length} parameters, this optimizer has ${this.params.length}`);
    }
    for (let i = 0; i < this.params.length; i++) {
      for (const name of this.stateNames) {
        const key = `${i}.${name}`;
        const t = sd.tensors[key];
        if (t === undefined) continue;
        if (t.dtype !== 'f32' || t.data.length !== this.params[i].size) {
          throw new Error(`loadStateDict: "${key}" must be f32 with ${this.params[i].size} values (shape [${this.params[i].shape.join(', ')}])`);
        }
      }
    }
    this.setHyper(sd.hyper);
    for (let i = 0; i < this.params.length; i++) {
      this.steps[i] = sd.steps[i];
      const present = this.stateNames.some((n) => sd.tensors[`${i}.${n}`] !== undefined);
      if (!present) continue;
      const s = this.stateOf(i);
      this.stateNames.forEach((n, j) => {
        const t = sd.tensors[`${i}.${n}`];
        if (t !== undefined) this.backend.upload(s[j], t.data as Float32Array);
      });
    }
  }

  /** Frees the state buffers (the parameters belong to their module). */
  dispose(): void {
    for (let i = 0; i < this.state.length; i++) {
      const s = this.state[i];
      if (s !== null) for (const b of s) this.backend.free(b);
      this.state[i] = null;
    }
  }
}
