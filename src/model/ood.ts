// "Not a digit": an out-of-distribution detector that sits next to a model's weights (ood.json).
// The classifier alone answers every input with some digit, often confidently ("A" → 4 at 61%),
// so the service and `inkling predict` also ask this detector, and answer `"uncertain": true` with
// a reason when it fires.
//
// The detector is a logistic regression over what the network computed for the input: its
// penultimate features (the 128 activations fc2 reads), its 10 logits and the energy
// −log Σ exp(logits) (Liu et al. 2020), each standardised with the mean and deviation of the
// fitting set. It is fitted (training/ood/fit.ts, `inkling ood fit`) on validation digits
// against synthetic non-digits (letters in fonts, typed and handwritten numbers, scribbles), and
// its threshold is set on the validation digits for a target false-rejection rate. A second,
// simpler reason: the top probability under `minConfidence` (two digits compete).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

export const OOD_FILE = 'ood.json';
export const OOD_FORMAT = 'inkling-ood/1';

export type UncertainReason = 'not_a_digit' | 'low_confidence';

export interface OodVerdict {
  /** Logit of P(not a digit) from the regression. */
  score: number;
  uncertain: boolean;
  reason: UncertainReason | null;
  /** A sentence for people (the UI, the CLI). */
  message: string | null;
}

const figures = z.record(z.string(), z.unknown());

export const oodSchema = z.object({
  format: z.literal(OOD_FORMAT),
  method: z.string(),
  /** Feature width the regression expects (penultimate layer), then 10 logits and the energy. */
  featureWidth: z.number().int().positive(),
  mean: z.array(z.number()),
  std: z.array(z.number().positive()),
  weights: z.array(z.number()),
  bias: z.number(),
  threshold: z.number(),
  minConfidence: z.number().min(0).max(1),
  temperature: z.number().positive(),
  /** How it was fitted and what it measured (rates on held-out sets), for people. */
  fit: figures.optional(),
});
export type OodFile = z.infer<typeof oodSchema>;

export interface OodDetector {
  file: OodFile;
  /** Scores rows of (features n x width, logits n x 10). */
  scores(features: Float32Array, width: number, logits: Float32Array, n: number): Float64Array;
  judge(features: Float32Array, width: number, logits: Float32Array, n: number): OodVerdict[];
}

/** The regression's inputs for one row: features, logits, energy. */
export function detectorInputs(features: Float32Array, width: number, logits: Float32Array, row: number, out: Float64Array): Float64Array {
  for (let j = 0; j < width; j++) out[j] = features[row * width + j];
  let max = -Infinity;
  for (let c = 0; c < 10; c++) max = Math.max(max, logits[row * 10 + c]);
  let sum = 0;
  for (let c = 0; c < 10; c++) {
    out[width + c] = logits[row * 10 + c];
    sum += Math.exp(logits[row * 10 + c] - max);
  }
  out[width + 10] = -(max + Math.log(sum));
  return out;
}

export function maxSoftmax(logits: Float32Array, row: number, temperature: number): number {
  let max = -Infinity;
  for (let c = 0; c < 10; c++) max = Math.max(max, logits[row * 10 + c] / temperature);
  let sum = 0;
  for (let c = 0; c < 10; c++) sum += Math.exp(logits[row * 10 + c] / temperature - max);
  return 1 / sum;
}

export function createOodDetector(file: OodFile): OodDetector {
  const dims = file.featureWidth + 11;
  if (file.mean.length !== dims || file.std.length !== dims || file.weights.length !== dims) {
    throw new Error(`${OOD_FILE}: mean, std and weights must have ${dims} values (featureWidth ${file.featureWidth} + 10 logits + energy)`);
  }
  const buf = new Float64Array(dims);
  const scores = (features: Float32Array, width: number, logits: Float32Array, n: number): Float64Array => {
    if (width !== file.featureWidth) throw new Error(`${OOD_FILE} expects ${file.featureWidth} features, the model gives ${width}`);
    const out = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      detectorInputs(features, width, logits, r, buf);
      let s = file.bias;
      for (let j = 0; j < dims; j++) s += file.weights[j] * ((buf[j] - file.mean[j]) / file.std[j]);
      out[r] = s;
    }
    return out;
  };
  return {
    file,
    scores,
    judge(features, width, logits, n) {
      const s = scores(features, width, logits, n);
      return Array.from(s, (score, r): OodVerdict => {
        if (score > file.threshold) {
          return { score, uncertain: true, reason: 'not_a_digit', message: 'this does not look like a single handwritten digit (a letter, several digits or a scribble?)' };
        }
        const top = maxSoftmax(logits, r, file.temperature);
        if (top < file.minConfidence) {
          return { score, uncertain: true, reason: 'low_confidence', message: `the model is unsure: its best guess has only ${(100 * top).toFixed(0)}% confidence` };
        }
        return { score, uncertain: false, reason: null, message: null };
      });
    },
  };
}

/** The detector next to a model's weights, or null when the folder has none. */
export function readOodDetector(dir: string): OodDetector | null {
  const path = join(dir, OOD_FILE);
  if (!existsSync(path)) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path} is not valid JSON (${(e as Error).message}); refit it with \`inkling ood fit --model ${dir}\``);
  }
  const parsed = oodSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`${path} is not an inkling OOD file: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return createOodDetector(parsed.data);
}
