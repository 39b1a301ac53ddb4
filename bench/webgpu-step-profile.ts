// Where a seed-CNN training step spends its GPU time on this adapter, from timestamp queries:
//   node --import tsx bench/webgpu-step-profile.ts [--batch 64] [--steps 5]
// Runs warm-up steps (pipelines compiled), then times `steps` steps by wall clock (flush at the
// end) and one step kernel by kernel on the GPU. Synthetic inputs: the time does not depend on
// the data. Prints a table of GPU ms per kernel label, largest first.
import { defineFlags, parseFlags } from '../src/cli/args.ts';
import { Adam, F, Tensor, createSeedCnn, tidy } from '../src/nn/index.ts';
import { createWebgpuBackend, type WebgpuBackend } from '../src/nn/backends/webgpu/index.ts';

const { flags } = parseFlags('webgpu-step-profile', process.argv.slice(2), defineFlags({
  batch: { type: 'int', min: 1, default: 64, help: 'batch size' },
  steps: { type: 'int', min: 1, default: 5, help: 'timed steps' },
}), 'the header of bench/webgpu-step-profile.ts');
const { batch, steps } = flags;

const be = (await createWebgpuBackend()) as WebgpuBackend;
const net = createSeedCnn(be, { seed: 1 });
const opt = new Adam(net.parameters(), { lr: 1e-3 });
let s = 1;
const x = Tensor.fromArray(be, Float32Array.from({ length: batch * 784 }, () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1), [batch, 1, 28, 28]);
const y = Tensor.fromArray(be, Int32Array.from({ length: batch }, (_, i) => i % 10), [batch]);
const step = (): void =>
  tidy(() => {
    opt.zeroGrad();
    const loss = F.softmaxCrossEntropy(net.forward(x), y);
    loss.backward();
    opt.step();
  });

const tc = performance.now();
step();
await be.flush();
step();
await be.flush();
const warmMs = performance.now() - tc;
const t0 = performance.now();
for (let i = 0; i < steps; i++) step();
await be.flush();
const wallMs = (performance.now() - t0) / steps;
console.log(`# ${be.device}`);
console.log(`# seed CNN, batch ${batch}, Adam: ${wallMs.toFixed(1)} ms/step wall (${((batch * 1000) / wallMs).toFixed(0)} samples/s), warm-up ${(warmMs / 1000).toFixed(1)} s`);
const timing = await be.gpuTime(step);
if (!timing) {
  console.log('# the adapter has no timestamp-query: no per-kernel times');
} else {
  const byLabel = new Map<string, { ms: number; count: number }>();
  for (const k of timing.kernels) {
    const e = byLabel.get(k.label) ?? { ms: 0, count: 0 };
    e.ms += k.ms;
    e.count++;
    byLabel.set(k.label, e);
  }
  console.log(`# one step: ${timing.kernels.length} dispatches, ${timing.totalMs.toFixed(1)} ms GPU time in total`);
  console.log('GPU ms   share  calls  kernel');
  for (const [label, e] of [...byLabel].sort((a, b) => b[1].ms - a[1].ms)) {
    console.log(`${e.ms.toFixed(2).padStart(7)}  ${((100 * e.ms) / timing.totalMs).toFixed(1).padStart(5)}%  ${String(e.count).padStart(5)}  ${label}`);
  }
}
opt.dispose();
net.dispose();
x.dispose();
y.dispose();
be.dispose();
