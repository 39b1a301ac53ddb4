#!/usr/bin/env node
// Runs every test file with tap and ends with the one line CI reads: `N passed, N failed`.
// N counts test cases (each file's top-level t.test blocks, or the file itself when it has none),
// not individual assertions. A file that fails outside its cases (a crash after they ran) counts
// as one more failure. Extra arguments are passed to tap (e.g. a file or --grep).
//
// CI stages: when INKLING_CI_COUNTS names a file, the counts are also appended to it as one line
// `passed failed skipped label` (label = INKLING_CI_STAGE, default `npm test`), so that .ci/run can
// run several stages and print one final line over all of them (scripts/ci-summary.mjs).
//
// Every failed assertion (a `not ok` line at any depth, with the YAML block tap prints under it)
// is repeated after tap's output, and appended to INKLING_CI_FAILURES when that names a file: CI
// shows only the tail of its log, and a failure far up in a long stage was otherwise invisible.
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
/** The failed assertions seen so far, each with the telling part of tap's YAML block under it. */
const failures = [];
/** Reading a failure's YAML block: its lines so far, its indentation, the key being read. */
let block = null;
const MAX_FAILURES = 20;
/** The YAML keys repeated (the rest, source excerpts and stacks, stays in the log above). */
const TELLING = new Set(['found', 'wanted', 'diff', 'message', 'error', 'exitCode', 'signal', 'pattern']);

function collectFailure(line) {
  if (block) {
    if (!block.opened) {
      block.opened = line === `${block.indent}---`;
      if (block.opened) return;
      block = null; // no diagnostics under this one
    } else if (line === `${block.indent}...`) {
      block = null;
      return;
    } else {
      const key = line.startsWith(block.indent) && !line.startsWith(`${block.indent} `) ? /^\s*([A-Za-z]+):/.exec(line)?.[1] : undefined;
      if (key !== undefined) block.key = key;
      if (block.key === 'at') {
        const at = /^\s*(fileName|lineNumber): (.*)$/.exec(line);
        if (at) block.at[at[1]] = at[2];
        if (block.at.fileName && block.at.lineNumber && !block.atShown) {
          block.lines.push(`${block.indent}at: ${block.at.fileName}:${block.at.lineNumber}`);
          block.atShown = true;
        }
      } else if (TELLING.has(block.key) && block.lines.length < 16) block.lines.push(line);
      return;
    }
  }
  const m = /^(\s*)not ok \d+ - /.exec(line);
  if (!m || failures.length >= MAX_FAILURES) return;
  const lines = [line];
  failures.push(lines);
  block = { lines, indent: `${m[1]}  `, opened: false, key: '', at: {}, atShown: false };
}

function onLine(line) {
  collectFailure(line);
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
  if (failures.length > 0) {
    const text = failures.map((lines) => lines.join('\n')).join('\n');
    console.log(`\n# the failed assertions above, again:\n${text}`);
    if (process.env.INKLING_CI_FAILURES) {
      appendFileSync(process.env.INKLING_CI_FAILURES, `=== ${process.env.INKLING_CI_STAGE ?? 'npm test'}\n${text}\n`);
    }
  }
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  if (process.env.INKLING_CI_COUNTS) {
    appendFileSync(process.env.INKLING_CI_COUNTS, `${passed} ${failed} ${skipped} ${process.env.INKLING_CI_STAGE ?? 'npm test'}\n`);
  }
  process.exit(code ?? 1);
});
