#!/usr/bin/env node
// Runs every test file with tap and ends with the one line CI reads: `N passed, N failed`.
// N counts test cases (each file's top-level t.test blocks, or the file itself when it has none),
// not individual assertions. Extra arguments are passed to tap (e.g. a file or --grep).
import { spawn } from 'node:child_process';

const args = ['tap', '--reporter=tap', ...process.argv.slice(2)];
const child = spawn('npx', args, { stdio: ['ignore', 'pipe', 'inherit'], env: process.env });

let passed = 0;
let failed = 0;
let skipped = 0;
let pending = '';
let fileHadCases = false;
let fileDepthCases = 0;

function onLine(line) {
  // A file's own subtests sit one level in (4 spaces); the file result is at column 0.
  const inner = /^ {4}(not ok|ok) \d+ - .*?(# (SKIP|TODO).*)?$/.exec(line);
  if (inner) {
    fileHadCases = true;
    fileDepthCases++;
    if (inner[3]) skipped++;
    else if (inner[1] === 'ok') passed++;
    else failed++;
    return;
  }
  const top = /^(not ok|ok) \d+ - .*?(# (SKIP|TODO).*)?$/.exec(line);
  if (top) {
    if (!fileHadCases) {
      if (top[3]) skipped++;
      else if (top[1] === 'ok') passed++;
      else failed++;
    } else if (top[1] === 'not ok' && fileDepthCases > 0 && failed === 0) {
      // The file failed outside its cases (a crash after they ran): count it.
      failed++;
    }
    fileHadCases = false;
    fileDepthCases = 0;
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
  process.exit(code ?? 1);
});
