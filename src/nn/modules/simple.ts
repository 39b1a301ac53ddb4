// Layers without parameters: ReLU, MaxPool2d, AvgPool2d, GlobalAvgPool2d, Flatten, Dropout,
// Dropout2d.

import type { Backend } from '../backend.ts';
import { dropout } from '../ops/dropout.ts';
import { relu } from '../ops/elementwise.ts';
import { avgPool2d, globalAvgPool2d, maxPool2d } from '../ops/pool.ts';
import { flatten } from '../ops/reduce.ts';
import type { Tensor } from '../tensor.ts';
import { Module } from './module.ts';

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

export class MaxPool2d extends Module {
  constructor(backend: Backend, readonly kernelSize: number, readonly stride: number = kernelSize) {
    super(backend);
  }

  forward(x: Tensor): Tensor {
    return maxPool2d(x, { kernel: this.kernelSize, stride: this.stride });
  }
}

export class AvgPool2d extends Module {
  constructor(backend: Backend, readonly kernelSize: number, readonly stride: number = kernelSize) {
    super(backend);
  }

  forward(x: Tensor): Tensor {
    return avgPool2d(x, { kernel: this.kernelSize, stride: this.stride });
  }
}

/** [N, C, H, W] → [N, C, 1, 1]. */
export class GlobalAvgPool2d extends Module {
  forward(x: Tensor): Tensor {
    return globalAvgPool2d(x);
  }
}

export class Flatten extends Module {
  constructor(backend: Backend, readonly startDim = 1) {
    super(backend);
  }

  forward(x: Tensor): Tensor {
    return flatten(x, this.startDim);
  }
}

export interface DropoutModuleOptions {
  /** Seeds the counter-based mask hash; masks are a function of (seed, step). */
  seed: number;
}

/** Dropout (per element) or, with channelwise, Dropout2d (whole [N, C] planes). Each training
 *  forward uses the current `step` and then advances it, so a run is reproducible from (seed,
 *  step); set `step` when resuming. */
class DropoutBase extends Module {
  step = 0;
  readonly seed: number;

  constructor(
    backend: Backend,
    readonly p: number,
    opts: DropoutModuleOptions,
    private readonly channelwise: boolean,
  ) {
    super(backend);
    if (!(p >= 0 && p < 1)) throw new Error(`Dropout: p must be in [0, 1), got ${p}`);
    this.seed = opts.seed >>> 0;
  }

  forward(x: Tensor): Tensor {
    if (!this.training) return dropout(x, { p: this.p, seed: this.seed, step: this.step, channelwise: this.channelwise, training: false });
    const step = this.step;
    this.step = (this.step + 1) >>> 0;
    return dropout(x, { p: this.p, seed: this.seed, step, channelwise: this.channelwise, training: true });
  }
}

export class Dropout extends DropoutBase {
  constructor(backend: Backend, p: number, opts: DropoutModuleOptions) {
    super(backend, p, opts, false);
  }
}

export class Dropout2d extends DropoutBase {
  constructor(backend: Backend, p: number, opts: DropoutModuleOptions) {
    super(backend, p, opts, true);
  }
}
