// Fixed-width rows for bench:kernels (printed as each case finishes, so a slow run shows progress).
// A median prefixed with 'g' was measured with GPU timestamp queries rather than wall clock.

import type { KernelResult } from './kernels.ts';

const COLUMNS: [string, number][] = [
  ['backend', 7], ['case', 58], ['median ms', 10], ['cpu ms', 9], ['GFLOP/s', 9], ['GB/s', 8], ['bound', 7], ['% peak', 7], ['max err', 9],
];

function cell(text: string, width: number, left = false): string {
  return left ? text.padEnd(width) : text.padStart(width);
}

export function formatTable(rows: KernelResult[], header: boolean): string {
  const lines: string[] = [];
  if (header) lines.push(COLUMNS.map(([name, w], i) => cell(name, w, i < 2)).join(' '));
  for (const r of rows) {
    const values = [
      r.backend, r.case.length > 58 ? r.case.slice(0, 57) + '…' : r.case,
      (r.timer === 'gpu' ? 'g ' : '') + (r.medianMs < 1 ? r.medianMs.toFixed(4) : r.medianMs.toFixed(2)),
      r.cpuMs === null ? '-' : r.cpuMs < 1 ? r.cpuMs.toFixed(4) : r.cpuMs.toFixed(2),
      r.gflops.toFixed(2), r.gbps.toFixed(2), r.bound,
      r.fractionOfPeak === null ? '-' : (100 * r.fractionOfPeak).toFixed(1),
      r.maxError === null ? '-' : r.maxError.toExponential(1),
    ];
    lines.push(values.map((v, i) => cell(v, COLUMNS[i]![1], i < 2)).join(' '));
  }
  return lines.join('\n');
}
