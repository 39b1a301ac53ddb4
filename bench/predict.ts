// `inkling predict` on the 10,000 MNIST test images written as PNG files: its accuracy against
// `inkling eval`'s (the same model through training/predict.ts on the IDX pixels) and its
// images/s. Run: `node --import tsx bench/predict.ts [--model models/seed-cnn] [--count 10000]`.
// The files go to a temporary folder (removed at the end); file names carry the labels.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePng } from '../src/preprocess/index.ts';
import { loadModel } from '../src/model/runtime.ts';
import { loadMnist, sliceSet } from '../training/data/mnist.ts';
import { classificationMetrics } from '../training/classification-metrics.ts';
import { predictLogits } from '../training/predict.ts';

const args = process.argv.slice(2);
const arg = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const modelDir = arg('model', 'models/seed-cnn');
const count = Number(arg('count', '10000'));
const extra = args.includes('--input') ? ['--input', arg('input', 'auto')] : [];

console.log(`CPU: ${cpus()[0]?.model} x ${cpus().length}`);
const test = sliceSet(loadMnist().test, 0, count);
const dir = mkdtempSync(join(tmpdir(), 'inkling-predict-bench-'));
try {
  const pngDir = join(dir, 'png');
  mkdirSync(pngDir);
  for (let i = 0; i < count; i++) writeFileSync(join(pngDir, `${String(i).padStart(5, '0')}-${test.labels[i]}.png`), encodePng(test.pixels.subarray(i * 784, (i + 1) * 784), 28, 28, 1));

  // eval's figure: the same model over the IDX pixels (training/predict.ts, as `inkling eval`)
  const model = await loadModel(modelDir, 'cpu', null, () => {});
  const evalAccuracy = classificationMetrics(await predictLogits(model.module, model.backend, test), test.labels, 10).accuracy;
  model.dispose();

  const out = join(dir, 'out.jsonl');
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['bin/inkling.js', 'predict', pngDir, '--model', modelDir, '--out', out, ...extra], { encoding: 'utf8' });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`inkling predict failed (${r.status}): ${r.stderr}`);
  let correct = 0;
  let uncertain = 0;
  const lines = readFileSync(out, 'utf8').trim().split('\n');
  for (const line of lines) {
    const rec = JSON.parse(line) as { file: string; digit: number; uncertain: boolean };
    const label = Number(/-(\d)\.png$/.exec(rec.file)![1]);
    if (rec.digit === label) correct++;
    if (rec.uncertain) uncertain++;
  }
  console.log(r.stderr.trim());
  console.log(`predict: ${lines.length} records, accuracy ${(100 * correct / lines.length).toFixed(2)}% (${lines.length - correct} errors), ${uncertain} flagged uncertain`);
  console.log(`eval:    accuracy ${(100 * evalAccuracy).toFixed(2)}% on the same ${count} images`);
  console.log(`predict wall time including process start and model load: ${wall.toFixed(2)} s = ${Math.round(count / wall)} images/s`);
  if (correct !== Math.round(evalAccuracy * count)) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
