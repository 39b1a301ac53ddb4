// The benchmark rows of scripts/mac-check.sh's summary, from its logs: bench-ours-<round>.log
// (`npm run bench:train` lines "metal train b128: 5000 samples/s") and bench-mps-<round>.log (the
// JSON line of bench/pytorch/seed_cnn_mps.py). Rounds were interleaved; each row gives the median
// over rounds and the range, and metal's ratio to PyTorch mps. Prints "name|result|detail" lines.
//   node --import tsx scripts/mac-check-summary.ts LOGDIR
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function stat(xs: number[]): string {
  return xs.length ? `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}, ${xs.length} rounds)` : 'no data';
}

export function summarizeBench(dir: string): string[] {
  const ours = new Map<string, number[]>();  // "metal b128" → samples/s per round
  const mps = new Map<string, number[]>();   // "b128" → median samples/s per round
  let mpsNote = '';
  for (const file of existsSync(dir) ? readdirSync(dir).sort() : []) {
    const text = readFileSync(join(dir, file), 'utf8');
    if (file.startsWith('bench-ours-')) {
      for (const m of text.matchAll(/^([a-z0-9-]+) train b(\d+): (\d+(?:\.\d+)?) samples\/s$/gm)) {
        const key = `${m[1]} b${m[2]}`;
        ours.set(key, [...(ours.get(key) ?? []), Number(m[3])]);
      }
    } else if (file.startsWith('bench-mps-')) {
      const last = text.trim().split('\n').pop() ?? '';
      try {
        const r = JSON.parse(last) as { error?: string; torch?: string; train?: Record<string, { median: number }> };
        if (r.error) mpsNote = r.error;
        for (const [b, v] of Object.entries(r.train ?? {})) mps.set(`b${b}`, [...(mps.get(`b${b}`) ?? []), v.median]);
        if (r.torch) mpsNote = `torch ${r.torch}`;
      } catch {
        mpsNote = `unreadable output: ${last.slice(0, 80)}`;
      }
    }
  }
  const rows: string[] = [];
  const batches = [...new Set([...ours.keys()].map((k) => k.split(' ')[1]))].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
  for (const b of batches) {
    const parts = ['metal', 'webgpu', 'cpu'].filter((n) => ours.has(`${n} ${b}`)).map((n) => `${n} ${stat(ours.get(`${n} ${b}`)!)}`);
    const torch = mps.get(b);
    const metal = ours.get(`metal ${b}`);
    const ratio = torch?.length && metal?.length ? `${(median(metal) / median(torch)).toFixed(2)}x PyTorch mps` : 'no ratio';
    parts.push(torch?.length ? `PyTorch mps ${stat(torch)}` : `PyTorch mps: ${mpsNote || 'not run (python3 cannot import torch)'}`);
    rows.push(`train ${b} samples/s|${ratio}|${parts.join('; ')}`);
  }
  if (!rows.length) rows.push(`bench|FAIL|no bench:train results in ${dir}`);
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const row of summarizeBench(process.argv[2] ?? '.')) console.log(row);
}
