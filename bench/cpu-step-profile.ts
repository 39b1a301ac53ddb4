// node --import tsx bench/cpu-step-profile.ts [--batch 128] [--threads 1] [--steps 10] [--infer]
// Where a seed-CNN training step (Adam) spends its time on the cpu backend: every Backend method
// is wrapped to add up the process CPU time it takes (CPU time, not wall time, so that the split
// stays readable on a shared machine). Prints wall and CPU ms per step and the kernels by cost.
// --infer profiles the eval-mode forward pass instead (the API's path; wall time per method too,
// since at batch 1 a kernel's cost is mostly its latency, and the JS between kernels is printed).

import { defineFlags, parseFlags } from '../src/cli/args.ts';
import { Adam, F, Tensor, createSeedCnn, noGrad, tidy } from '../src/nn/index.ts';
import type { Backend } from '../src/nn/backend.ts';
import { createCpuBackend } from '../src/nn/backends/cpu/index.ts';

const { flags: args } = parseFlags('cpu-step-profile', process.argv.slice(2), defineFlags({
  batch: { type: 'int', min: 1, default: 128, help: 'batch size' },
  threads: { type: 'int', min: 1, help: 'kernel threads (default: one per core)' },
  steps: { type: 'int', min: 1, default: 10, help: 'timed steps' },
  infer: { type: 'boolean', default: false, help: 'profile the eval-mode forward pass instead of a training step' },
}), 'the header of bench/cpu-step-profile.ts');
const batch = args.batch;
const steps = args.steps;
const backend = await createCpuBackend(args.threads !== undefined ? { threads: args.threads } : {});

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
let callIndex = 0;
const spent = new Map<string, { ms: number; wallMs: number; calls: number }>();
type Method = (...a: unknown[]) => unknown;
const methods = backend as unknown as Record<string, Method>;
for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(backend))) {
  const original = methods[name];
  if (name === 'constructor' || typeof original !== 'function' || name === 'f32' || name === 'i32') continue;
  methods[name] = function (this: Backend, ...a: unknown[]) {
    const t = cpuMs();
    const w = performance.now();
    const r = original.apply(this, a);
    const key = process.env.PROFILE_BY_CALL ? `${name}#${callIndex++}` : name;
    const s = spent.get(key) ?? { ms: 0, wallMs: 0, calls: 0 };
    s.wallMs += performance.now() - w;
    s.ms += cpuMs() - t;
    s.calls++;
    spent.set(key, s);
    return r;
  };
}

const model = createSeedCnn(backend, { seed: 1 });
if (args.infer) model.eval();
else model.train();
const opt = new Adam(model.parameters(), { lr: 1e-3 });
const x = Tensor.fromArray(backend, new Float32Array(batch * 784).map((_, i) => Math.sin(i)), [batch, 1, 28, 28]);
const y = Tensor.fromArray(backend, new Int32Array(batch).map((_, i) => i % 10), [batch], { dtype: 'i32' });
// The forward pass plus the read of the logits, as the API and bench:train run it.
const infer = async (): Promise<void> => {
  const logits = noGrad(() => model.forward(x));
  await logits.toArray();
  logits.dispose();
};
const step = (): void =>
  tidy(() => {
    opt.zeroGrad();
    F.softmaxCrossEntropy(model.forward(x), y).backward();
    opt.step();
  });
for (let i = 0; i < 3; i++) args.infer ? await infer() : step();
spent.clear();
const c0 = cpuMs();
const t0 = performance.now();
for (let i = 0; i < steps; i++) {
  callIndex = 0;
  args.infer ? await infer() : step();
}
const perStepCpu = (cpuMs() - c0) / steps;
const perStepWall = (performance.now() - t0) / steps;
const what = args.infer ? 'forward (eval)' : 'step';
console.log(`seed CNN b${batch} on ${backend.device}: ${perStepWall.toFixed(3)} ms/${what} wall ` +
  `(${((batch / perStepWall) * 1000).toFixed(0)} samples/s), ${perStepCpu.toFixed(3)} ms/${what} CPU`);
let inKernels = 0;
for (const [name, s] of [...spent].sort((a, b) => b[1].ms - a[1].ms)) {
  inKernels += s.wallMs / steps;
  console.log(`  ${name.padEnd(28)} ${(s.ms / steps).toFixed(3).padStart(8)} ms CPU ${(s.wallMs / steps).toFixed(3).padStart(8)} ms wall ${(s.calls / steps).toFixed(0).padStart(3)} calls`);
}
console.log(`  ${'(outside backend methods)'.padEnd(28)} ${''.padStart(15)} ${(perStepWall - inKernels).toFixed(3).padStart(8)} ms wall`);
backend.dispose();
