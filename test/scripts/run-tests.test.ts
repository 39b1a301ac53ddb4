// The test runner's count is what CI reads: a crashed file, a failing case and a skip must each
// be counted as what they are, and the stage counts must reach the CI summary (mutation-style:
// every fixture plants the fault the count must show).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const fixtures = 'test/scripts/fixtures';

function runTests(files: string[], env: Record<string, string> = {}): { line: string; status: number | null } {
  const r = spawnSync(process.execPath, ['scripts/run-tests.mjs', ...files.map((f) => join(fixtures, f))], {
    encoding: 'utf8',
    env: { ...process.env, INKLING_CI_COUNTS: '', INKLING_CI_FAILURES: '', ...env },
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

t.test('failed assertions reach the end of the CI log, with what was found and wanted', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'inkling-ci-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const counts = join(dir, 'counts');
  const failures = join(dir, 'failures');
  const env = { INKLING_CI_COUNTS: counts, INKLING_CI_FAILURES: failures, INKLING_CI_STAGE: 'demo stage' };
  runTests(['skips.fixture.ts'], env);
  t.notOk(existsSync(failures), 'a stage without failures writes none');
  runTests(['found-wanted.fixture.ts'], env);
  const text = readFileSync(failures, 'utf8');
  t.match(text, /^=== demo stage\n/);
  t.match(text, /not ok \d+ - two is not three/, 'the failed assertion by name');
  t.match(text, /at: test\/scripts\/fixtures\/found-wanted\.fixture\.ts:3/, 'where it is');
  t.match(text, /-3\n\s*\+2/, 'its diff (wanted 3, found 2)');
  t.notMatch(text, /source:|stack:/, 'not the source excerpt or stack (those stay in the stage log)');
  const summary = spawnSync(process.execPath, ['scripts/ci-summary.mjs', counts, 'demo stage'], { encoding: 'utf8', env: { ...process.env, INKLING_CI_FAILURES: failures } });
  const out = summary.stdout;
  t.ok(out.indexOf('two is not three') >= 0 && out.indexOf('two is not three') < out.indexOf('stage  '), 'the summary prints them before its table');
  t.match(out.trim().split('\n').pop(), /^1 passed, 1 failed, 1 skipped$/);
});

t.test("the fixtures' planted failures never reach the CI log of the stage that runs this file", async (t) => {
  // CI sets INKLING_CI_FAILURES for the whole `npm test` stage; this file runs the runner on
  // failing fixtures inside it (once their failures were printed as the stage's own).
  const dir = mkdtempSync(join(tmpdir(), 'inkling-ci-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const outer = join(dir, 'outer-failures');
  const saved = process.env.INKLING_CI_FAILURES;
  process.env.INKLING_CI_FAILURES = outer;
  t.teardown(() => {
    if (saved === undefined) delete process.env.INKLING_CI_FAILURES;
    else process.env.INKLING_CI_FAILURES = saved;
  });
  runTests(['one-failing-case.fixture.ts']);
  t.notOk(existsSync(outer), 'nothing appended to the outer run\'s failures file');
});
