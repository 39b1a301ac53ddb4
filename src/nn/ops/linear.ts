// linear: y = x · wᵀ + b (then ReLU when fused), x [..., in], w [out, in] (PyTorch's layout),
// b [out]. Leading dimensions are flattened into m rows. Backward, with dy = gy (masked when fused):
//   dx [m, in]  = dy [m, out] · w [out, in]
//   dw [out, in] = dyᵀ [out, m] · x [m, in]
//   db [out]    = Σ_rows dy
// all through matmul/channelSum with their accumulate flags.

import type { Activation } from '../backend.ts';
import { needsGrad, recordOp } from '../autograd.ts';
import { Tensor } from '../tensor.ts';
import { f32, fmt, requireF32, requireRank, requireSameBackend, requireShape } from './checks.ts';

export interface LinearOptions {
  activation?: Activation;
}

export function linear(x: Tensor, w: Tensor, b: Tensor | null, opts: LinearOptions = {}): Tensor {
  requireF32('linear', 'x', x);
  requireRank('linear', 'weight', w, [2]);
  requireSameBackend('linear', x, w);
  requireSameBackend('linear', x, b);
  const [outF, inF] = w.shape;
  const xIn = x.shape[x.shape.length - 1];
  if (x.shape.length < 1 || xIn !== inF) {
    throw new Error(`linear: x ${fmt(x.shape)} must end in ${inF} features to match weight ${fmt(w.shape)}`);
  }
  if (b !== null) requireShape('linear', 'bias', b, [outF]);
  const m = x.size / inF;
  const activation = opts.activation ?? 'none';
  const be = x.backend;
  const outShape = x.shape.slice(0, -1);
  outShape.push(outF);
  const out = Tensor.empty(be, outShape);
  be.matmul(f32(x), f32(w), b === null ? null : f32(b), f32(out), {
    m,
    n: outF,
    k: inF,
    transA: false,
    transB: true,
    activation,
  });
  if (needsGrad(x, w, b)) {
    recordOp(
      out,
      'linear',
      [x, w, b],
      (gy, g) => {
        const dy = g.beforeActivation(activation, out, gy);
        const tx = g.target(x);
        if (tx !== null) {
          be.matmul(dy, f32(w), null, tx.buf, { m, n: inF, k: outF, transA: false, transB: false, accumulate: tx.accumulate });
        }
        const tw = g.target(w);
        if (tw !== null) {
          be.matmul(dy, f32(x), null, tw.buf, { m: outF, n: inF, k: m, transA: true, transB: false, accumulate: tw.accumulate });
        }
        const tb = g.target(b);
        if (tb !== null) be.channelSum(dy, tb.buf, { outer: m, channels: outF, inner: 1 }, tb.accumulate);
      },
      [x, w],
    );
  }
  return out;
}

/** matmul of two matrices: a [m, k] · b [k, n] → [m, n]. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  requireRank('matmul', 'a', a, [2]);
  requireRank('matmul', 'b', b, [2]);
  requireSameBackend('matmul', a, b);
  const [m, k] = a.shape;
  const [kb, n] = b.shape;
  if (k !== kb) throw new Error(`matmul: inner dimensions differ: ${fmt(a.shape)} · ${fmt(b.shape)}`);
  const be = a.backend;
  const out = Tensor.empty(be, [m, n]);
  be.matmul(f32(a), f32(b), null, f32(out), { m, n, k, transA: false, transB: false });
  if (needsGrad(a, b)) {
    recordOp(
      out,
      'matmul',
      [a, b],
      (gy, g) => {
        // da [m, k] = gy [m, n] · bᵀ ; db [k, n] = aᵀ · gy
        const ta = g.target(a);
        if (ta !== null) be.matmul(gy, f32(b), null, ta.buf, { m, n: k, k: n, transA: false, transB: true, accumulate: ta.accumulate });
        const tb = g.target(b);
        if (tb !== null) be.matmul(f32(a), gy, null, tb.buf, { m: k, n, k: m, transA: true, transB: false, accumulate: tb.accumulate });
      },
      [a, b],
    );
  }
  return out;
}
