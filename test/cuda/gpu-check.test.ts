// scripts/gpu-check.sh runs once, unattended, on a GPU machine; a syntax error or a summary that
// misreads its logs would waste that run. Check both here: the script parses, and the benchmark
// rows are computed right from logs shaped like those the benches write.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

t.test('gpu-check.sh parses', async (t) => {
  const r = spawnSync('bash', ['-n', 'scripts/gpu-check.sh'], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
});

const python = spawnSync('sh', ['-c', 'command -v python3'], { encoding: 'utf8' }).status === 0;

t.test('the summary turns bench logs into ratio rows', { skip: python ? false : 'python3 not installed' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'inkling-gpu-check-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const train = { device: 'H100', train: { 128: { eager: 50000, graph: 120000, lossEager: 2.3, lossGraph: 2.1 } } };
  const torch = {
    torch: '2.5', train: { 128: 40000 },
    gemm: { 128: { fp32: { ms: 0.03, gflops: 0 }, tf32: { ms: 0.01, gflops: 0 } } },
  };
  writeFileSync(join(dir, 'bench-train.log'), `cuda train b128: ...\n${JSON.stringify(train)}\n`);
  writeFileSync(join(dir, 'bench-pytorch.log'), `${JSON.stringify(torch)}\n`);
  writeFileSync(join(dir, 'gemm_check.log'), 'all gemm/conv checks passed\nRESULT gemm batch=128 simt_ms=0.04000 tf32_ms=0.02000\n');
  const r = spawnSync('python3', ['bench/cuda/gpu_check_summary.py', dir], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  const rows = r.stdout.trim().split('\n').map((line) => line.split('|'));
  t.same(rows.map((row) => row[0]), ['train b128', 'gemm conv2 b128']);
  t.match(rows[0][2], /^3\.00x PyTorch eager \(target 2x\)/, '120000 / 40000 samples/s');
  t.match(rows[1][1], /simt 40\.0 us = 75% of fp32; tf32 20\.0 us = 50% of tf32/, 'cuBLAS 30 µs vs ours 40 µs');
  t.match(rows[1][2], /cuBLAS via torch\.mm/, 'names where the cuBLAS number came from');
});
