// Sequential: children run in order, named "0", "1", ... or by the names given (like
// nn.Sequential(OrderedDict(...)), which is how the seed CNN gets conv1, bn1, ...).
// When a Conv2d, Linear or BatchNorm is directly followed by a ReLU, the pair runs as one fused op
// (ReLU epilogue forward; reluBackward on the output then the layer's backward).

import type { Backend } from '../backend.ts';
import type { Tensor } from '../tensor.ts';
import { isReluFusable } from './layers.ts';
import { Module } from './module.ts';
import { ReLU } from './simple.ts';

export type SequentialEntry = Module | readonly [string, Module];

export class Sequential extends Module {
  private readonly layers: Module[] = [];
  /** Whether layer i runs fused with the ReLU at i + 1 (computed once: the layer list is fixed). */
  private readonly fuseNext: boolean[] = [];
  /** Turn off to run every layer on its own (for checking the fusion). */
  fuse = true;

  constructor(backend: Backend, entries: readonly SequentialEntry[]) {
    super(backend);
    entries.forEach((e, i) => {
      const [name, m] = e instanceof Module ? [String(i), e] : e;
      this.layers.push(this.addModule(name, m));
    });
    for (let i = 0; i < this.layers.length; i++) {
      this.fuseNext.push(i + 1 < this.layers.length && isReluFusable(this.layers[i]) && this.layers[i + 1] instanceof ReLU);
    }
  }

  get length(): number {
    return this.layers.length;
  }

  at(i: number): Module {
    return this.layers[i];
  }

  forward(x: Tensor): Tensor {
    let h = x;
    const n = this.layers.length;
    for (let i = 0; i < n; i++) {
      const m = this.layers[i];
      if (this.fuse && this.fuseNext[i] && isReluFusable(m)) {
        h = m.forwardRelu(h);
        i++; // the ReLU ran inside
      } else {
        h = m.forward(h);
      }
    }
    return h;
  }
}
