// Sequential: children run in order, named "0", "1", ... or by the names given (like
// nn.Sequential(OrderedDict(...)), which is how the seed CNN gets conv1, bn1, ...).
// When a Conv2d, Linear or BatchNorm is directly followed by a ReLU, the pair runs as one fused op
// (ReLU epilogue forward; reluBackward on the output then the layer's backward).
// Under noGrad in eval mode, Conv2d → BatchNorm2d (→ ReLU) (→ MaxPool2d) runs as one convolution
// with the batchnorm folded into its weights (fold.ts), and with the pool, as one conv2dMaxPool
// kernel that never stores the convolution's output. In training mode, BatchNorm2d (→ ReLU) → MaxPool2d
// runs as one fused op (ops/batchnorm-pool.ts) that never stores the normalised tensor, and with the
// Conv2d before it, when the Conv2d's input needs no gradient (a network's first layer: the input
// is data) and the backend has one kernel for it (fusesConvBatchNormMaxPool: the cpu's for one
// input channel), Conv2d → BatchNorm2d (→ ReLU) → MaxPool2d runs as one fused op
// (ops/conv-batchnorm-pool.ts) that never stores the convolution's output either.

import type { Backend } from '../backend.ts';
import { isGradEnabled, needsGrad } from '../autograd.ts';
import type { Tensor } from '../tensor.ts';
import { convBatchNormInference } from './fold.ts';
import { BatchNorm2d, Conv2d, isReluFusable } from './layers.ts';
import { Module } from './module.ts';
import { MaxPool2d, ReLU } from './simple.ts';

export type SequentialEntry = Module | readonly [string, Module];

export class Sequential extends Module {
  private readonly layers: Module[] = [];
  /** Whether layer i runs fused with the ReLU at i + 1 (computed once: the layer list is fixed). */
  private readonly fuseNext: boolean[] = [];
  /** For a BatchNorm2d at i: the MaxPool2d it runs fused with (right after it, or after its ReLU). */
  private readonly poolAfter: ({ pool: MaxPool2d; relu: boolean } | null)[] = [];
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
    for (let i = 0; i < this.layers.length; i++) {
      const [a, b] = [this.layers[i + 1], this.layers[i + 2]];
      let plan: { pool: MaxPool2d; relu: boolean } | null = null;
      if (this.layers[i] instanceof BatchNorm2d) {
        if (a instanceof MaxPool2d) plan = { pool: a, relu: false };
        else if (a instanceof ReLU && b instanceof MaxPool2d) plan = { pool: b, relu: true };
      }
      this.poolAfter.push(plan);
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
    // without recording, nothing refers to an intermediate once the next layer has consumed it:
    // free it at once (lower peak memory; inference outside tidy leaks nothing)
    const inference = !isGradEnabled();
    const foldBn = this.fuse && inference;
    for (let i = 0; i < n; i++) {
      const m = this.layers[i];
      const next = this.layers[i + 1];
      let out: Tensor;
      const pooled = this.poolAfter[i];
      // poolAfter of the batchnorm after a Conv2d: the MaxPool2d right after it or after its ReLU
      const convPooled = this.poolAfter[i + 1];
      const convAct = convPooled?.relu ? 'relu' : 'none';
      if (this.fuse && convPooled && m instanceof Conv2d && next instanceof BatchNorm2d && next.training && !needsGrad(h) &&
        next.fusesConvMaxPool(m, h, convAct, convPooled.pool.kernelSize, convPooled.pool.stride)) {
        out = next.forwardConvMaxPool(m, h, convAct, convPooled.pool.kernelSize, convPooled.pool.stride);
        i += convPooled.relu ? 3 : 2;
      } else if (this.fuse && pooled && m instanceof BatchNorm2d && m.training) {
        out = m.forwardMaxPool(h, pooled.relu ? 'relu' : 'none', pooled.pool.kernelSize, pooled.pool.stride);
        i += pooled.relu ? 2 : 1;
      } else if (foldBn && m instanceof Conv2d && next instanceof BatchNorm2d && !next.training) {
        const relu = this.fuseNext[i + 1];
        // poolAfter of the batchnorm: the MaxPool2d right after it or after its ReLU
        const after = this.poolAfter[i + 1];
        const pool = after && after.relu === relu ? after.pool : null;
        out = convBatchNormInference(m, next, h, relu ? 'relu' : 'none', pool);
        i += (relu ? 2 : 1) + (pool ? 1 : 0);
      } else if (this.fuse && this.fuseNext[i] && isReluFusable(m)) {
        out = m.forwardRelu(h);
        i++; // the ReLU ran inside
      } else {
        out = m.forward(h);
      }
      if (inference && h !== x && h !== out) h.dispose();
      h = out;
    }
    return h;
  }
}
