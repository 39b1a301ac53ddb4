// `inkling train --finetune MODEL --feedback DATASET`: fine-tunes a model on its users' labelled
// feedback while replaying MNIST, so that learning the feedback does not forget MNIST.
//
//   1. the feedback set (training/data/feedback.ts) is split by a hash of each sample's id into a
//      training part and a held-out part (--holdout, default 20%);
//   2. before: the base model's accuracy on MNIST test and on the held-out feedback;
//   3. training: the base weights, then the usual trainer on the MNIST training split with the
//      feedback's training part appended enough times to make up --feedback-share of each epoch
//      (default 20%), augmentation on both, a small learning rate (default 1e-4, one epoch), and
//      the batch-norm statistics frozen (a first run that let them adapt lost 0.33 points on
//      MNIST test: 99.53% -> 99.20%);
//   4. after: the same two figures for the fine-tuned weights, written into the card
//      (`finetune`: from, feedback, before, after).
import type { Backend } from '../src/nn/backend.ts';
import { createBackend, type BackendName } from '../src/nn/backends/registry.ts';
import type { Module } from '../src/nn/modules/module.ts';
import { loadModuleWeights } from '../src/nn/safetensors.ts';
import { readModelFolder } from '../src/model/folder.ts';
import { type FinetuneRecord, readCard, type Recipe, WEIGHTS_FILE, writeCard } from './card.ts';
import { type DigitSet, loadMnist, sliceSet } from './data/mnist.ts';
import { readFeedbackDataset, splitFeedback } from './data/feedback.ts';
import { classificationMetrics } from './classification-metrics.ts';
import { modelSpec } from './models.ts';
import { predictLogits } from './predict.ts';
import { train, type TrainOptions, type TrainResult } from './trainer.ts';
import { join } from 'node:path';

export interface FinetuneOptions extends Omit<TrainOptions, 'model' | 'initWeights' | 'extraTrain' | 'data'> {
  base: string;
  feedback: string;
  holdoutFraction: number;
  feedbackShare: number;
  testLimit?: number;
  dataDir?: string;
}

async function accuracy(model: Module, backend: Backend, set: DigitSet): Promise<number> {
  if (set.count === 0) return NaN;
  return classificationMetrics(await predictLogits(model, backend, set), set.labels, 10).accuracy;
}

export async function finetune(o: FinetuneOptions): Promise<{ result: TrainResult; record: FinetuneRecord }> {
  const out = o.stdout ?? process.stdout;
  const log = (s: string) => out.write(`${s}\n`);
  const base = readModelFolder(o.base);
  const fb = await readFeedbackDataset(o.feedback);
  const { train: fbTrain, holdout } = splitFeedback(fb, o.holdoutFraction);
  if (fbTrain.count === 0) throw new Error(`the feedback set ${o.feedback} has ${fb.count} samples and none is left to train on after holding out ${(100 * o.holdoutFraction).toFixed(0)}%; lower --holdout or collect more feedback`);
  if (holdout.count === 0) log(`note: none of the ${fb.count} feedback samples fell into the holdout; the card's feedback figures will be n/a`);
  const data = loadMnist(o.dataDir);
  const test = o.testLimit !== undefined && o.testLimit < data.test.count ? sliceSet(data.test, 0, o.testLimit) : data.test;

  const backend = await createBackend(o.backend, o.threads !== undefined ? { threads: o.threads } : undefined);
  const before = { mnistTest: NaN, feedbackHoldout: NaN };
  {
    const m = modelSpec(base.card.architecture).create(backend, 0);
    await loadModuleWeights(m, base.weightsPath);
    before.mnistTest = await accuracy(m, backend, test);
    before.feedbackHoldout = await accuracy(m, backend, holdout);
    m.dispose();
  }
  backend.dispose();
  const trainN = Math.min(o.trainLimit ?? data.train.count, data.train.count);
  const copies = Math.max(1, Math.round((o.feedbackShare * trainN) / ((1 - o.feedbackShare) * fbTrain.count)));
  log(`fine-tuning ${base.identity.version} on ${fbTrain.count} feedback samples (x${copies}, ${(100 * (copies * fbTrain.count) / (copies * fbTrain.count + trainN)).toFixed(0)}% of each epoch) with ${trainN} MNIST training images replayed; ${holdout.count} feedback samples held out`);

  const result = await train({ ...o, model: base.card.architecture, data, initWeights: base.weightsPath, extraTrain: { set: fbTrain, copies }, freezeBatchNorm: true });
  // the best checkpoint (by MNIST validation) is what the folder holds: measure that one
  await loadModuleWeights(result.model, join(result.outDir, WEIGHTS_FILE));
  const after = { mnistTest: await accuracy(result.model, result.backend, test), feedbackHoldout: await accuracy(result.model, result.backend, holdout) };
  const record: FinetuneRecord = {
    from: base.identity.version,
    feedback: { path: o.feedback, samples: fb.count, train: fbTrain.count, holdout: holdout.count, holdoutFraction: o.holdoutFraction, copies, share: o.feedbackShare },
    before,
    after,
    mnistTestCount: test.count,
  };
  const card = readCard(result.outDir);
  card.finetune = record;
  writeCard(result.outDir, card);
  const pct = (v: number) => (Number.isFinite(v) ? `${(100 * v).toFixed(2)}%` : 'n/a');
  log(`                      before    after`);
  log(`MNIST test (${test.count})`.padEnd(22) + `${pct(before.mnistTest).padStart(7)}  ${pct(after.mnistTest).padStart(7)}`);
  log(`feedback holdout (${holdout.count})`.padEnd(22) + `${pct(before.feedbackHoldout).padStart(7)}  ${pct(after.feedbackHoldout).padStart(7)}`);
  return { result, record };
}

/** The fine-tune recipe's defaults where the user gave no flag. */
export function finetuneDefaults(recipe: Recipe, given: Set<string>): Recipe {
  const r = { ...recipe, schedule: { ...recipe.schedule } };
  if (!given.has('lr')) {
    r.lr = 1e-4;
    r.schedule.maxLr = 1e-4;
  }
  if (!given.has('epochs')) r.epochs = 1;
  return r;
}
