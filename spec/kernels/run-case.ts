// Running a case and checking it against ref: shared by the conformance test, its self-test, the
// emulator stage and the kernel benchmarks.

import type { Backend } from '../../src/nn/backend.ts';
import {
  compareOutput, describeGuardDamage, type ComparisonResult, type GuardDamage, type HostData, type Inputs, type KernelCase,
} from './case-kit.ts';

export interface CaseRun {
  outputs: Record<string, HostData>;
  /** Whether the buffers sat between guard regions (the backend has allocGuarded). */
  guarded: boolean;
  /** Guard elements the kernel overwrote (empty when none). */
  guardDamage: GuardDamage[];
}

/** Sets the case up on `backend` (guarded when it can be), runs it once, and returns its outputs
 *  and any guard damage (buffers freed after). */
export async function runCaseChecked(backend: Backend, c: KernelCase, inputs?: Inputs): Promise<CaseRun> {
  const inst = c.setup(backend, inputs);
  try {
    inst.run();
    await backend.flush();
    const outputs = await inst.read();
    return { outputs, guarded: inst.guarded, guardDamage: await inst.guards() };
  } finally {
    inst.dispose();
  }
}

/** The outputs of one run of `c` on `backend`. */
export async function runCase(backend: Backend, c: KernelCase): Promise<Record<string, HostData>> {
  return (await runCaseChecked(backend, c)).outputs;
}

export interface CaseCheck {
  status: 'pass' | 'fail';
  results: ComparisonResult[];
  guarded: boolean;
}

/** The failing comparisons of a check, one line ('' when it passed). */
export function failureDetail(check: CaseCheck): string {
  return check.results.filter((r) => !r.ok).map((r) => r.detail).join('; ');
}

/** Whether `backend`'s matmul and convolutions round their operands to TF32. */
export function gemmIsTf32(backend: Backend): boolean {
  return (backend as { gemmPrecision?: string }).gemmPrecision === 'tf32';
}

/** Σ_k |a_k·b_k| per element of every output: the case's own tf32Magnitudes, else the case on ref
 *  with every float input absolute. */
async function magnitudes(ref: Backend, c: KernelCase): Promise<Record<string, HostData>> {
  if (c.tf32Magnitudes) return c.tf32Magnitudes();
  const abs: Inputs = {};
  for (const [k, v] of Object.entries(c.makeInputs())) abs[k] = v instanceof Float32Array ? v.map(Math.abs) : v;
  return (await runCaseChecked(ref, c, abs)).outputs;
}

/** Runs `c` on `backend` and on `ref` and compares every output, then checks that no guard
 *  element around any buffer changed. An error thrown by either backend propagates: every backend
 *  implements every kernel (the Backend interface requires it, and conformance.test.ts checks
 *  that the table covers each one), so there is no 'unsupported' outcome to count. */
export async function checkCase(backend: Backend, ref: Backend, c: KernelCase): Promise<CaseCheck> {
  const want = await runCaseChecked(ref, c);
  const got = await runCaseChecked(backend, c);
  const tf32 = gemmIsTf32(backend) && Object.values(c.outputs).some((how) => how !== 'exact' && how.tf32PerProduct !== undefined);
  const magnitude = tf32 ? await magnitudes(ref, c) : {};
  const results = Object.entries(c.outputs).map(([output, how]) =>
    compareOutput(output, how, got.outputs[output], want.outputs[output], { tf32, magnitude: magnitude[output] }));
  for (const line of describeGuardDamage(got.guardDamage)) results.push({ output: 'guards', ok: false, error: Infinity, detail: line });
  for (const line of describeGuardDamage(want.guardDamage)) results.push({ output: 'guards', ok: false, error: Infinity, detail: `ref: ${line}` });
  return { status: results.every((r) => r.ok) ? 'pass' : 'fail', results, guarded: got.guarded };
}
