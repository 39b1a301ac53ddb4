// Row-wise softmax over [rows, cols], and the fused softmax + cross-entropy loss:
//   log p_j = x_j − max − log Σ_k exp(x_k − max)
//   loss = mean_r −Σ_j t_j · log p_j,  t = (1 − s)·onehot(label) + s/cols  (PyTorch's label_smoothing)
//   dlogits (+)= dloss · (p − t) / rows

import type { CrossEntropyParams } from '../../backend.ts';
import type { Num } from './numeric.ts';

/** Writes log-softmax of row r of x into logp (a scratch row) and returns it. */
function logSoftmaxRow(x: Num, r: number, cols: number, logp: Float64Array): Float64Array {
  let max = -Infinity;
  for (let j = 0; j < cols; j++) max = Math.max(max, x[r * cols + j]);
  let sum = 0;
  for (let j = 0; j < cols; j++) sum += Math.exp(x[r * cols + j] - max);
  const logSum = Math.log(sum);
  for (let j = 0; j < cols; j++) logp[j] = x[r * cols + j] - max - logSum;
  return logp;
}

export function softmax(x: Num, out: Num, rows: number, cols: number): void {
  const row = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    logSoftmaxRow(x, r, cols, row);
    for (let j = 0; j < cols; j++) out[r * cols + j] = Math.exp(row[j]);
  }
}

export function logSoftmax(x: Num, out: Num, rows: number, cols: number): void {
  const row = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    logSoftmaxRow(x, r, cols, row);
    for (let j = 0; j < cols; j++) out[r * cols + j] = row[j];
  }
}

function checkLabel(kernel: string, labels: Int32Array, r: number, cols: number): number {
  const label = labels[r];
  if (!(label >= 0 && label < cols)) throw new Error(`${kernel}: label ${label} in row ${r} is outside [0, ${cols})`);
  return label;
}

export function softmaxCrossEntropy(logits: Num, labels: Int32Array, probs: Num, loss: Num, p: CrossEntropyParams): void {
  const { rows, cols, labelSmoothing: s } = p;
  const row = new Float64Array(cols);
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const label = checkLabel('softmaxCrossEntropy', labels, r, cols);
    logSoftmaxRow(logits, r, cols, row);
    let sumLogp = 0;
    for (let j = 0; j < cols; j++) {
      probs[r * cols + j] = Math.exp(row[j]);
      sumLogp += row[j];
    }
    total += -(1 - s) * row[label] - (s / cols) * sumLogp;
  }
  loss[0] = total / rows;
}

export function softmaxCrossEntropyBackward(
  probs: Num, labels: Int32Array, dloss: Num, dlogits: Num, p: CrossEntropyParams, accumulate: boolean,
): void {
  const { rows, cols, labelSmoothing: s } = p;
  const k = dloss[0] / rows;
  for (let r = 0; r < rows; r++) {
    const label = checkLabel('softmaxCrossEntropyBackward', labels, r, cols);
    for (let j = 0; j < cols; j++) {
      const t = (j === label ? 1 - s : 0) + s / cols;
      const g = k * (probs[r * cols + j] - t);
      const i = r * cols + j;
      dlogits[i] = accumulate ? dlogits[i] + g : g;
    }
  }
}
