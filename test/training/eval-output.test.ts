// `inkling eval` on an existing model folder (issue 17, item 9): the figures go to DIR/eval/
// (ignored by git), and no file that was in the folder changes, so evaluating the shipped model
// leaves the repository clean. --write-card asks for the card explicitly.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/inkling.js');
const SHIPPED = join(ROOT, 'models/seed-cnn');
const inkling = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: ROOT });
const QUICK = ['--test-limit', '64', '--val-limit', '64', '--sheet-limit', '4', '--threads', '1'];

/** name → sha256 of every file directly in `dir`. */
function hashes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isFile()) out[e.name] = createHash('sha256').update(readFileSync(join(dir, e.name))).digest('hex');
  }
  return out;
}

function copyOfShipped(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'inkling-eval-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(SHIPPED, dir, { recursive: true, filter: (src) => !src.endsWith('/eval') });
  return dir;
}

t.test('inkling eval writes DIR/eval/ and changes no file of the folder', async (t) => {
  const dir = copyOfShipped(t);
  const before = hashes(dir);
  const r = inkling('eval', '--model', dir, ...QUICK);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /model\.json unchanged/);
  t.same(hashes(dir), before, 'model.json, the weights and the plots are byte for byte as they were');
  const report = JSON.parse(readFileSync(join(dir, 'eval', 'evaluation.json'), 'utf8'));
  t.equal(report.test.count, 64);
  t.ok(report.temperature > 0, `a fitted temperature (${report.temperature})`);
  for (const f of ['confusion-matrix.svg', 'reliability.svg', 'misclassified.png']) t.ok(existsSync(join(dir, 'eval', f)), `eval/${f}`);
});

t.test('the eval folder of a model under models/ is ignored by git', async (t) => {
  const r = spawnSync('git', ['check-ignore', '-q', 'models/seed-cnn/eval/evaluation.json'], { cwd: ROOT });
  t.equal(r.status, 0, 'git check-ignore matches models/*/eval/');
});

t.test('--write-card updates the card (only when asked)', async (t) => {
  const dir = copyOfShipped(t);
  const card = readFileSync(join(dir, 'model.json'), 'utf8');
  const r = inkling('eval', '--model', dir, '--write-card', ...QUICK);
  t.equal(r.status, 0, r.stderr);
  t.not(readFileSync(join(dir, 'model.json'), 'utf8'), card, 'model.json rewritten');
  t.equal(JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')).test.count, 64);
  t.notOk(existsSync(join(dir, 'eval')), 'no eval/ folder');
});
