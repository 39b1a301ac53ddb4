// Full reductions and argmax. sum/mean give a scalar (shape []); their backward broadcasts the
// scalar gradient with a k = 1 matmul (ones [size, 1] · gy [1, 1]), which also carries the
// accumulate flag.

import type { DeviceBuffer } from '../backend.ts';
import { needsGrad, recordOp } from '../autograd.ts';
import { Tensor } from '../tensor.ts';
import { requireF32 } from './checks.ts';

function reduce(op: 'sum' | 'mean', x: Tensor): Tensor {
  requireF32(op, 'x', x);
  const be = x.backend;
  const out = Tensor.empty(be, []);
  const o = out.buffer as DeviceBuffer<'f32'>;
  be.channelSum(x.buffer as DeviceBuffer<'f32'>, o, { outer: 1, channels: 1, inner: x.size });
  const factor = op === 'mean' ? 1 / x.size : 1;
  if (factor !== 1) be.scale(o, factor, 0, o);
  if (needsGrad(x)) {
    recordOp(out, op, [x], (gy, g) => {
      const tx = g.target(x);
      if (tx === null) return;
      const col = g.temp(x.size);
      be.fill(col, factor);
      be.matmul(col, gy, null, tx.buf, { m: x.size, n: 1, k: 1, transA: false, transB: false, accumulate: tx.accumulate });
    });
  }
  return out;
}

/** Σ of all elements → scalar. */
export function sum(x: Tensor): Tensor {
  return reduce('sum', x);
}

/** Mean of all elements → scalar. */
export function mean(x: Tensor): Tensor {
  return reduce('mean', x);
}

/** Index of the largest value along the last dimension (first on ties), as i32; no gradient. */
export function argmax(x: Tensor): Tensor {
  requireF32('argmax', 'x', x);
  if (x.shape.length < 1) throw new Error('argmax: x must have at least one dimension');
  const cols = x.shape[x.shape.length - 1];
  const rows = x.size / cols;
  const be = x.backend;
  const out = Tensor.empty(be, x.shape.slice(0, -1), 'i32');
  be.argmax(x.buffer as DeviceBuffer<'f32'>, out.buffer as DeviceBuffer<'i32'>, rows, cols);
  return out;
}

/** [d0, d1, ..., dk] → [d0, ..., d(start−1), Π rest] as a view (start defaults to 1, like nn.Flatten). */
export function flatten(x: Tensor, startDim = 1): Tensor {
  x.assertAlive('flatten');
  const r = x.shape.length;
  if (startDim < 0) startDim += r;
  if (!Number.isInteger(startDim) || startDim < 0 || startDim >= Math.max(r, 1)) {
    throw new Error(`flatten: startDim ${startDim} is out of range for shape [${x.shape.join(', ')}]`);
  }
  return x.reshape([...x.shape.slice(0, startDim), -1]);
}

/** A view with another shape (one dimension may be −1); gradients flow through. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  return x.reshape(shape);
}
