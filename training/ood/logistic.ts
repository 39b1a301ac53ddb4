// Binary logistic regression, fitted by full-batch Adam on the mean log loss with a little L2
// (the inputs are standardised first, so one step size suits every column). Small and exact
// enough for the detector's ~140 inputs and ~20,000 rows (about a second here).

export interface LogisticModel {
  mean: number[];
  std: number[];
  weights: number[];
  bias: number;
}

export interface LogisticOptions {
  iterations?: number;
  lr?: number;
  l2?: number;
  /** Weight of the positive class's rows (balances unequal counts). */
  positiveWeight?: number;
}

/** x: n rows of d values; y: 1 = positive (not a digit), 0 = negative. */
export function fitLogistic(x: Float64Array, n: number, d: number, y: Uint8Array, opts: LogisticOptions = {}): LogisticModel {
  const iterations = opts.iterations ?? 400;
  const lr = opts.lr ?? 0.05;
  const l2 = opts.l2 ?? 1e-3;
  let pos = 0;
  for (let i = 0; i < n; i++) pos += y[i];
  const posWeight = opts.positiveWeight ?? (pos > 0 ? (n - pos) / pos : 1);
  const mean = new Float64Array(d);
  const std = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x[i * d + j] / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) std[j] += (x[i * d + j] - mean[j]) ** 2 / n;
  for (let j = 0; j < d; j++) std[j] = Math.sqrt(std[j]) || 1;
  const z = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) z[i * d + j] = (x[i * d + j] - mean[j]) / std[j];

  const w = new Float64Array(d + 1); // last = bias
  const m = new Float64Array(d + 1);
  const v = new Float64Array(d + 1);
  const g = new Float64Array(d + 1);
  const b1 = 0.9;
  const b2 = 0.999;
  let totalWeight = 0;
  for (let i = 0; i < n; i++) totalWeight += y[i] ? posWeight : 1;
  for (let it = 1; it <= iterations; it++) {
    g.fill(0);
    for (let i = 0; i < n; i++) {
      let s = w[d];
      const row = i * d;
      for (let j = 0; j < d; j++) s += w[j] * z[row + j];
      const p = 1 / (1 + Math.exp(-s));
      const r = (p - y[i]) * (y[i] ? posWeight : 1);
      for (let j = 0; j < d; j++) g[j] += r * z[row + j];
      g[d] += r;
    }
    for (let j = 0; j <= d; j++) {
      g[j] = g[j] / totalWeight + (j < d ? l2 * w[j] : 0);
      m[j] = b1 * m[j] + (1 - b1) * g[j];
      v[j] = b2 * v[j] + (1 - b2) * g[j] * g[j];
      w[j] -= (lr * (m[j] / (1 - b1 ** it))) / (Math.sqrt(v[j] / (1 - b2 ** it)) + 1e-8);
    }
  }
  return { mean: Array.from(mean), std: Array.from(std), weights: Array.from(w.subarray(0, d)), bias: w[d] };
}

export function logisticScore(model: LogisticModel, row: Float64Array | number[]): number {
  let s = model.bias;
  for (let j = 0; j < model.weights.length; j++) s += model.weights[j] * ((row[j] - model.mean[j]) / model.std[j]);
  return s;
}

/** The score threshold that rejects at most `rate` of these (negative-class) scores. */
export function thresholdForRate(scores: Float64Array | number[], rate: number): number {
  const sorted = Float64Array.from(scores).sort();
  const k = Math.min(sorted.length - 1, Math.max(0, Math.floor((1 - rate) * sorted.length)));
  // strictly above the k-th smallest: at most `rate` of the set scores above it
  return sorted[k];
}
