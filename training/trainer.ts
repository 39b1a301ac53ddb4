// One training run: data, model, optimizer, schedule, the step loop, validation after every
// epoch, checkpoints (best + last + resume state) and the model card.
//
// Files in the output folder:
//   model.safetensors            best weights so far (validation accuracy, then loss)
//   model.json                   the model card (card.ts)
//   last.safetensors             the latest epoch's weights  \  what --resume reads: a resumed
//   resume.json                  step, history, RNG positions  > run continues exactly where
//   resume-optimizer.safetensors optimizer state              /  the interrupted one stopped
//   training-curves.svg / .png
//
// Determinism: weights init from --seed, batches are a seeded shuffle of (seed, epoch),
// augmentation draws per (seed, epoch, sample), dropout masks per (layer seed, step). The same
// seed, backend and thread count give the same weights; see README for what differs elsewhere.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync, renameSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { identityOfFile } from '../src/model/identity.ts';
import type { Backend } from '../src/nn/backend.ts';
import { tidy } from '../src/nn/autograd.ts';
import { createBackend, type BackendName } from '../src/nn/backends/registry.ts';
import { RunningMetrics } from '../src/nn/running-metrics.ts';
import type { Module } from '../src/nn/modules/module.ts';
import { BatchNorm1d, BatchNorm2d } from '../src/nn/modules/layers.ts';
import * as F from '../src/nn/ops/index.ts';
import { Adam, AdamW } from '../src/nn/optim/adam.ts';
import type { Optimizer } from '../src/nn/optim/optimizer.ts';
import { SGD } from '../src/nn/optim/sgd.ts';
import { loadModuleWeights, readSafetensors, saveModule, writeSafetensors } from '../src/nn/safetensors.ts';
import { Tensor } from '../src/nn/tensor.ts';
import { MNIST_MEAN, MNIST_STD } from '../src/preprocess/frame.ts';
import { CARD_FORMAT, gitInfo, type EpochRecord, type ModelCard, type Recipe, WEIGHTS_FILE, writeCard } from './card.ts';
import { createBatchSource, type BatchSource } from './data/batch-source.ts';
import { concatSets } from './data/feedback.ts';
import { CLASSES, type DigitSet, IMAGE_SIDE, loadMnist, type MnistSplits, sliceSet, SPLIT_DESCRIPTION } from './data/mnist.ts';
import { classificationMetrics } from './classification-metrics.ts';
import { dropoutSteps, modelSpec, setDropoutSteps } from './models.ts';
import { trainingCurvesChart } from './plots/charts.ts';
import { writeChart } from './plots/render.ts';
import { predictLogits } from './predict.ts';
import { EpochProgress, formatDuration } from './progress.ts';
import { lrAt, momentumAt, resolveSchedule, type ScheduleConfig } from './schedule.ts';

export interface TrainOptions {
  model: string;
  backend: BackendName;
  threads?: number;
  seed: number;
  recipe: Recipe;
  out: string;
  /** A folder (or its resume.json) written by an earlier run with the same recipe. */
  resume?: string;
  dataDir?: string;
  /** Use only the first N training / validation samples (quick runs and tests). */
  trainLimit?: number;
  validationLimit?: number;
  /** Stop after this many epochs (of recipe.epochs), leaving a checkpoint --resume continues. */
  stopAfterEpochs?: number;
  /** 1: assemble batches in a worker thread, overlapping the step; 0: inline. Default 1. */
  dataWorkers?: number;
  /** Steps between reads of the on-device loss/accuracy sums (the progress bar's refresh). */
  logEvery: number;
  /** The command line, stored in the card. */
  command: string;
  /** Where progress and epoch lines go (stdout by default). */
  stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Pre-loaded data (tests, the to99 benchmark). */
  data?: MnistSplits;
  /** Start from these weights instead of a fresh init (fine-tuning). */
  initWeights?: string;
  /** Extra training samples, appended `copies` times to the MNIST training set (fine-tuning on
   *  feedback with MNIST replayed). */
  extraTrain?: { set: DigitSet; copies: number };
  /** Keep batch-norm layers in eval mode while training (their running statistics stay those of
   *  the starting weights; γ and β still learn): fine-tuning, where a share of unusual samples
   *  would otherwise shift the statistics MNIST relies on. */
  freezeBatchNorm?: boolean;
}

