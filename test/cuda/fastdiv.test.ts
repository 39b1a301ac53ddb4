// The implicit-GEMM convolution loaders divide every index by shape extents with FastDiv
// (native/cuda/fastdiv.h: multiply-high and shift). Its host path is the same arithmetic as the
// device path (__umulhi), so checking it here against `/` covers the index math without a GPU.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

const gxx = spawnSync('sh', ['-c', 'command -v g++'], { encoding: 'utf8' }).status === 0;

t.test('FastDiv equals integer division for every divisor up to 4100 and dividends up to 2^31 − 1', { skip: gxx ? false : 'g++ not installed' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'inkling-fastdiv-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const exe = join(dir, 'fastdiv_check');
  const build = spawnSync('g++', ['-O2', '-std=c++17', '-o', exe, 'native/cuda/dev/fastdiv_check.cpp'], { encoding: 'utf8' });
  t.equal(build.status, 0, `compiles: ${build.stderr}`);
  const run = spawnSync(exe, [], { encoding: 'utf8' });
  t.equal(run.status, 0, run.stdout);
  t.match(run.stdout, /fastdiv: \d+ divisions checked, 0 wrong/);
});
