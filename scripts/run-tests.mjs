#!/usr/bin/env node
// Runs every test file with tap and ends with the one line CI reads: `N passed, N failed`.
// N counts test cases (each file's top-level t.test blocks, or the file itself when it has none),
// not individual assertions. A file that fails outside its cases (a crash after they ran) counts
// as one more failure. Extra arguments are passed to tap (e.g. a file or --grep).
//
// CI stages: when INKLING_CI_COUNTS names a file, the counts are also appended to it as one line
// `passed failed skipped label` (label = INKLING_CI_STAGE, default `npm test`), so that .ci/run can
// run several stages and print one final line over all of them (scripts/ci-summary.mjs).
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';

const args = ['tap', '--reporter=tap', ...process.argv.slice(2)];
const child = spawn('npx', args, { stdio: ['ignore', 'pipe', 'inherit'], env: process.env });

let passed = 0;
let failed = 0;
let skipped = 0;
let pending = '';
let fileHadCases = false;
let fileFailedCases = 0;

function onLine(line) {
  // A file's own subtests sit one level in (4 spaces); the file result is at column 0.
  const inner = /^ {4}(not ok|ok) \d+ - .*?(# (SKIP|TODO).*)?$/.exec(line);
  if (inner) {
    fileHadCases = true;
    if (inner[3]) skipped++;
    else if (inner[1] === 'ok') passed++;
    else {
      failed++;
      fileFailedCases++;
    }
    return;
  }
  const top = /^(not ok|ok) \d+ - .*?(# (SKIP|TODO).*)?$/.exec(line);
  if (top) {
    if (!fileHadCases) {
      if (top[3]) skipped++;
      else if (top[1] === 'ok') passed++;
      else failed++;
    } else if (top[1] === 'not ok' && fileFailedCases === 0) {
      // The file failed although none of its cases did (a crash after they ran): count it.
      failed++;
    }
    fileHadCases = false;
    fileFailedCases = 0;
  }
}

child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  pending += chunk.toString();
  let nl;
  while ((nl = pending.indexOf('\n')) >= 0) {
    onLine(pending.slice(0, nl));
    pending = pending.slice(nl + 1);
  }
});

child.on('close', (code) => {
  if (pending) onLine(pending);
  if (code !== 0 && failed === 0) failed = 1; // tap failed for a reason no case reported
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  if (process.env.INKLING_CI_COUNTS) {
    appendFileSync(process.env.INKLING_CI_COUNTS, `${passed} ${failed} ${skipped} ${process.env.INKLING_CI_STAGE ?? 'npm test'}\n`);
  }
  process.exit(code ?? 1);
});