export interface TrainResult {
  card: ModelCard;
  model: Module;
  backend: Backend;
  data: MnistSplits;
  outDir: string;
  /** Mean share of wall time spent in the data pipeline over the run's epochs. */
  dataShare: number;
  /** All planned epochs are done (not stopped by stopAfterEpochs). */
  finished: boolean;
}

export interface ResumeState {
  format: 'inkling-resume/1';
  model: string;
  seed: number;
  recipe: Recipe;
  backend: string;
  trainLimit: number | null;
  validationLimit: number | null;
  epochsCompleted: number;
  globalStep: number;
  dropoutSteps: Record<string, number>;
  optimizer: { type: string; hyper: Record<string, number | boolean>; steps: number[] };
  best: { epoch: number; accuracy: number; loss: number; ece: number };
  history: EpochRecord[];
  elapsedSeconds: number;
  created: string;
  /** The command lines that produced this run (the first, then each resume). */
  commands: string[];
}

const RESUME_FILE = 'resume.json';
const RESUME_OPTIMIZER = 'resume-optimizer.safetensors';
const LAST_WEIGHTS = 'last.safetensors';
const LR_SAMPLES_PER_EPOCH = 10;

/** The recipe's optimizer, and how the one-cycle schedule sets its momentum (SGD's momentum,
 *  Adam's β1), typed per optimizer rather than cast. */
function makeOptimizer(model: Module, r: Recipe): { optimizer: Optimizer; setMomentum(m: number): void } {
  const params = model.namedParameters();
  switch (r.optimizer) {
    case 'adam':
    case 'adamw': {
      const adam = r.optimizer === 'adam' ? new Adam(params, { lr: r.lr, weightDecay: r.weightDecay }) : new AdamW(params, { lr: r.lr, weightDecay: r.weightDecay });
      return { optimizer: adam, setMomentum: (m) => { adam.beta1 = m; } };
    }
    case 'sgd': {
      const sgd = new SGD(params, { lr: r.lr, momentum: r.momentum, nesterov: r.nesterov, weightDecay: r.weightDecay });
      return { optimizer: sgd, setMomentum: (m) => { sgd.momentum = m; } };
    }
  }
}

function freezeBatchNorm(m: Module): void {
  for (const [, child] of m.namedChildren()) {
    if (child instanceof BatchNorm2d || child instanceof BatchNorm1d) child.eval();
    freezeBatchNorm(child);
  }
}

export function readResume(path: string): { dir: string; state: ResumeState } {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, RESUME_FILE) : path;
  if (!existsSync(file)) throw new Error(`--resume ${path}: no ${RESUME_FILE} there; pass the --out folder of the run to continue`);
  const state = JSON.parse(readFileSync(file, 'utf8')) as ResumeState;
  if (state.format !== 'inkling-resume/1') throw new Error(`${file} is not an inkling resume file (format ${JSON.stringify(state.format)})`);
  return { dir: join(file, '..'), state };
}

function subset(set: DigitSet, limit: number | undefined): DigitSet {
  return limit !== undefined && limit < set.count ? sliceSet(set, 0, limit) : set;
}

/** Where a run stands: what a checkpoint restores, or the start of a fresh run. */
interface RunProgress {
  history: EpochRecord[];
  startEpoch: number;
  globalStep: number;
  best: ResumeState['best'];
  priorSeconds: number;
}

function freshProgress(): RunProgress {
  return { history: [], startEpoch: 0, globalStep: 0, best: { epoch: 0, accuracy: -1, loss: Infinity, ece: 0 }, priorSeconds: 0 };
}

/** Loads the last weights, the optimizer state and the dropout counters of an interrupted run. */
async function restoreCheckpoint(resumed: { dir: string; state: ResumeState }, model: Module, optimizer: Optimizer): Promise<RunProgress> {
  const s = resumed.state;
  await loadModuleWeights(model, join(resumed.dir, LAST_WEIGHTS));
  const optFile = await readSafetensors(join(resumed.dir, RESUME_OPTIMIZER));
  const tensors = Object.fromEntries(Object.entries(optFile.tensors)) as Record<string, { dtype: 'f32'; shape: number[]; data: Float32Array }>;
  optimizer.loadStateDict({ ...s.optimizer, tensors });
  setDropoutSteps(model, s.dropoutSteps);
  return { history: s.history, startEpoch: s.epochsCompleted, globalStep: s.globalStep, best: s.best, priorSeconds: s.elapsedSeconds };
}

