// A tiny end-to-end run: train 2 epochs on a small subset, check the checkpoint folder and card,
// check that stop + resume gives bit-identical weights to an uninterrupted run, then evaluate.
// Runs on cpu when the addon is built (CI), else on ref with an even smaller subset.
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { probeBackend } from '../../src/nn/backends/registry.ts';
import { recipeFromFlags, TRAIN_FLAGS } from '../../src/cli/train.ts';
import { parseFlags } from '../../src/cli/args.ts';
import { readCard } from '../../training/card.ts';
import { loadMnist } from '../../training/data/mnist.ts';
import { evaluate } from '../../training/evaluate.ts';
import { train, type TrainOptions } from '../../training/trainer.ts';

const onCpu = (await probeBackend('cpu')).available;
const backend = onCpu ? 'cpu' : 'ref';
const size = onCpu ? { train: 512, val: 200, test: 300, batch: 32 } : { train: 32, val: 16, test: 24, batch: 16 };

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

const data = loadMnist();
const root = mkdtempSync(join(tmpdir(), 'inkling-e2e-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));

function options(out: string, extra: Partial<TrainOptions> = {}): TrainOptions {
  const recipe = recipeFromFlags(parseFlags('train', ['--epochs', '2', '--batch', String(size.batch), '--augment', 'light', '--lr', '0.003'], TRAIN_FLAGS).flags);
  return {
    model: 'seed-cnn', backend, threads: onCpu ? 2 : undefined, seed: 5, recipe, out, data,
    trainLimit: size.train, validationLimit: size.val, logEvery: 4, command: 'e2e test', stdout: new Capture(), ...extra,
  };
}

t.test(`train 2 epochs on ${size.train} images (${backend}): checkpoint folder, card, progress lines`, async (t) => {
  const out = join(root, 'full');
  const stdout = new Capture();
  const r = await train(options(out, { stdout }));
  for (const f of ['model.safetensors', 'last.safetensors', 'model.json', 'resume.json', 'resume-optimizer.safetensors', 'training-curves.svg', 'training-curves.png']) {
    t.ok(existsSync(join(out, f)), `${f} written`);
  }
  const card = readCard(out);
  t.equal(card.architecture, 'seed-cnn');
  t.equal(card.parameters, 421834);
  t.equal(card.training.history.length, 2);
  t.equal(card.training.epochsCompleted, 2);
  t.equal(card.seed, 5);
  t.equal(card.backend, backend);
  t.equal(card.data.trainSamples, size.train);
  t.equal(card.recipe.schedule.totalSteps, 2 * Math.floor(size.train / size.batch));
  t.ok(card.validation!.accuracy >= 0 && card.validation!.accuracy <= 1);
  t.match(stdout.text, /epoch 1\/2 .*samples\/s  loss \d+\.\d{4}  acc \d+\.\d\d%.*val loss \d+\.\d{4}  val acc \d+\.\d\d%/);
  t.notMatch(stdout.text, /\r|█/, 'plain lines when not a terminal');
  if (onCpu) t.ok(card.training.history[1].valAccuracy > 0.5, `learns something: ${card.training.history[1].valAccuracy}`);
  r.model.dispose();
  r.backend.dispose();
});

t.test('stop after epoch 1 + resume gives the same weights as the uninterrupted run', async (t) => {
  const out = join(root, 'split');
  const first = await train(options(out, { stopAfterEpochs: 1 }));
  t.equal(readCard(out).training.epochsCompleted, 1);
  first.model.dispose();
  first.backend.dispose();
  const second = await train(options(out, { resume: out, command: 'resume' }));
  second.model.dispose();
  second.backend.dispose();
  const a = readFileSync(join(root, 'full', 'last.safetensors'));
  const b = readFileSync(join(out, 'last.safetensors'));
  t.ok(a.equals(b), 'last.safetensors is byte-identical');
  t.same(readCard(out).training.history.map((h) => h.valLoss), readCard(join(root, 'full')).training.history.map((h) => h.valLoss));
  t.match(readCard(out).training.command, /e2e test && resume/);
  await t.rejects(train(options(out, { resume: out, seed: 6 })), /different model, seed or recipe/);
});

t.test('evaluate: report lines, temperature in the card, plots and contact sheet', async (t) => {
  const out = join(root, 'full');
  const stdout = new Capture();
  const report = await evaluate({ modelDir: out, backend, data, testLimit: size.test, validationLimit: size.val, stdout });
  t.match(stdout.text, /^test accuracy: \d+\.\d\d%$/m);
  t.match(stdout.text, /^test ECE \(15 bins\): /m);
  t.match(stdout.text, /^temperature: \d+\.\d{4} \(fitted on the \d+ validation images/m);
  t.match(stdout.text, /confusion matrix \(test/);
  t.match(stdout.text, /reliability \(test, T = 1\):\n  confidence/);
  const card = readCard(out);
  t.equal(card.temperature, report.temperature);
  t.ok(card.temperature > 0);
  t.equal(card.test!.count, size.test);
  t.equal(card.test!.confusion.flat().reduce((a, b) => a + b, 0), size.test);
  for (const f of ['confusion-matrix.svg', 'confusion-matrix.png', 'reliability.svg', 'reliability.png', 'misclassified.png']) t.ok(existsSync(join(out, f)), `${f} written`);
});
