// Softmax family over the last dimension (x viewed as [rows, cols]).
//
// softmaxCrossEntropy is the training loss: one fused kernel gives probs (kept for the backward)
// and the mean loss; its backward is (probs − t)·dloss/rows.
// softmax / logSoftmax are mainly for inference; their backwards are composed from the contract,
// with row sums by channelSum (channels = rows) and the broadcast back by a k = 1 matmul:
//   softmax:    dx = y ⊙ (gy − rowsum(gy ⊙ y)) / T
//   logSoftmax: dx = gy − exp(y) ⊙ rowsum(gy)

import type { Backend, CrossEntropyParams, DeviceBuffer } from '../backend.ts';
import { needsGrad, recordOp, type BackwardContext } from '../autograd.ts';
import { Tensor } from '../tensor.ts';
import { f32, fmt, requireF32 } from './checks.ts';

function rowsCols(op: string, x: Tensor): { rows: number; cols: number } {
  requireF32(op, 'x', x);
  if (x.shape.length < 1) throw new Error(`${op}: x must have at least one dimension, got a scalar`);
  const cols = x.shape[x.shape.length - 1];
  return { rows: x.size / cols, cols };
}

/** s[r] = Σ_c x[r, c], then broadcast back to [rows, cols] (into a temp). */
function rowSumBroadcast(be: Backend, g: BackwardContext, x: DeviceBuffer<'f32'>, rows: number, cols: number): DeviceBuffer<'f32'> {
  const s = g.temp(rows);
  be.channelSum(x, s, { outer: 1, channels: rows, inner: cols });
  const ones = g.temp(cols);
  be.fill(ones, 1);
  const b = g.temp(rows * cols);
  be.matmul(s, ones, null, b, { m: rows, n: cols, k: 1, transA: false, transB: false });
  return b;
}

export interface CrossEntropyOptions {
  labelSmoothing?: number;
}

/** Mean cross-entropy of logits [rows, cols] against i32 labels [rows] (values in [0, cols)). */
export function softmaxCrossEntropy(logits: Tensor, labels: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const { rows, cols } = rowsCols('softmaxCrossEntropy', logits);
  labels.assertAlive('softmaxCrossEntropy');
  if (labels.dtype !== 'i32') throw new Error(`softmaxCrossEntropy: labels must be i32 class indices, got ${labels.dtype}`);
  if (labels.size !== rows) {
    throw new Error(`softmaxCrossEntropy: ${labels.size} labels ${fmt(labels.shape)} for ${rows} rows of logits ${fmt(logits.shape)}`);
  }
  const labelSmoothing = opts.labelSmoothing ?? 0;
  if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) throw new Error(`softmaxCrossEntropy: labelSmoothing must be in [0, 1], got ${labelSmoothing}`);
  const p: CrossEntropyParams = { rows, cols, labelSmoothing };
  const be = logits.backend;
  const loss = Tensor.empty(be, []);
  const probs = be.alloc(logits.size, 'f32');
  const lab = labels.buffer as DeviceBuffer<'i32'>;
  be.softmaxCrossEntropy(f32(logits), lab, probs, f32(loss), p);
  if (needsGrad(logits)) {
    recordOp(
      loss,
      'softmaxCrossEntropy',
      [logits],
      (gy, g) => {
        const t = g.target(logits);
        if (t !== null) be.softmaxCrossEntropyBackward(probs, lab, gy, t.buf, p, t.accumulate);
      },
      [labels],
      [probs],
    );
  } else {
    be.free(probs);
  }
  return loss;
}

export interface SoftmaxOptions {
  /** softmax(x / temperature); default 1. */
  temperature?: number;
}

export function softmax(x: Tensor, opts: SoftmaxOptions = {}): Tensor {
  const { rows, cols } = rowsCols('softmax', x);
  const temperature = opts.temperature ?? 1;
  if (!(temperature > 0)) throw new Error(`softmax: temperature must be > 0, got ${temperature}`);
  const be = x.backend;
  const out = Tensor.empty(be, x.shape);
  let input = f32(x);
  let scaled: DeviceBuffer<'f32'> | null = null;
  if (temperature !== 1) {
    scaled = be.alloc(x.size, 'f32');
    be.scale(input, 1 / temperature, 0, scaled);
    input = scaled;
  }
  be.softmax(input, f32(out), rows, cols);
  if (scaled !== null) be.free(scaled);
  if (needsGrad(x)) {
    recordOp(out, 'softmax', [x], (gy, g) => {
      const tx = g.target(x);
      if (tx === null) return;
      const y = f32(out);
      const gyY = g.temp(x.size);
      be.binary('mul', gy, y, gyY);
      const s = rowSumBroadcast(be, g, gyY, rows, cols);
      const diff = g.temp(x.size);
      be.binary('sub', gy, s, diff);
      g.write(tx, x.size, (dx) => {
        be.binary('mul', y, diff, dx);
        if (temperature !== 1) be.scale(dx, 1 / temperature, 0, dx);
      });
    });
  }
  return out;
}

export function logSoftmax(x: Tensor): Tensor {
  const { rows, cols } = rowsCols('logSoftmax', x);
  const be = x.backend;
  const out = Tensor.empty(be, x.shape);
  be.logSoftmax(f32(x), f32(out), rows, cols);
  if (needsGrad(x)) {
    recordOp(out, 'logSoftmax', [x], (gy, g) => {
      const tx = g.target(x);
      if (tx === null) return;
      const s = rowSumBroadcast(be, g, gy, rows, cols);
      const e = g.temp(x.size);
      be.unary('exp', f32(out), e);
      const es = g.temp(x.size);
      be.binary('mul', e, s, es);
      g.write(tx, x.size, (dx) => be.binary('sub', gy, es, dx));
    });
  }
  return out;
}
