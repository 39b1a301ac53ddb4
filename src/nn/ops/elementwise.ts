// Elementwise ops over tensors of one shape (no broadcasting: the contract's binary kernel takes
// equal lengths). out = a ∘ b; gradients: add → (gy, gy), sub → (gy, −gy), mul → (gy·b, gy·a).

import { needsGrad, recordOp } from '../autograd.ts';
import { Tensor } from '../tensor.ts';
import { f32, requireF32, requireSameBackend, requireSameShape } from './checks.ts';

export function add(a: Tensor, b: Tensor): Tensor {
  requireSameShape('add', a, b);
  requireSameBackend('add', a, b);
  const be = a.backend;
  const out = Tensor.empty(be, a.shape);
  be.binary('add', f32(a), f32(b), f32(out));
  if (needsGrad(a, b)) {
    recordOp(out, 'add', [a, b], (gy, g) => {
      if (a === b) {
        // x + x: one gradient of 2·gy (passing gy twice would add a buffer to itself)
        const t = g.target(a);
        if (t === null) return;
        if (t.accumulate) be.axpy(2, gy, t.buf);
        else be.scale(gy, 2, 0, t.buf);
        return;
      }
      g.pass(b, gy);
      g.pass(a, gy);
    });
  }
  return out;
}

export function sub(a: Tensor, b: Tensor): Tensor {
  requireSameShape('sub', a, b);
  requireSameBackend('sub', a, b);
  const be = a.backend;
  const out = Tensor.empty(be, a.shape);
  be.binary('sub', f32(a), f32(b), f32(out));
  if (needsGrad(a, b)) {
    recordOp(out, 'sub', [a, b], (gy, g) => {
      const tb = g.target(b);
      if (tb !== null) {
        if (tb.accumulate) be.axpy(-1, gy, tb.buf);
        else be.scale(gy, -1, 0, tb.buf);
      }
      g.pass(a, gy);
    });
  }
  return out;
}

export function mul(a: Tensor, b: Tensor): Tensor {
  requireSameShape('mul', a, b);
  requireSameBackend('mul', a, b);
  const be = a.backend;
  const out = Tensor.empty(be, a.shape);
  be.binary('mul', f32(a), f32(b), f32(out));
  if (needsGrad(a, b)) {
    recordOp(
      out,
      'mul',
      [a, b],
      (gy, g) => {
        const ta = g.target(a);
        if (ta !== null) g.write(ta, a.size, (o) => be.binary('mul', gy, f32(b), o));
        const tb = g.target(b);
        if (tb !== null) g.write(tb, b.size, (o) => be.binary('mul', gy, f32(a), o));
      },
      [a, b],
    );
  }
  return out;
}

/** out = alpha·x + beta. */
export function scale(x: Tensor, alpha: number, beta = 0): Tensor {
  requireF32('scale', 'x', x);
  const be = x.backend;
  const out = Tensor.empty(be, x.shape);
  be.scale(f32(x), alpha, beta, f32(out));
  if (needsGrad(x)) {
    recordOp(out, 'scale', [x], (gy, g) => {
      const tx = g.target(x);
      if (tx === null) return;
      if (tx.accumulate) be.axpy(alpha, gy, tx.buf);
      else be.scale(gy, alpha, 0, tx.buf);
    });
  }
  return out;
}

export function relu(x: Tensor): Tensor {
  requireF32('relu', 'x', x);
  const be = x.backend;
  const out = Tensor.empty(be, x.shape);
  be.unary('relu', f32(x), f32(out));
  if (needsGrad(x)) {
    // the mask is read from the output (out > 0 ⇔ x > 0), so x need not stay alive
    recordOp(out, 'relu', [x], (gy, g) => {
      const tx = g.target(x);
      if (tx !== null) be.reluBackward(f32(out), gy, tx.buf, tx.accumulate);
    });
  }
  return out;
}
