// `inkling eval`: test-set figures, temperature scaling fitted on the validation split, the
// plots and the misclassified contact sheet, and the card's figures (test, validation, the
// temperature). Right after training (`updateCard`, the default for library callers) they go next
// to the new checkpoint and complete its card. `inkling eval` on an existing folder writes them into
// its `eval/` subfolder (untracked: .gitignore) as evaluation.json and never rewrites model.json, so
// that evaluating the shipped model leaves the repository clean; `--write-card` asks for the card.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from '../src/nn/backend.ts';
import { createBackend, type BackendName } from '../src/nn/backends/registry.ts';
import type { Module } from '../src/nn/modules/module.ts';
import { loadModuleWeights } from '../src/nn/safetensors.ts';
import { fitTemperature } from './calibration.ts';
import { type ModelCard, readCard, WEIGHTS_FILE, writeCard } from './card.ts';
import { CLASSES, type DigitSet, IMAGE_PIXELS, loadMnist, type MnistSplits, sliceSet } from './data/mnist.ts';
import { classificationMetrics, type ClassificationMetrics, type ReliabilityBin } from './classification-metrics.ts';
import { modelSpec } from './models.ts';
import { confusionMatrixChart, reliabilityChart, trainingCurvesChart } from './plots/charts.ts';
import { contactSheetPng } from './plots/contact-sheet.ts';
import { writeChart } from './plots/render.ts';
import { predictLogits } from './predict.ts';

export interface EvalOptions {
  modelDir: string;
  backend: BackendName;
  threads?: number;
  dataDir?: string;
  data?: MnistSplits;
  /** Evaluate only the first N test / validation images (quick runs and tests). */
  testLimit?: number;
  validationLimit?: number;
  /** Most misclassified images on the contact sheet. */
  sheetLimit?: number;
  stdout?: NodeJS.WritableStream;
  /** Reuse a model already in memory (right after training) instead of loading the file. */
  model?: { module: Module; backend: Backend };
  /** Where the plots and the contact sheet go (default: modelDir). */
  outDir?: string;
  /** Write the figures into modelDir's model.json (default true); false writes them to
   *  outDir/evaluation.json instead and leaves the card as it was. */
  updateCard?: boolean;
}

/** The file `updateCard: false` writes: the figures the card would have received. */
export const EVALUATION_FILE = 'evaluation.json';

export interface EvalReport {
  card: ModelCard;
  test: ClassificationMetrics;
  testCalibrated: ClassificationMetrics;
  validation: ClassificationMetrics;
  validationCalibrated: ClassificationMetrics;
  temperature: number;
  files: string[];
}

const pct = (v: number, digits = 2) => (Number.isFinite(v) ? `${(100 * v).toFixed(digits)}%` : 'n/a');

export function reliabilityTable(bins: ReliabilityBin[]): string[] {
  const lines = ['  confidence     count  mean conf  accuracy     gap'];
  for (const b of bins) {
    if (b.count === 0) continue;
    lines.push(
      `  (${b.lo.toFixed(3)}, ${b.hi.toFixed(3)}]  ${String(b.count).padStart(6)}  ${b.confidence.toFixed(4).padStart(9)}  ${b.accuracy.toFixed(4).padStart(8)}  ${(b.accuracy - b.confidence).toFixed(4).padStart(7)}`,
    );
  }
  return lines;
}

export function confusionTable(confusion: number[][]): string[] {
  const w = Math.max(4, ...confusion.flat().map((v) => String(v).length + 1));
  const lines = [`  true\\pred${confusion.map((_, j) => String(j).padStart(w)).join('')}`];
  confusion.forEach((row, i) => lines.push(`  ${String(i).padStart(9)}${row.map((v) => String(v).padStart(w)).join('')}`));
  return lines;
}

