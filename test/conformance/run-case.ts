// Running a case and checking it against ref: shared by the conformance test, its self-test and
// the kernel benchmarks.

import type { Backend } from '../../src/nn/backend.ts';
import { UnsupportedOpError } from '../../src/nn/backend-errors.ts';
import { compareOutput, type ComparisonResult, type HostData, type KernelCase } from './case-kit.ts';

/** Sets the case up on `backend`, runs it once, and returns its outputs (buffers freed after). */
export async function runCase(backend: Backend, c: KernelCase): Promise<Record<string, HostData>> {
  const inst = c.setup(backend);
  try {
    inst.run();
    await backend.flush();
    return await inst.read();
  } finally {
    inst.dispose();
  }
}

export type CaseCheck =
  | { status: 'pass' | 'fail'; results: ComparisonResult[] }
  | { status: 'unsupported'; op: string; message: string };

/** Runs `c` on `backend` and on `ref` and compares every output. An UnsupportedOpError becomes
 *  status 'unsupported' (which callers must count as a failure); any other error propagates. */
export async function checkCase(backend: Backend, ref: Backend, c: KernelCase): Promise<CaseCheck> {
  const want = await runCase(ref, c);
  let got: Record<string, HostData>;
  try {
    got = await runCase(backend, c);
  } catch (err) {
    if (err instanceof UnsupportedOpError) return { status: 'unsupported', op: err.op, message: err.message };
    throw err;
  }
  const results = Object.entries(c.outputs).map(([output, how]) => compareOutput(output, how, got[output], want[output]));
  return { status: results.every((r) => r.ok) ? 'pass' : 'fail', results };
}