/** The optimizer's tensors, then resume.json (written atomically: a crash leaves the previous one). */
async function writeResumeState(out: string, optimizer: Optimizer, state: (optimizer: ResumeState['optimizer']) => ResumeState): Promise<void> {
  const optState = await optimizer.stateDict();
  await writeSafetensors(join(out, RESUME_OPTIMIZER), optState.tensors as Record<string, { dtype: 'f32'; shape: number[]; data: Float32Array }>);
  const resumePath = join(out, RESUME_FILE);
  writeFileSync(`${resumePath}.tmp`, `${JSON.stringify(state({ type: optState.type, hyper: optState.hyper, steps: optState.steps }))}\n`);
  renameSync(`${resumePath}.tmp`, resumePath);
}

/** The card after an epoch: the best weights' identity and figures, the run so far. */
function cardAfterEpoch(r: {
  opts: TrainOptions; description: string; parameters: number; mnistTrain: DigitSet; trainSet: DigitSet; valSet: DigitSet;
  recipe: ModelCard['recipe']; backend: Backend; epochsCompleted: number; best: ResumeState['best']; elapsedSeconds: number;
  history: EpochRecord[]; commands: string[]; git: ModelCard['git']; created: string;
}): ModelCard {
  const { opts, description, parameters, mnistTrain, trainSet, valSet, recipe, backend, epochsCompleted, best, elapsedSeconds, history, commands, git, created } = r;
  return {
    format: CARD_FORMAT,
    name: opts.out.split('/').filter(Boolean).pop() ?? opts.model,
    // name@sha256 of the best weights: what the service and `inkling predict` report
    version: identityOfFile(basename(resolve(opts.out)), join(opts.out, WEIGHTS_FILE)).version,
    architecture: opts.model,
    architectureDetail: description,
    parameters,
    weights: WEIGHTS_FILE,
    input: { shape: [1, 28, 28], mean: MNIST_MEAN, std: MNIST_STD, framing: 'src/preprocess/frame.ts frameDigit: fit in 20x20 keeping aspect ratio, centre of mass at (14,14) in 28x28' },
    classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    temperature: 1,
    calibration: null,
    data: {
      ...SPLIT_DESCRIPTION,
      train: `${opts.trainLimit ? `first ${mnistTrain.count} of ${SPLIT_DESCRIPTION.train}` : SPLIT_DESCRIPTION.train}${opts.extraTrain ? ` + ${opts.extraTrain.copies} x ${opts.extraTrain.set.count} feedback samples` : ''}`,
      validation: opts.validationLimit ? `first ${valSet.count} of ${SPLIT_DESCRIPTION.validation}` : SPLIT_DESCRIPTION.validation,
      trainSamples: trainSet.count,
      validationSamples: valSet.count,
    },
    recipe,
    seed: opts.seed,
    backend: backend.name,
    device: backend.device,
    threads: opts.threads ?? null,
    training: { epochsCompleted, bestEpoch: best.epoch, durationSeconds: elapsedSeconds, history, command: commands.join(' && ') },
    validation: { count: valSet.count, accuracy: best.accuracy, nll: best.loss, ece: best.ece },
    test: null,
    git,
    created,
    updated: new Date().toISOString(),
  };
}

/** One epoch's steps: each batch in through x and y, the schedule's lr (and momentum), forward,
 *  loss, backward, update; the device-side loss/accuracy read every logEvery steps. */
async function runSteps(r: {
  source: BatchSource; x: Tensor; y: Tensor; model: Module; optimizer: Optimizer; setMomentum(m: number): void;
  metrics: RunningMetrics; progress: EpochProgress; schedule: ScheduleConfig; recipe: Recipe; steps: number; firstStep: number; logEvery: number;
}): Promise<{ snap: { step: number; samples: number; loss: number; accuracy: number }; lrTrace: number[] }> {
  const { source, x, y, model, optimizer, metrics, progress, schedule, recipe, steps, logEvery } = r;
  const lrTrace: number[] = [];
  let snap = { step: 0, samples: 0, loss: NaN, accuracy: NaN };
  for (let b = 0; b < steps; b++) {
    const host = await source.get(b);
    x.write(host.images);
    y.write(host.labels);

    const step = r.firstStep + b;
    const lr = lrAt(schedule, step);
    optimizer.lr = lr;
    if (recipe.cycleMomentum && schedule.name === 'onecycle') r.setMomentum(momentumAt(schedule, step));
    if (lrTrace.length < LR_SAMPLES_PER_EPOCH && b >= (lrTrace.length * steps) / LR_SAMPLES_PER_EPOCH) lrTrace.push(lr);

    tidy(() => {
      optimizer.zeroGrad();
      const logits = model.forward(x);
      const loss = F.softmaxCrossEntropy(logits, y, { labelSmoothing: recipe.labelSmoothing });
      metrics.add(loss, logits, y);
      loss.backward();
      optimizer.step();
    });

    if ((b + 1) % logEvery === 0 || b === steps - 1) {
      const m = await metrics.read();
      snap = { step: b + 1, samples: m.samples, loss: m.loss, accuracy: m.accuracy };
      if (b < steps - 1) progress.update(snap);
    }
  }
  return { snap, lrTrace };
}