export async function evaluate(opts: EvalOptions): Promise<EvalReport> {
  const out = opts.stdout ?? process.stdout;
  const log = (s: string) => out.write(`${s}\n`);
  const card = readCard(opts.modelDir);
  const weights = join(opts.modelDir, card.weights ?? WEIGHTS_FILE);
  if (!existsSync(weights)) throw new Error(`${weights} is missing: the card names it but the folder does not hold it; retrain with \`inkling train --out ${opts.modelDir}\``);

  let backend: Backend;
  let model: Module;
  if (opts.model) {
    ({ module: model, backend } = opts.model);
  } else {
    backend = await createBackend(opts.backend, opts.threads !== undefined ? { threads: opts.threads } : undefined);
    model = modelSpec(card.architecture).create(backend, card.seed);
  }
  await loadModuleWeights(model, weights);

  const data = opts.data ?? loadMnist(opts.dataDir);
  const lim = (set: DigitSet, n?: number) => (n !== undefined && n < set.count ? sliceSet(set, 0, n) : set);
  const testSet = lim(data.test, opts.testLimit);
  const valSet = lim(data.validation, opts.validationLimit);

  const valLogits = await predictLogits(model, backend, valSet);
  const testLogits = await predictLogits(model, backend, testSet);
  const fit = fitTemperature(valLogits, valSet.labels, CLASSES);
  const T = fit.temperature;
  const validation = classificationMetrics(valLogits, valSet.labels, CLASSES, 1);
  const validationCalibrated = classificationMetrics(valLogits, valSet.labels, CLASSES, T);
  const test = classificationMetrics(testLogits, testSet.labels, CLASSES, 1);
  const testCalibrated = classificationMetrics(testLogits, testSet.labels, CLASSES, T);

  log(`model: ${opts.modelDir} (${card.architecture}, ${card.parameters.toLocaleString('en-US')} parameters, trained ${card.training.epochsCompleted} epochs on ${card.backend}); evaluated on ${backend.name}`);
  log(`test accuracy: ${pct(test.accuracy)}`);
  log(`test errors: ${test.count - test.correct} of ${test.count}`);
  log(`test NLL: ${test.nll.toFixed(4)} (calibrated ${testCalibrated.nll.toFixed(4)})`);
  log(`test ECE (15 bins): ${pct(test.ece)} (calibrated ${pct(testCalibrated.ece)})`);
  log(`temperature: ${T.toFixed(4)} (fitted on the ${valSet.count} validation images: NLL ${fit.nllBefore.toFixed(4)} -> ${fit.nllAfter.toFixed(4)}, ECE ${pct(validation.ece)} -> ${pct(validationCalibrated.ece)})`);
  log(`validation accuracy: ${pct(validation.accuracy)}`);
  log('per-class precision / recall (test):');
  for (let k = 0; k < CLASSES; k++) {
    log(`  ${k}: precision ${pct(test.precision[k])}  recall ${pct(test.recall[k])}  (${test.confusion[k].reduce((a, b) => a + b, 0)} images)`);
  }
  log('confusion matrix (test, rows = true, columns = predicted):');
  confusionTable(test.confusion).forEach((l) => log(l));
  log('reliability (test, T = 1):');
  reliabilityTable(test.reliability).forEach((l) => log(l));
  log(`reliability (test, T = ${T.toFixed(3)}):`);
  reliabilityTable(testCalibrated.reliability).forEach((l) => log(l));

  // Files next to the checkpoint, or in outDir.
  const dir = opts.outDir ?? opts.modelDir;
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const tag = `${card.architecture} · ${card.backend} · seed ${card.seed}`;
  files.push(...writeChart(dir, 'confusion-matrix', confusionMatrixChart(test.confusion, `Confusion matrix, test (${pct(test.accuracy)})`)));
  files.push(...writeChart(dir, 'reliability', reliabilityChart(test.reliability, `Reliability, test (T = 1 vs ${T.toFixed(2)})`, testCalibrated.reliability)));
  if (card.training.history.length > 0) files.push(...writeChart(dir, 'training-curves', trainingCurvesChart(card.training.history, tag)));
  const wrong = [];
  for (let i = 0; i < test.count && wrong.length < (opts.sheetLimit ?? 400); i++) {
    if (test.predictions[i] === testSet.labels[i]) continue;
    const px = new Float32Array(IMAGE_PIXELS);
    for (let p = 0; p < IMAGE_PIXELS; p++) px[p] = testSet.pixels[i * IMAGE_PIXELS + p] / 255;
    wrong.push({ pixels: px, label: testSet.labels[i], predicted: test.predictions[i], confidence: testCalibrated.confidences[i], index: i });
  }
  const sheet = join(dir, 'misclassified.png');
  writeFileSync(sheet, contactSheetPng(wrong, `Misclassified test images: ${test.count - test.correct} of ${test.count} (true→predicted, calibrated confidence, test index)`));
  files.push(sheet);

  card.temperature = T;
  card.calibration = {
    fittedOn: 'validation',
    method: 'temperature scaling (NLL, golden-section on log T)',
    validationNllBefore: fit.nllBefore,
    validationNllAfter: fit.nllAfter,
    validationEceBefore: validation.ece,
    validationEceAfter: validationCalibrated.ece,
  };
  card.validation = { count: validation.count, accuracy: validation.accuracy, nll: validation.nll, ece: validation.ece };
  card.test = {
    count: test.count,
    accuracy: test.accuracy,
    nll: test.nll,
    ece: test.ece,
    nllCalibrated: testCalibrated.nll,
    eceCalibrated: testCalibrated.ece,
    precision: test.precision,
    recall: test.recall,
    confusion: test.confusion,
    misclassified: test.count - test.correct,
  };
  card.updated = new Date().toISOString();
  if (opts.updateCard ?? true) {
    writeCard(opts.modelDir, card);
    log(`wrote ${files.map((f) => f.split('/').pop()).join(', ')} in ${dir} and updated model.json in ${opts.modelDir}`);
  } else {
    const { temperature, calibration, validation: v, test: tf, updated } = card;
    const path = join(dir, EVALUATION_FILE);
    writeFileSync(path, `${JSON.stringify({ model: opts.modelDir, backend: backend.name, evaluated: updated, temperature, calibration, validation: v, test: tf }, null, 2)}\n`);
    files.push(path);
    log(`wrote ${files.map((f) => f.split('/').pop()).join(', ')} in ${dir} (${opts.modelDir}/model.json unchanged; --write-card updates it)`);
  }
  return { card, test, testCalibrated, validation, validationCalibrated, temperature: T, files };
}
