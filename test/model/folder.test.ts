// Model folders: identity = folder name + SHA-256 of the weights; friendly errors for what a user
// gets wrong (missing weights, missing or broken card, a file instead of a folder).
import t from 'tap';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readModelFolder } from '../../src/model/folder.ts';
import { modelVersion } from '../../src/model/identity.ts';

const BIN = join(import.meta.dirname, '../../bin/inkling.js');

t.test('identity: the folder name and the weights hash; copies differ by name only, retrained weights by hash', async (t) => {
  const f = readModelFolder('models/seed-cnn');
  const sha = createHash('sha256').update(readFileSync('models/seed-cnn/model.safetensors')).digest('hex');
  t.equal(f.identity.sha256, sha, 'the same hash as sha256sum');
  t.equal(f.identity.version, `seed-cnn@${sha.slice(0, 12)}`);
  const root = mkdtempSync(join(tmpdir(), 'inkling-id-'));
  cpSync('models/seed-cnn', join(root, 'copy'), { recursive: true });
  t.equal(readModelFolder(join(root, 'copy')).identity.version, modelVersion('copy', sha));
  const w = readFileSync(join(root, 'copy', 'model.safetensors'));
  w[w.length - 1] ^= 1; // one bit of one weight
  writeFileSync(join(root, 'copy', 'model.safetensors'), w);
  t.not(readModelFolder(join(root, 'copy')).identity.sha256, sha, 'another weight, another version');
});

t.test('friendly errors', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'inkling-bad-'));
  cpSync('models/seed-cnn', join(root, 'm'), { recursive: true });
  rmSync(join(root, 'm', 'model.safetensors'));
  t.throws(() => readModelFolder(join(root, 'm')), /the weights file .*model\.safetensors is missing \(model\.json names "model\.safetensors"\): restore it .*or retrain/);
  const r = spawnSync(process.execPath, [BIN, 'predict', '--model', join(root, 'm'), 'x.png'], { encoding: 'utf8' });
  t.equal(r.status, 1);
  t.match(r.stderr, /^inkling predict: the weights file .* is missing/m, 'one line, no stack trace');
  t.notMatch(r.stderr, /ENOENT|at .*\.ts:\d+/);
  t.throws(() => readModelFolder(join(root, 'nope')), /model folder .*nope does not exist/);
  t.throws(() => readModelFolder(root), /holds no model\.json: it is not a model folder/);
  writeFileSync(join(root, 'm', 'model.json'), '{"format":');
  t.throws(() => readModelFolder(join(root, 'm')), /model\.json is not valid JSON/);
  t.throws(() => readModelFolder(join(root, 'm', 'model.json')), /is a file; a model is a folder/);
});
