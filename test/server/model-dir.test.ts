// Which model the service loads from models/: the evaluated card with the best test accuracy, so
// a training run in progress (a newer card without test figures) is never served.
import t from 'tap';
import { mkdirSync, mkdtempSync, writeFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findModelDir } from '../../src/server/model.ts';

function card(dir: string, test: { accuracy: number } | null, ageSeconds: number) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.json'), JSON.stringify({ format: 'inkling-model-card/1', version: dir, architecture: 'seed-cnn', weights: 'model.safetensors', test }));
  const when = Date.now() / 1000 - ageSeconds;
  utimesSync(join(dir, 'model.json'), when, when);
}

t.test('evaluated beats newer-but-unevaluated; best accuracy wins; folder itself wins', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'inkling-models-'));
  card(join(root, 'shipped'), { accuracy: 0.99 }, 3600);
  card(join(root, 'training.next'), null, 1);
  card(join(root, '.hidden'), { accuracy: 1 }, 1);
  t.equal(findModelDir(root), join(root, 'shipped'));
  card(join(root, 'better'), { accuracy: 0.995 }, 7200);
  t.equal(findModelDir(root), join(root, 'better'));
  t.equal(findModelDir(join(root, 'training.next')), join(root, 'training.next'), 'a folder with model.json is used as is');
  const bare = mkdtempSync(join(tmpdir(), 'inkling-models-'));
  card(join(bare, 'a'), null, 100);
  card(join(bare, 'b'), null, 1);
  t.equal(findModelDir(bare), join(bare, 'b'), 'none evaluated: the newest');
  t.throws(() => findModelDir(mkdtempSync(join(tmpdir(), 'inkling-models-'))), /no model.json/);
  t.throws(() => findModelDir(join(root, 'nope')), /does not exist/);
});
