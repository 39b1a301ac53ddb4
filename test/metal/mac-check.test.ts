// scripts/mac-check.sh runs on a Mac that this project's CI does not have; a syntax error or a
// summary that misreads its logs would waste that run. Check both here.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { summarizeBench } from '../../scripts/mac-check-summary.ts';

t.test('mac-check.sh parses, and refuses to run off macOS', async (t) => {
  t.equal(spawnSync('bash', ['-n', 'scripts/mac-check.sh'], { encoding: 'utf8' }).status, 0, 'bash -n');
  if (process.platform !== 'darwin') {
    const r = spawnSync('bash', ['scripts/mac-check.sh'], { encoding: 'utf8' });
    t.equal(r.status, 2, 'exit 2 on Linux');
    t.match(r.stderr, /not macOS/);
  }
});

t.test('the summary reads interleaved rounds: medians, ranges, the ratio to PyTorch mps', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'inkling-mac-check-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ours = (m: number) => `metal train b128: ${m} samples/s\nwebgpu train b128: 900 samples/s\ncpu train b128: 1500 samples/s\n`;
  writeFileSync(join(dir, 'bench-ours-1.log'), ours(5000));
  writeFileSync(join(dir, 'bench-ours-2.log'), ours(6000));
  writeFileSync(join(dir, 'bench-ours-3.log'), ours(7000));
  const mps = (v: number) => `noise\n${JSON.stringify({ torch: '2.5.1', train: { 128: { median: v, min: v, max: v } } })}\n`;
  writeFileSync(join(dir, 'bench-mps-1.log'), mps(3000));
  writeFileSync(join(dir, 'bench-mps-2.log'), mps(2000));
  writeFileSync(join(dir, 'bench-mps-3.log'), mps(4000));
  const rows = summarizeBench(dir);
  t.equal(rows.length, 1);
  const [name, result, detail] = rows[0].split('|');
  t.equal(name, 'train b128 samples/s');
  t.equal(result, '2.00x PyTorch mps', 'median 6000 over median 3000');
  t.match(detail, 'metal 6000 (5000–7000, 3 rounds)');
  t.match(detail, 'PyTorch mps 3000 (2000–4000, 3 rounds)');
  writeFileSync(join(dir, 'bench-mps-1.log'), `${JSON.stringify({ error: 'torch.backends.mps.is_available() is False' })}\n`);
  rmSync(join(dir, 'bench-mps-2.log'));
  rmSync(join(dir, 'bench-mps-3.log'));
  t.match(summarizeBench(dir)[0], /no ratio\|.*PyTorch mps: torch.backends.mps.is_available\(\) is False/);
  t.match(summarizeBench(join(dir, 'missing'))[0], /^bench\|FAIL/);
});
