// Runs every case of the conformance table once on the cuda backend against ref, without tap, and
// prints `cuda cases: N passed, N failed`. Small and single-process so that compute-sanitizer can
// wrap it (scripts/gpu-check.sh): `compute-sanitizer --tool memcheck node --import tsx bench/cuda/run-cases.ts`.
// Also re-runs each case to check that cuda gives bit-identical results twice (determinism).
//   node --import tsx bench/cuda/run-cases.ts [--gemm simt|tf32] [--filter <substring>] [--once]
// --once skips the determinism reruns (compute-sanitizer runs are slow).
import { defineFlags, parseFlags } from '../../src/cli/args.ts';
import { RefBackend } from '../../src/nn/backends/ref/index.ts';
import { createCudaBackend } from '../../src/nn/backends/cuda/index.ts';
import { kernelCases } from '../../spec/kernels/cases.ts';
import { checkCase, failureDetail, runCase } from '../../spec/kernels/run-case.ts';

const { flags: args } = parseFlags('cuda run-cases', process.argv.slice(2), defineFlags({
  gemm: { type: 'enum', values: ['simt', 'tf32'], help: 'the GEMM variant (default: INKLING_CUDA_GEMM or simt)' },
  filter: { type: 'string', help: 'only cases whose name contains this' },
  once: { type: 'boolean', default: false, help: 'skip the run-twice determinism check' },
}), 'the header of bench/cuda/run-cases.ts');
const backend = await createCudaBackend(args.gemm ? { gemm: args.gemm } : {}).catch((err: unknown) => {
  console.log(`cuda cases: not run — ${err instanceof Error ? err.message : String(err)}`);
  process.exit(2);
});
const ref = new RefBackend();
console.log(`device: ${backend.device}`);
let passed = 0;
let failed = 0;
let nondeterministic = 0;
for (const c of kernelCases) {
  if (args.filter && !c.name.includes(args.filter)) continue;
  const check = await checkCase(backend, ref, c);
  if (check.status === 'pass') passed++;
  else {
    failed++;
    console.log(`FAIL ${c.name}: ${failureDetail(check)}`);
  }
  if (args.once) continue;
  const [a, b] = [await runCase(backend, c), await runCase(backend, c)];
  const same = Object.keys(a).every((k) => a[k].length === b[k].length && a[k].every((v, i) => Object.is(v, b[k][i])));
  if (!same) {
    nondeterministic++;
    console.log(`NONDETERMINISTIC ${c.name}: two runs differ`);
  }
}
await backend.flush();
const stats = backend.stats();
backend.dispose();
ref.dispose();
console.log(`cuda cases: ${passed} passed, ${failed} failed, ${nondeterministic} nondeterministic; leaked buffers ${stats.buffers}`);
process.exit(failed || nondeterministic || stats.buffers ? 1 : 0);
