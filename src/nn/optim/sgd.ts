// torch.optim.SGD: g = grad + wd·p; v = μ·v + (1 − dampening)·g; g = nesterov ? g + μ·v : v;
// p −= lr·g. PyTorch starts the momentum buffer as a copy of g (no dampening on the first step):
// with v = 0 that is the same update with dampening 0, which is what the first step passes.

import type { DeviceBuffer } from '../backend.ts';
import { Optimizer, type ParamsInput } from './optimizer.ts';

export interface SgdOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weightDecay?: number;
}

export class SGD extends Optimizer {
  readonly type = 'SGD';
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
  protected get stateNames(): readonly string[] {
    return this.momentum !== 0 ? ['momentum_buffer'] : [];
  }

  constructor(params: ParamsInput, opts: SgdOptions) {
    super(params, opts.lr);
    this.momentum = opts.momentum ?? 0;
    this.dampening = opts.dampening ?? 0;
    this.nesterov = opts.nesterov ?? false;
    this.weightDecay = opts.weightDecay ?? 0;
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new Error('SGD: nesterov needs momentum > 0 and dampening 0 (as in PyTorch)');
    }
  }

  protected hyper(): Record<string, number | boolean> {
    return { lr: this.lr, momentum: this.momentum, dampening: this.dampening, nesterov: this.nesterov, weightDecay: this.weightDecay };
  }

  protected setHyper(h: Record<string, number | boolean>): void {
    this.lr = Number(h.lr ?? this.lr);
    this.momentum = Number(h.momentum ?? this.momentum);
    this.dampening = Number(h.dampening ?? this.dampening);
    this.nesterov = Boolean(h.nesterov ?? this.nesterov);
    this.weightDecay = Number(h.weightDecay ?? this.weightDecay);
  }

  protected update(i: number, param: DeviceBuffer<'f32'>, grad: DeviceBuffer<'f32'>, state: DeviceBuffer<'f32'>[]): void {
    const first = this.steps[i] === 1;
    this.backend.sgdStep(param, grad, this.momentum !== 0 ? state[0] : null, {
      lr: this.lr,
      momentum: this.momentum,
      dampening: first ? 0 : this.dampening,
      nesterov: this.nesterov,
      weightDecay: this.weightDecay,
    });
  }
}
