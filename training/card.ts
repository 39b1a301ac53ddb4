// The model card: model.json next to model.safetensors. The service reads `architecture`,
// `weights`, `input` and `temperature` from it; people read the rest. Written by `inkling train`
// (after every epoch) and completed by `inkling eval` (test figures, temperature, calibration).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AugmentConfig } from './augment/config.ts';
import type { EpochPoint } from './plots/charts.ts';
import type { ScheduleConfig } from './schedule.ts';

export const CARD_FORMAT = 'inkling-model-card/1';
export const CARD_FILE = 'model.json';
export const WEIGHTS_FILE = 'model.safetensors';

export interface Recipe {
  optimizer: 'adam' | 'adamw' | 'sgd';
  lr: number;
  weightDecay: number;
  /** SGD momentum (Adam's β1 when the schedule does not cycle it). */
  momentum: number;
  nesterov: boolean;
  /** In the card: the schedule as run (totalSteps, warmupSteps resolved). */
  schedule: ScheduleConfig;
  /** cosine: warm-up length in epochs (resolved into schedule.warmupSteps). */
  warmupEpochs: number;
  /** onecycle: cycle Adam's β1 / SGD's momentum between 0.85 and 0.95 like PyTorch. */
  cycleMomentum: boolean;
  batch: number;
  epochs: number;
  labelSmoothing: number;
  /** false: train without the dropout layers (short runs converge faster). */
  dropout: boolean;
  augmentPreset: string;
  augment: AugmentConfig;
}

export interface EpochRecord extends EpochPoint {
  seconds: number;
  samplesPerSecond: number;
  /** Share of the epoch's wall time spent assembling/augmenting batches on the host. */
  dataShare: number;
}

export interface SplitFigures {
  count: number;
  accuracy: number;
  nll: number;
  ece: number;
}

export interface TestFigures extends SplitFigures {
  /** With the fitted temperature (accuracy is unchanged by temperature). */
  nllCalibrated: number;
  eceCalibrated: number;
  precision: number[];
  recall: number[];
  confusion: number[][];
  misclassified: number;
}

export interface ModelCard {
  format: typeof CARD_FORMAT;
  name: string;
  /** name@ + 12 hex digits of the weights' SHA-256 (src/model/identity.ts); the service and
   *  `inkling predict` recompute it from the file. */
  version: string;
  architecture: string;
  architectureDetail: string;
  parameters: number;
  weights: string;
  input: { shape: [1, 28, 28]; mean: number; std: number; framing: string };
  classes: string[];
  /** Divide logits by this before softmax; 1 until `inkling eval` fits it. */
  temperature: number;
  calibration: null | { fittedOn: 'validation'; method: 'temperature scaling (NLL, golden-section on log T)'; validationNllBefore: number; validationNllAfter: number; validationEceBefore: number; validationEceAfter: number };
  data: { source: string; train: string; validation: string; test: string; trainSamples: number; validationSamples: number };
  recipe: Recipe;
  seed: number;
  backend: string;
  device: string;
  threads: number | null;
  training: { epochsCompleted: number; bestEpoch: number; durationSeconds: number; history: EpochRecord[]; command: string };
  validation: SplitFigures | null;
  test: TestFigures | null;
  git: { commit: string; dirty: boolean } | null;
  created: string;
  updated: string;
  /** Fine-tuned from feedback (training/finetune.ts): the base model and before/after figures. */
  finetune?: FinetuneRecord;
}

export interface FinetuneRecord {
  from: string;
  feedback: { path: string; samples: number; train: number; holdout: number; holdoutFraction: number; copies: number; share: number };
  before: { mnistTest: number; feedbackHoldout: number };
  after: { mnistTest: number; feedbackHoldout: number };
  mnistTestCount: number;
}

export function gitInfo(cwd = process.cwd()): { commit: string; dirty: boolean } | null {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return { commit, dirty: status.trim().length > 0 };
  } catch {
    return null;
  }
}

export function writeCard(dir: string, card: ModelCard): void {
  const path = join(dir, CARD_FILE);
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(card, null, 2)}\n`);
  renameSync(tmp, path);
}

export function readCard(dir: string): ModelCard {
  const path = join(dir, CARD_FILE);
  if (!existsSync(path)) {
    throw new Error(`no model card at ${path}: --model must be a folder written by \`inkling train --out DIR\` (holding ${CARD_FILE} and ${WEIGHTS_FILE})`);
  }
  let card: ModelCard;
  try {
    card = JSON.parse(readFileSync(path, 'utf8')) as ModelCard;
  } catch (e) {
    throw new Error(`${path} is not valid JSON (${(e as Error).message}); retrain or restore the file`);
  }
  if (card.format !== CARD_FORMAT) throw new Error(`${path} has format ${JSON.stringify(card.format)}, expected ${CARD_FORMAT}`);
  return card;
}
