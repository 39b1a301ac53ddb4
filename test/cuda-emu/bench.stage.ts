// `npm run bench:kernels -- --backend cuda-emu` works and says that it measures the emulator, for
// correctness only (a filtered run: the seed CNN's conv2 kernels at batch 1).
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { repoRoot } from '../../scripts/cuda-emu/build.mjs';
import { emulatorGate, seconds } from '../support/emulator-gate.ts';

const cudaEmu = emulatorGate('cuda-emu');

cudaEmu.test(t, 'bench:kernels --backend cuda-emu runs the emulator and says its times measure the emulator', async (t) => {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/kernels.ts', '--backend', 'cuda-emu', '--filter', 'b1 conv2', '--min-ms', '1'], {
    cwd: repoRoot, encoding: 'utf8', timeout: 300_000,
  });
  t.equal(r.status, 0, `exit status ${r.status}: ${r.stderr.slice(-1000)}`);
  t.match(r.stdout, /times measure the EMULATOR, for correctness only/, 'the output says what it measures');
  const rows = r.stdout.split('\n').filter((l) => l.startsWith('cuda-emu '));
  t.ok(rows.length >= 4, `${rows.length} conv2 kernels timed`);
  for (const row of rows) {
    const err = Number(row.trim().split(/\s+/).at(-1));
    t.ok(err <= 1e-4, `${row.slice(0, 70).trim()}: max error ${err} against ref`);
  }
  t.comment(`bench:kernels on cuda-emu: ${seconds(t0)}`);
});
