#!/usr/bin/env node
// Sums the stage counts that scripts/run-tests.mjs appended to INKLING_CI_COUNTS (one line per
// stage: `passed failed skipped label`) and prints one table and then the line CI reads:
// `N passed, N failed`. A stage named in the arguments that wrote no line (it crashed before
// counting, or never ran) is one failure, so a broken stage cannot pass silently.
//
// Before the table, the failed assertions every stage appended to INKLING_CI_FAILURES (run-tests.mjs),
// at most MAX_LINES lines: CI keeps only the end of its log, where a failure deep in an early stage
// was never seen (a faults-stage failure once showed only as its count).
import { existsSync, readFileSync } from 'node:fs';

const MAX_LINES = 60;
const [countsFile, ...expected] = process.argv.slice(2);
const failuresFile = process.env.INKLING_CI_FAILURES;
if (failuresFile && existsSync(failuresFile)) {
  const lines = readFileSync(failuresFile, 'utf8').split('\n').filter(Boolean);
  if (lines.length) {
    console.log('\nfailed assertions, by stage:');
    console.log(lines.slice(0, MAX_LINES).join('\n'));
    if (lines.length > MAX_LINES) console.log(`(${lines.length - MAX_LINES} more lines: see each stage's output above)`);
  }
}
const lines = countsFile && existsSync(countsFile) ? readFileSync(countsFile, 'utf8').split('\n').filter(Boolean) : [];
let passed = 0;
let failed = 0;
let skipped = 0;
const seen = new Set();
console.log('\nstage                          passed  failed  skipped');
for (const line of lines) {
  const [p, f, s, ...label] = line.split(' ');
  const name = label.join(' ');
  seen.add(name);
  passed += Number(p);
  failed += Number(f);
  skipped += Number(s);
  console.log(`${name.padEnd(30)} ${p.padStart(6)}  ${f.padStart(6)}  ${s.padStart(7)}`);
}
for (const name of expected) {
  if (seen.has(name)) continue;
  failed++;
  console.log(`${name.padEnd(30)}      -       1        -   (wrote no counts: it crashed or did not run)`);
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed === 0 ? 0 : 1);
