// The conformance table on webgpu alone, against ref, with one line per failure and a summary
// line: used by scripts/gpu-check-webgpu.sh on GPU machines (the tap test runs every backend).
//   node --import tsx test/webgpu/run-table.ts [name-filter]
import { RefBackend } from '../../src/nn/backends/ref/index.ts';
import { createWebgpuBackend, type WebgpuBackend } from '../../src/nn/backends/webgpu/index.ts';
import { kernelCases } from '../../spec/kernels/cases.ts';
import { checkCase, failureDetail } from '../../spec/kernels/run-case.ts';

const filter = process.argv[2] ?? '';
const gpu = (await createWebgpuBackend()) as WebgpuBackend;
const ref = new RefBackend();
console.log(`# ${gpu.device}`);
let pass = 0;
let fail = 0;
const t0 = performance.now();
for (const c of kernelCases) {
  if (filter && !c.name.includes(filter)) continue;
  try {
    const r = await checkCase(gpu, ref, c);
    if (r.status === 'pass') pass++;
    else {
      fail++;
      console.log(`FAIL ${c.name}: ${failureDetail(r)}`);
    }
  } catch (err) {
    fail++;
    console.log(`ERROR ${c.name}: ${(err instanceof Error ? err.message : String(err)).slice(0, 300)}`);
  }
}
const s = gpu.rt.pipelines.stats;
console.log(`webgpu conformance: ${pass} passed, ${fail} failed in ${((performance.now() - t0) / 1000).toFixed(1)} s (${s.compiled} pipelines)`);
gpu.dispose();
ref.dispose();
process.exitCode = fail ? 1 : 0;
