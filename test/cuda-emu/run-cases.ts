// Child process of the mutation tests: runs the conformance cases whose name matches --filter on
// the cuda-emu addon named by INKLING_CUDA_EMU_ADDON (a mutated build in a temporary folder) and
// prints one JSON line per case: { name, status: 'pass' | 'fail' | 'error', detail }. An error is
// what the backend threw, e.g. the emulator's report of a race or an out-of-bounds access.
//   node --import tsx test/cuda-emu/run-cases.ts --filter '^matmul ' [--gemm simt|tf32]
import { parseArgs } from 'node:util';
import { createCudaEmuBackend } from '../../src/nn/backends/cuda-emu/index.ts';
import { RefBackend } from '../../src/nn/backends/ref/index.ts';
import { kernelCases } from '../conformance/cases.ts';
import { checkCase } from '../conformance/run-case.ts';

const { values } = parseArgs({ options: { filter: { type: 'string', default: '' }, gemm: { type: 'string', default: 'simt' } } });
const filter = new RegExp(values.filter ?? '');
const backend = await createCudaEmuBackend({ gemm: values.gemm === 'tf32' ? 'tf32' : 'simt' });
const ref = new RefBackend();
for (const c of kernelCases.filter((k) => filter.test(k.name))) {
  let line: { name: string; status: string; detail: string };
  try {
    const check = await checkCase(backend, ref, c);
    if (check.status === 'unsupported') line = { name: c.name, status: 'fail', detail: check.message };
    else line = { name: c.name, status: check.status, detail: check.results.filter((r) => !r.ok).map((r) => r.detail).join('; ') };
  } catch (err) {
    line = { name: c.name, status: 'error', detail: err instanceof Error ? err.message : String(err) };
  }
  console.log(JSON.stringify(line));
}
backend.dispose();
ref.dispose();
