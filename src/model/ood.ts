// "Not a digit": an out-of-distribution detector stored next to a model's weights
// (ood.json + ood.safetensors). The classifier alone answers every input with some digit, often
// confidently ("A" → 4 at 61%), so the service and `inkling predict` also ask this detector and
// answer `"uncertain": true` with a reason when it fires.
//
// The detector is a small network on the model's own convolutional features (the 3136 values
// after `flatten`, before fc1): Linear(3136 → H) + ReLU + Linear(H → 2), whose score is
// logit(non-digit) − logit(digit). The classifier's later layers are trained to map everything
// onto one of ten digits; the convolutional features still tell a letter or a scribble apart.
// It is fitted (training/ood/fit.ts, `inkling ood fit`) on MNIST training digits against
// synthetic non-digits (letters in fonts, typed and handwritten numbers, scribbles), and its
// threshold is set on the validation digits (never seen by the fit) for a target
// false-rejection rate. A second, simpler reason: the top probability under `minConfidence`.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Backend } from '../nn/backend.ts';
import { Linear } from '../nn/modules/layers.ts';
import { Sequential } from '../nn/modules/sequential.ts';
import { ReLU } from '../nn/modules/simple.ts';
import { Rng } from '../nn/random.ts';
import { decodeSafetensors } from '../nn/safetensors.ts';

export const OOD_FILE = 'ood.json';
export const OOD_WEIGHTS = 'ood.safetensors';
export const OOD_FORMAT = 'inkling-ood/1';

export type UncertainReason = 'not_a_digit' | 'low_confidence';

export interface OodVerdict {
  /** logit(non-digit) − logit(digit). */
  score: number;
  uncertain: boolean;
  reason: UncertainReason | null;
  /** A sentence for people (the UI, the CLI). */
  message: string | null;
}

export const oodSchema = z.object({
  format: z.literal(OOD_FORMAT),
  method: z.string(),
  /** The model layer whose output the detector reads, and its width. */
  featureLayer: z.string(),
  featureWidth: z.number().int().positive(),
  hidden: z.number().int().positive(),
  weights: z.string().min(1),
  threshold: z.number(),
  minConfidence: z.number().min(0).max(1),
  /** How it was fitted and what it measured, for people. */
  fit: z.record(z.string(), z.unknown()).optional(),
});
export type OodFile = z.infer<typeof oodSchema>;

export function createOodHead(backend: Backend, featureWidth: number, hidden: number, seed = 1): Sequential {
  const rng = new Rng(seed);
  return new Sequential(backend, [
    ['fc1', new Linear(backend, featureWidth, hidden, { rng })],
    ['relu', new ReLU(backend)],
    ['fc2', new Linear(backend, hidden, 2, { rng })],
  ]);
}

export interface OodDetector {
  file: OodFile;
  head: Sequential;
  /** Verdicts from the head's outputs (n x 2) and the probabilities (n x 10). */
  judge(headOut: Float32Array, probabilities: Float32Array, n: number): OodVerdict[];
  dispose(): void;
}

export function verdicts(file: Pick<OodFile, 'threshold' | 'minConfidence'>, headOut: Float32Array, probabilities: Float32Array, n: number): OodVerdict[] {
  return Array.from({ length: n }, (_, r): OodVerdict => {
    const score = headOut[2 * r + 1] - headOut[2 * r];
    if (score > file.threshold) {
      return { score, uncertain: true, reason: 'not_a_digit', message: 'this does not look like one handwritten digit (a letter, several digits or a scribble?)' };
    }
    let top = 0;
    for (let c = 0; c < 10; c++) top = Math.max(top, probabilities[r * 10 + c]);
    if (top < file.minConfidence) {
      return { score, uncertain: true, reason: 'low_confidence', message: `the model is unsure: its best guess has only ${(100 * top).toFixed(0)}% confidence` };
    }
    return { score, uncertain: false, reason: null, message: null };
  });
}

/** The detector next to a model's weights, on `backend`, or null when the folder has none. */
export function readOodDetector(dir: string, backend: Backend): OodDetector | null {
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
  const file = parsed.data;
  const weightsPath = join(dir, file.weights);
  if (!existsSync(weightsPath)) throw new Error(`${weightsPath} is missing (${OOD_FILE} names it); refit with \`inkling ood fit --model ${dir}\` or delete ${OOD_FILE}`);
  const head = createOodHead(backend, file.featureWidth, file.hidden);
  try {
    head.loadStateDict(decodeSafetensors(new Uint8Array(readFileSync(weightsPath))).tensors);
  } catch (e) {
    head.dispose();
    throw new Error(`${weightsPath}: ${(e as Error).message}`, { cause: e });
  }
  head.eval();
  return {
    file,
    head,
    judge: (headOut, probabilities, n) => verdicts(file, headOut, probabilities, n),
    dispose: () => head.dispose(),
  };
}
