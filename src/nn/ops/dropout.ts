// dropout / dropout2d from the counter-based hash (dropout-rng.ts): the mask is a function of
// (seed, step, element or channel), so no mask is stored and the backward redraws it.
// Not training, or p = 0: the identity (a view of x).

import type { DeviceBuffer, DropoutParams } from '../backend.ts';
import { needsGrad, recordOp } from '../autograd.ts';
import { Tensor } from '../tensor.ts';
import { fmt, requireF32 } from './checks.ts';

export interface DropoutOptions {
  p: number;
  seed: number;
  step: number;
  /** Drop whole channels (dropout2d): x is [N, C, ...] and one draw covers each (n, c) plane. */
  channelwise?: boolean;
  training: boolean;
}

export function dropout(x: Tensor, opts: DropoutOptions): Tensor {
  requireF32('dropout', 'x', x);
  const { p } = opts;
  if (!(p >= 0 && p < 1)) throw new Error(`dropout: p must be in [0, 1), got ${p}`);
  if (!opts.training || p === 0) return x.reshape(x.shape);
  let spatial = 1;
  if (opts.channelwise) {
    if (x.shape.length < 2) throw new Error(`dropout2d: x must be [N, C, ...], got ${fmt(x.shape)}`);
    spatial = x.size / (x.shape[0] * x.shape[1]);
  }
  const dp: DropoutParams = { p, seed: opts.seed >>> 0, step: opts.step >>> 0, spatial };
  const be = x.backend;
  const out = Tensor.empty(be, x.shape);
  be.dropout(x.buffer as DeviceBuffer<'f32'>, out.buffer as DeviceBuffer<'f32'>, dp);
  if (needsGrad(x)) {
    recordOp(out, opts.channelwise ? 'dropout2d' : 'dropout', [x], (gy, g) => {
      const tx = g.target(x);
      if (tx !== null) be.dropoutBackward(gy, tx.buf, dp, tx.accumulate);
    });
  }
  return out;
}
