// Runs (a filtered part of) the conformance table on one cpu backend configuration against ref:
// the cpu tests use it for the paths the main conformance run does not take by default (the
// portable kernels, the implicit-GEMM convolution).

import type { Backend } from '../../src/nn/backend.ts';
import { RefBackend } from '../../src/nn/backends/ref/index.ts';
import type { KernelCase } from '../../spec/kernels/case-kit.ts';
import { kernelCases } from '../../spec/kernels/cases.ts';
import { checkCase } from '../../spec/kernels/run-case.ts';

interface Asserts {
  ok(value: unknown, message: string): boolean;
  fail(message: string): boolean;
}

export async function runTableOn(t: Asserts, backend: Backend, filter: (c: KernelCase) => boolean = () => true): Promise<number> {
  const ref = new RefBackend();
  let count = 0;
  try {
    for (const c of kernelCases.filter(filter)) {
      const check = await checkCase(backend, ref, c);
      for (const r of check.results) t.ok(r.ok, `${c.name}: ${r.detail}`);
      count++;
    }
  } finally {
    ref.dispose();
  }
  return count;
}
