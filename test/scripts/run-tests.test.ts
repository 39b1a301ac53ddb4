// The test runner's count is what CI reads: a crashed file, a failing case and a skip must each
// be counted as what they are, and the stage counts must reach the CI summary (mutation-style:
// every fixture plants the fault the count must show).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const fixtures = 'test/scripts/fixtures';

function runTests(files: string[], env: Record<string, string> = {}): { line: string; status: number | null } {
  const r = spawnSync(process.execPath, ['scripts/run-tests.mjs', ...files.map((f) => join(fixtures, f))], {
    encoding: 'utf8',
    env: { ...process.env, INKLING_CI_COUNTS: '', ...env },
  });
  const lines = r.stdout.trim().split('\n');
  return { line: lines[lines.length - 1] ?? '', status: r.status };
}

t.test('a file that crashes after its passing cases counts as a failure, even after another failure', async (t) => {
  const r = runTests(['one-failing-case.fixture.ts', 'crash-after-cases.fixture.ts']);
  t.equal(r.line, '2 passed, 2 failed', 'one failing case + one crashed file');
  t.not(r.status, 0, 'non-zero exit');
});

t.test('a skip is reported as a skip, not a pass', async (t) => {
  const r = runTests(['skips.fixture.ts']);
  t.equal(r.line, '1 passed, 0 failed, 1 skipped');
});

t.test('stage counts reach the CI summary, and a stage that wrote none is a failure', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'inkling-ci-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const counts = join(dir, 'counts');
  runTests(['skips.fixture.ts'], { INKLING_CI_COUNTS: counts, INKLING_CI_STAGE: 'demo stage' });
  t.equal(readFileSync(counts, 'utf8'), '1 0 1 demo stage\n');
  const ok = spawnSync(process.execPath, ['scripts/ci-summary.mjs', counts, 'demo stage'], { encoding: 'utf8' });
  t.match(ok.stdout.trim().split('\n').pop(), /^1 passed, 0 failed, 1 skipped$/);
  t.equal(ok.status, 0);
  const missing = spawnSync(process.execPath, ['scripts/ci-summary.mjs', counts, 'demo stage', 'never ran'], { encoding: 'utf8' });
  t.match(missing.stdout.trim().split('\n').pop(), /^1 passed, 1 failed, 1 skipped$/);
  t.equal(missing.status, 1);
});