export async function train(opts: TrainOptions): Promise<TrainResult> {
  const out = opts.stdout ?? process.stdout;
  const log = (s: string) => out.write(`${s}\n`);
  const wallStart = performance.now();

  const resumed = opts.resume ? readResume(opts.resume) : null;
  if (resumed) {
    const s = resumed.state;
    if (s.model !== opts.model || s.seed !== opts.seed || JSON.stringify(s.recipe) !== JSON.stringify(opts.recipe)) {
      throw new Error(`--resume ${opts.resume}: the checkpoint was trained with a different model, seed or recipe; resume with the same flags (see its model.json "training.command")`);
    }
  }
  const recipe = opts.recipe;
  mkdirSync(opts.out, { recursive: true });

  const data = opts.data ?? loadMnist(opts.dataDir);
  const mnistTrain = subset(data.train, opts.trainLimit);
  const trainSet = opts.extraTrain ? concatSets(mnistTrain, opts.extraTrain.set, opts.extraTrain.copies) : mnistTrain;
  const valSet = subset(data.validation, opts.validationLimit);
  const backend = await createBackend(opts.backend, opts.threads !== undefined ? { threads: opts.threads } : undefined);
  const spec = modelSpec(opts.model);
  const model = spec.create(backend, opts.seed, { dropout: recipe.dropout });
  if (opts.initWeights && !resumed) await loadModuleWeights(model, opts.initWeights);
  const { optimizer, setMomentum } = makeOptimizer(model, recipe);

  const source = createBatchSource(opts.dataWorkers ?? 1, { set: trainSet, batchSize: recipe.batch, seed: opts.seed, augment: recipe.augment });
  const stepsPerEpoch = source.batchesPerEpoch;
  // Fractional epochs (--epochs 1.5) end part-way through the last epoch.
  const totalSteps = Math.max(1, Math.round(recipe.epochs * stepsPerEpoch));
  const epochCount = Math.ceil(totalSteps / stepsPerEpoch);
  const schedule = resolveSchedule(recipe.schedule, totalSteps, Math.round(recipe.warmupEpochs * stepsPerEpoch));

  const progressSoFar = resumed ? await restoreCheckpoint(resumed, model, optimizer) : freshProgress();
  let { history, globalStep, best } = progressSoFar;
  const { startEpoch, priorSeconds } = progressSoFar;
  if (resumed) log(`resuming ${resumed.dir} after epoch ${startEpoch} (step ${globalStep})`);

  log(`training ${opts.model} (${model.parameterCount().toLocaleString('en-US')} parameters) on ${backend.name}: ${backend.device}`);
  log(`data: ${trainSet.count} train / ${valSet.count} validation, batch ${recipe.batch}, ${stepsPerEpoch} steps per epoch, augment ${recipe.augmentPreset}, batches ${(opts.dataWorkers ?? 1) > 0 ? 'from a worker thread' : 'inline'}`);
  log(`recipe: ${recipe.optimizer} lr ${recipe.lr} wd ${recipe.weightDecay}, ${recipe.schedule.name} schedule, label smoothing ${recipe.labelSmoothing}, dropout ${recipe.dropout ? 'on' : 'off'}, ${recipe.epochs} epochs, seed ${opts.seed}`);

  const x = Tensor.empty(backend, [recipe.batch, 1, IMAGE_SIDE, IMAGE_SIDE]);
  const y = Tensor.empty(backend, [recipe.batch], 'i32');
  const metrics = new RunningMetrics(backend);
  const git = gitInfo();
  const created = resumed?.state.created ?? new Date().toISOString();
  const commands = [...(resumed?.state.commands ?? []), opts.command];
  let card: ModelCard | null = null;
  let shareSum = 0;

  const trainMode = () => {
    model.train();
    if (opts.freezeBatchNorm) freezeBatchNorm(model);
  };
  trainMode();
  const endEpoch = Math.min(epochCount, opts.stopAfterEpochs ?? epochCount);
  try {
    for (let epoch = startEpoch; epoch < endEpoch; epoch++) {
      source.startEpoch(epoch);
      source.waitMs = 0;
      metrics.reset();
      const steps = Math.min(stepsPerEpoch, totalSteps - epoch * stepsPerEpoch);
      const progress = new EpochProgress(out, epoch + 1, epochCount, steps);
      const { snap, lrTrace } = await runSteps({
        source, x, y, model, optimizer, setMomentum, metrics, progress, schedule, recipe, steps, firstStep: globalStep, logEvery: opts.logEvery,
      });
      globalStep += steps;
      const trainSeconds = progress.elapsedSeconds;
      const dataShare = source.waitMs / 1000 / trainSeconds;
      shareSum += dataShare;

      // Validation (eval mode, on the held-out 5,000).
      const valLogits = await predictLogits(model, backend, valSet);
      trainMode(); // predictLogits restores train() on every layer
      const val = classificationMetrics(valLogits, valSet.labels, CLASSES);
      const improved = val.accuracy > best.accuracy || (val.accuracy === best.accuracy && val.nll < best.loss);
      const record: EpochRecord = {
        epoch: epoch + 1,
        trainLoss: snap.loss,
        trainAccuracy: snap.accuracy,
        valLoss: val.nll,
        valAccuracy: val.accuracy,
        lrTrace,
        seconds: trainSeconds,
        samplesPerSecond: snap.samples / trainSeconds,
        dataShare,
      };
      history.push(record);
      progress.finish(snap, `val loss ${val.nll.toFixed(4)}  val acc ${(100 * val.accuracy).toFixed(2)}%  ${formatDuration(trainSeconds)}  data ${(100 * dataShare).toFixed(1)}%${improved ? '  *best' : ''}`);

      // Checkpoints: best weights, then last weights + resume state (each written atomically).
      const metadata = { format: 'pt', architecture: opts.model, epoch: String(epoch + 1) };
      if (improved) {
        best = { epoch: epoch + 1, accuracy: val.accuracy, loss: val.nll, ece: val.ece };
        await saveModule(model, join(opts.out, WEIGHTS_FILE), metadata);
      }
      await saveModule(model, join(opts.out, LAST_WEIGHTS), metadata);
      const elapsedSeconds = priorSeconds + (performance.now() - wallStart) / 1000;
      await writeResumeState(opts.out, optimizer, (optimizerState) => ({
        format: 'inkling-resume/1',
        model: opts.model,
        seed: opts.seed,
        recipe,
        backend: backend.name,
        trainLimit: opts.trainLimit ?? null,
        validationLimit: opts.validationLimit ?? null,
        epochsCompleted: epoch + 1,
        globalStep,
        dropoutSteps: dropoutSteps(model),
        optimizer: optimizerState,
        best,
        history,
        elapsedSeconds,
        created,
        commands,
      }));

      card = cardAfterEpoch({
        opts, description: spec.description, parameters: model.parameterCount(), mnistTrain, trainSet, valSet,
        recipe: { ...recipe, schedule }, backend, epochsCompleted: epoch + 1, best, elapsedSeconds, history, commands, git, created,
      });
      writeCard(opts.out, card);
    }
  } finally {
    // Always stop the batch worker, or it keeps the process alive after an error.
    await source.close();
  }

  if (card === null) throw new Error(`nothing to train: the checkpoint already completed ${startEpoch} of ${epochCount} epochs (or --stop-after is not past it)`);
  writeChart(opts.out, 'training-curves', trainingCurvesChart(history, `${opts.model} · ${recipe.optimizer} ${recipe.schedule.name} lr ${recipe.lr} · batch ${recipe.batch} · ${backend.name} · seed ${opts.seed}`));
  x.dispose();
  y.dispose();
  metrics.dispose();
  optimizer.dispose();
  const ran = endEpoch - startEpoch;
  if (endEpoch < epochCount) log(`stopped after epoch ${endEpoch} of ${epochCount}; continue with: inkling train --resume ${opts.out}`);
  log(`best epoch ${best.epoch}: validation accuracy ${(100 * best.accuracy).toFixed(2)}%; ${opts.out}/${WEIGHTS_FILE} (${formatDuration(card.training.durationSeconds)} total)`);
  return { card, model, backend, data, outDir: opts.out, dataShare: ran > 0 ? shareSum / ran : 0, finished: endEpoch === epochCount };
}
