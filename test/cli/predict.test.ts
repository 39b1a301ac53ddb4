// `inkling predict`: files, folders and globs; JSON lines and CSV; top-k; the model version;
// per-file errors with exit 1; the same answers as eval on MNIST PNGs; the not-a-digit flag.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePng } from '../../src/preprocess/index.ts';
import { loadModel } from '../../src/model/runtime.ts';
import { globToRegExp, expandInputs } from '../../src/predict/inputs.ts';
import { csvField } from '../../src/predict/format.ts';
import { loadMnist, sliceSet } from '../../training/data/mnist.ts';
import { predictLogits } from '../../training/predict.ts';
import { blankCanvas, canvasPng, placeRandomly, renderText } from '../../training/ood/synthetic.ts';
import { FIT_FONTS } from '../../training/ood/fonts.ts';
import { SampleRng } from '../../training/rng.ts';

const BIN = join(import.meta.dirname, '../../bin/inkling.js');
const inkling = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, INKLING_THREADS: '1' } });
const N = 300;
const test = sliceSet(loadMnist().test, 0, N);
const dir = mkdtempSync(join(tmpdir(), 'inkling-predict-'));
mkdirSync(join(dir, 'mnist', 'sub'), { recursive: true });
for (let i = 0; i < N; i++) {
  const sub = i % 2 === 0 ? 'mnist' : join('mnist', 'sub');
  writeFileSync(join(dir, sub, `${String(i).padStart(4, '0')}-${test.labels[i]}.png`), encodePng(test.pixels.subarray(i * 784, (i + 1) * 784), 28, 28, 1));
}

t.test('MNIST PNGs get exactly eval\'s answers; JSON lines with top-k and the model version', async (t) => {
  const r = inkling('predict', join(dir, 'mnist'), '--top-k', '2', '--batch', '64');
  t.equal(r.status, 0, r.stderr);
  const recs = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  t.equal(recs.length, N, 'the folder is searched recursively');
  const model = await loadModel('models/seed-cnn', 'cpu', 1, () => {});
  const logits = await predictLogits(model.module, model.backend, test);
  model.dispose();
  let same = 0;
  for (const rec of recs) {
    const i = Number(/(\d{4})-\d\.png$/.exec(rec.file)![1]);
    const row = Array.from(logits.subarray(i * 10, i * 10 + 10));
    if (rec.digit === row.indexOf(Math.max(...row))) same++;
  }
  t.equal(same, N, 'every digit equals eval\'s argmax');
  t.equal(recs[0].top.length, 2);
  t.equal(recs[0].input, 'mnist', '28x28 gray frames are taken as MNIST frames');
  t.match(recs[0].model, /^seed-cnn@[0-9a-f]{12}$/);
  t.match(r.stderr, /300 images classified in .* \(\d[\d,]* images\/s\) by seed-cnn@[0-9a-f]{12}/);
});

t.test('CSV, globs, per-file errors and exit 1', async (t) => {
  writeFileSync(join(dir, 'broken.png'), 'not an image');
  const r = inkling('predict', `${dir}/mnist/00[0-1]*.png`, join(dir, 'broken.png'), join(dir, 'missing.png'), '--format', 'csv', '--top-k', '1');
  t.equal(r.status, 1, 'a failed input makes the exit code 1');
  const lines = r.stdout.trim().split('\n');
  t.equal(lines[0], 'file,digit,confidence,top1,p1,uncertain,reason,input,model,error');
  t.equal(lines.length, 1 + 10 + 2, 'ten glob matches (0000, 0002, ..., 0018 at the top level) and two failures');
  t.match(r.stdout, /broken\.png,,,,,,,,seed-cnn@[0-9a-f]{12},"the bytes are not a PNG, JPEG, WebP or GIF image"/, "an error with a comma is quoted");
  t.match(r.stdout, /missing\.png,,,,,,,,seed-cnn@[0-9a-f]{12},no such file or folder/);
  t.match(r.stderr, /broken\.png: the bytes are not a PNG/);
  t.match(r.stderr, /; 2 failed/);
});

t.test('a typed letter on a canvas is flagged uncertain: not a digit', async (t) => {
  const c = blankCanvas();
  placeRandomly(c, await renderText('K', FIT_FONTS[3], 300), new SampleRng(5));
  writeFileSync(join(dir, 'letter.png'), canvasPng(c));
  const r = inkling('predict', join(dir, 'letter.png'));
  t.equal(r.status, 0);
  const rec = JSON.parse(r.stdout);
  t.equal(rec.input, 'image', 'a canvas goes through the service preprocessing');
  t.equal(rec.uncertain, true);
  t.equal(rec.reason, 'not_a_digit');
});

t.test('globs and CSV quoting', async (t) => {
  t.ok(globToRegExp('**/*.png').test('a/b/c.png'));
  t.ok(globToRegExp('**/*.png').test('c.png'));
  t.notOk(globToRegExp('*.png').test('a/c.png'));
  t.ok(globToRegExp('x?[0-9].jpg').test('xa7.jpg'));
  t.equal(csvField('a,b'), '"a,b"');
  t.equal(csvField('say "hi"'), '"say ""hi"""');
  const e = expandInputs([join(dir, 'nothing-*.png'), join(dir, 'mnist')]);
  t.equal(e.files.length, N);
  t.same(e.missing.map((m) => m.error), ['the pattern matches no file']);
  t.equal(inkling('predict').status, 2, 'no input is a usage error');
});
