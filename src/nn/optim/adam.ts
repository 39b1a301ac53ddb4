// torch.optim.Adam and AdamW. Adam: g = grad + wd·p. AdamW: p −= lr·wd·p first (decoupled).
// m = β1·m + (1 − β1)·g; v = β2·v + (1 − β2)·g²; p −= lr·(m / (1 − β1^t)) / (sqrt(v / (1 − β2^t)) + eps)
// with t the parameter's own step count (from 1), as PyTorch keeps it per parameter.

import type { DeviceBuffer } from '../backend.ts';
import { Optimizer, type ParamsInput } from './optimizer.ts';

export interface AdamOptions {
  lr?: number;
  betas?: readonly [number, number];
  eps?: number;
  weightDecay?: number;
}

class AdamBase extends Optimizer {
  readonly type: string;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  protected readonly stateNames = ['exp_avg', 'exp_avg_sq'] as const;

  constructor(params: ParamsInput, opts: AdamOptions, private readonly decoupled: boolean) {
    super(params, opts.lr ?? 1e-3);
    this.type = decoupled ? 'AdamW' : 'Adam';
    [this.beta1, this.beta2] = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? (decoupled ? 1e-2 : 0);
    for (const [name, b] of [['beta1', this.beta1], ['beta2', this.beta2]] as const) {
      if (!(b >= 0 && b < 1)) throw new Error(`${this.type}: ${name} must be in [0, 1), got ${b}`);
    }
  }

  protected hyper(): Record<string, number | boolean> {
    return { lr: this.lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay };
  }

  protected setHyper(h: Record<string, number | boolean>): void {
    this.lr = Number(h.lr ?? this.lr);
    this.beta1 = Number(h.beta1 ?? this.beta1);
    this.beta2 = Number(h.beta2 ?? this.beta2);
    this.eps = Number(h.eps ?? this.eps);
    this.weightDecay = Number(h.weightDecay ?? this.weightDecay);
  }

  protected update(i: number, param: DeviceBuffer<'f32'>, grad: DeviceBuffer<'f32'>, state: DeviceBuffer<'f32'>[]): void {
    this.backend.adamStep(param, grad, state[0], state[1], {
      lr: this.lr,
      beta1: this.beta1,
      beta2: this.beta2,
      eps: this.eps,
      weightDecay: this.weightDecay,
      decoupled: this.decoupled,
      step: this.steps[i],
    });
  }
}

export class Adam extends AdamBase {
  constructor(params: ParamsInput, opts: AdamOptions = {}) {
    super(params, opts, false);
  }
}

export class AdamW extends AdamBase {
  constructor(params: ParamsInput, opts: AdamOptions = {}) {
    super(params, opts, true);
  }
}
