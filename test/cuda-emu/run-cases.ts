// Child process of the mutation tests: runs the conformance cases whose name matches --filter on
// the cuda-emu addon named by INKLING_CUDA_EMU_ADDON (a mutated build in a temporary folder) and
// prints one JSON line per case: { name, status: 'pass' | 'fail' | 'error', detail }. An error is
// what the backend threw, e.g. the emulator's report of a race or an out-of-bounds access.
//   node --import tsx test/cuda-emu/run-cases.ts --filter '^matmul ' [--gemm simt|tf32]
import { defineFlags, parseFlags } from '../../src/cli/args.ts';
import { createCudaEmuBackend } from '../../src/nn/backends/cuda-emu/index.ts';
import { RefBackend } from '../../src/nn/backends/ref/index.ts';
import { kernelCases } from '../../spec/kernels/cases.ts';
import { checkCase, failureDetail } from '../../spec/kernels/run-case.ts';

const { flags: values } = parseFlags('cuda-emu run-cases', process.argv.slice(2), defineFlags({
  filter: { type: 'string', default: '', help: 'a regular expression over case names' },
  gemm: { type: 'enum', values: ['simt', 'tf32'], default: 'simt', help: 'the GEMM variant' },
}), 'the header of test/cuda-emu/run-cases.ts');
const filter = new RegExp(values.filter);
const backend = await createCudaEmuBackend({ gemm: values.gemm });
const ref = new RefBackend();
for (const c of kernelCases.filter((k) => filter.test(k.name))) {
  let line: { name: string; status: string; detail: string };
  try {
    const check = await checkCase(backend, ref, c);
    line = { name: c.name, status: check.status, detail: failureDetail(check) };
  } catch (err) {
    line = { name: c.name, status: 'error', detail: err instanceof Error ? err.message : String(err) };
  }
  console.log(JSON.stringify(line));
}
backend.dispose();
ref.dispose();
