// Classification metrics from logits on the host (float64 math): accuracy, confusion matrix,
// per-class precision and recall, negative log-likelihood, expected calibration error and the
// reliability table behind it.
//
// ECE (Guo et al. 2017): split predictions into B equal-width confidence bins (lo, hi]
// (confidence = max softmax probability); ECE = Σ_b (n_b / N)·|accuracy_b − confidence_b|.

export interface ReliabilityBin {
  lo: number;
  hi: number;
  count: number;
  /** Mean confidence in the bin (NaN when empty). */
  confidence: number;
  /** Fraction correct in the bin (NaN when empty). */
  accuracy: number;
}

export interface ClassificationMetrics {
  count: number;
  correct: number;
  accuracy: number;
  /** Mean −log p(true class). */
  nll: number;
  ece: number;
  /** confusion[true][predicted]. */
  confusion: number[][];
  /** Per class: TP / (TP + FP); NaN when the class was never predicted. */
  precision: number[];
  /** Per class: TP / (TP + FN); NaN when the class never occurs. */
  recall: number[];
  reliability: ReliabilityBin[];
  /** argmax per sample. */
  predictions: Int32Array;
  /** max softmax probability per sample. */
  confidences: Float32Array;
}

export const ECE_BINS = 15;

/** Softmax of one row of logits / T into `out` (float64), returning log Σ exp (for the NLL). */
function softmaxRow(logits: ArrayLike<number>, offset: number, cols: number, invT: number, out: Float64Array): number {
  let max = -Infinity;
  for (let j = 0; j < cols; j++) max = Math.max(max, logits[offset + j] * invT);
  let sum = 0;
  for (let j = 0; j < cols; j++) {
    const e = Math.exp(logits[offset + j] * invT - max);
    out[j] = e;
    sum += e;
  }
  for (let j = 0; j < cols; j++) out[j] /= sum;
  return max + Math.log(sum);
}

/** Mean NLL of softmax(logits / T) (calibration's objective). */
export function meanNll(logits: ArrayLike<number>, labels: ArrayLike<number>, cols: number, temperature = 1): number {
  const rows = labels.length;
  const invT = 1 / temperature;
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let max = -Infinity;
    for (let j = 0; j < cols; j++) max = Math.max(max, logits[o + j] * invT);
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += Math.exp(logits[o + j] * invT - max);
    total += max + Math.log(sum) - logits[o + labels[r]] * invT;
  }
  return total / rows;
}

export function reliabilityBins(confidences: ArrayLike<number>, correct: ArrayLike<boolean | number>, bins = ECE_BINS): ReliabilityBin[] {
  const count = new Array<number>(bins).fill(0);
  const confSum = new Array<number>(bins).fill(0);
  const rightSum = new Array<number>(bins).fill(0);
  for (let i = 0; i < confidences.length; i++) {
    const c = confidences[i];
    const b = Math.min(bins - 1, Math.max(0, Math.ceil(c * bins) - 1));
    count[b]++;
    confSum[b] += c;
    rightSum[b] += correct[i] ? 1 : 0;
  }
  return count.map((n, b) => ({
    lo: b / bins,
    hi: (b + 1) / bins,
    count: n,
    confidence: n ? confSum[b] / n : NaN,
    accuracy: n ? rightSum[b] / n : NaN,
  }));
}

export function expectedCalibrationError(bins: ReliabilityBin[]): number {
  const total = bins.reduce((s, b) => s + b.count, 0);
  if (total === 0) return 0;
  return bins.reduce((s, b) => (b.count ? s + (b.count / total) * Math.abs(b.accuracy - b.confidence) : s), 0);
}

export function classificationMetrics(logits: ArrayLike<number>, labels: ArrayLike<number>, classes: number, temperature = 1, bins = ECE_BINS): ClassificationMetrics {
  const n = labels.length;
  if (logits.length !== n * classes) throw new RangeError(`logits hold ${logits.length} values, expected ${n} x ${classes}`);
  const probs = new Float64Array(classes);
  const predictions = new Int32Array(n);
  const confidences = new Float32Array(n);
  const correctFlags = new Uint8Array(n);
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  const invT = 1 / temperature;
  let nll = 0;
  let correct = 0;
  for (let r = 0; r < n; r++) {
    const o = r * classes;
    const logZ = softmaxRow(logits, o, classes, invT, probs);
    let best = 0;
    for (let j = 1; j < classes; j++) if (logits[o + j] > logits[o + best]) best = j;
    const y = labels[r];
    if (!(y >= 0 && y < classes)) throw new RangeError(`label ${y} at ${r} outside 0..${classes - 1}`);
    nll += logZ - logits[o + y] * invT;
    predictions[r] = best;
    confidences[r] = probs[best];
    confusion[y][best]++;
    if (best === y) {
      correct++;
      correctFlags[r] = 1;
    }
  }
  const precision: number[] = [];
  const recall: number[] = [];
  for (let k = 0; k < classes; k++) {
    const tp = confusion[k][k];
    let predicted = 0;
    let actual = 0;
    for (let j = 0; j < classes; j++) {
      predicted += confusion[j][k];
      actual += confusion[k][j];
    }
    precision.push(predicted ? tp / predicted : NaN);
    recall.push(actual ? tp / actual : NaN);
  }
  const reliability = reliabilityBins(confidences, correctFlags, bins);
  return {
    count: n,
    correct,
    accuracy: n ? correct / n : 0,
    nll: n ? nll / n : 0,
    ece: expectedCalibrationError(reliability),
    confusion,
    precision,
    recall,
    reliability,
    predictions,
    confidences,
  };
}
