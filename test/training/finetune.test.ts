// Retraining from feedback: a small synthetic feedback set in a style the shipped model misreads
// (MNIST test digits tilted by 30-50 degrees, framed again) is written as a feedback data set, then
// `inkling train --finetune models/seed-cnn --feedback DIR` must measurably improve on the
// held-out feedback, record before/after in the card, and keep MNIST (small subsets here; the
// full-size figures are in training/README.md). Also: --out refuses an existing folder.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMnist } from '../../training/data/mnist.ts';
import { readFeedbackDataset, splitFeedback, writeFeedbackDataset, type FeedbackSample } from '../../training/data/feedback.ts';
import { tiltedDigits } from '../../training/data/tilt.ts';

const BIN = join(import.meta.dirname, '../../bin/inkling.js');
const inkling = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, INKLING_THREADS: '1' } });

function syntheticFeedback(count: number): FeedbackSample[] {
  const test = loadMnist().test;
  // far from the first 1,000 test images the MNIST figures use
  return tiltedDigits(test.pixels, test.labels, 9000, count, 3, 30, 50);
}

t.test('feedback data sets: png and idx layouts read back the same; the holdout split is stable', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'inkling-fb-'));
  const samples = syntheticFeedback(40);
  writeFeedbackDataset(join(dir, 'png'), samples, 'png');
  writeFeedbackDataset(join(dir, 'idx'), samples, 'idx');
  const png = await readFeedbackDataset(join(dir, 'png'));
  const idx = await readFeedbackDataset(join(dir, 'idx'));
  t.equal(png.count, 40);
  t.same(png.labels, idx.labels);
  t.same(png.pixels, idx.pixels, 'the PNGs hold the exact 28x28 pixels');
  const a = splitFeedback(png, 0.25);
  const b = splitFeedback(png, 0.25);
  t.same(a.holdout.labels, b.holdout.labels);
  t.ok(a.holdout.count > 0 && a.train.count > 0 && a.holdout.count + a.train.count === 40);
  mkdirSync(join(dir, 'bad'));
  writeFileSync(join(dir, 'bad', 'labels.csv'), 'file,label\nimages/x.png,12\n');
  await t.rejects(readFeedbackDataset(join(dir, 'bad')), /label must be 0..9/);
  await t.rejects(readFeedbackDataset(join(dir, 'none')), /does not exist; write one with `inkling feedback export/);
});

t.test('fine-tuning on synthetic feedback improves its holdout and keeps MNIST', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'inkling-ft-'));
  writeFeedbackDataset(join(dir, 'feedback'), syntheticFeedback(400), 'png');
  const out = join(dir, 'tuned');
  const r = inkling('train', '--finetune', 'models/seed-cnn', '--feedback', join(dir, 'feedback'), '--out', out, '--holdout', '0.25', '--feedback-share', '0.5',
    '--lr', '1e-3', '--epochs', '2', '--train-limit', '2000', '--val-limit', '200', '--test-limit', '1000', '--no-eval', '--data-workers', '0', '--threads', '1');
  t.equal(r.status, 0, r.stderr);
  const card = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
  const ft = card.finetune;
  t.ok(ft, 'the card records the fine-tune');
  t.match(ft.from, /^seed-cnn@[0-9a-f]{12}$/);
  t.equal(ft.feedback.samples, 400);
  t.ok(ft.feedback.holdout >= 70, `holdout of ${ft.feedback.holdout}`);
  t.ok(ft.after.feedbackHoldout >= ft.before.feedbackHoldout + 0.06, `feedback holdout ${(100 * ft.before.feedbackHoldout).toFixed(1)}% -> ${(100 * ft.after.feedbackHoldout).toFixed(1)}%`);
  t.ok(ft.after.mnistTest >= ft.before.mnistTest - 0.015, `MNIST test (1,000; only 2,000 MNIST images replayed here) ${(100 * ft.before.mnistTest).toFixed(2)}% -> ${(100 * ft.after.mnistTest).toFixed(2)}%`);
  t.match(r.stdout, /feedback holdout \(\d+\)/);
  t.match(card.version, /^tuned@[0-9a-f]{12}$/, 'the version is the folder name and the weights hash');

  const again = inkling('train', '--out', out, '--epochs', '0.01', '--train-limit', '256', '--no-eval');
  t.equal(again.status, 2);
  t.match(again.stderr, /already exists and is not empty; choose a new --out folder, add --force/);
  const half = inkling('train', '--finetune', 'models/seed-cnn', '--out', join(dir, 'x'));
  t.match(half.stderr, /--finetune MODEL and --feedback DATASET go together/);
});
