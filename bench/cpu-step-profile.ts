// node --import tsx bench/cpu-step-profile.ts [--batch 128] [--threads 1] [--steps 10]
// Where a seed-CNN training step (Adam) spends its time on the cpu backend: every Backend method
// is wrapped to add up the process CPU time it takes (CPU time, not wall time, so that the split
// stays readable on a shared machine). Prints wall and CPU ms per step and the kernels by cost.

import { defineFlags, parseFlags } from '../src/cli/args.ts';
import { Adam, F, Tensor, createSeedCnn, tidy } from '../src/nn/index.ts';
import type { Backend } from '../src/nn/backend.ts';
import { createCpuBackend } from '../src/nn/backends/cpu/index.ts';

const { flags: args } = parseFlags('cpu-step-profile', process.argv.slice(2), defineFlags({
  batch: { type: 'int', min: 1, default: 128, help: 'batch size' },
  threads: { type: 'int', min: 1, help: 'kernel threads (default: one per core)' },
  steps: { type: 'int', min: 1, default: 10, help: 'timed steps' },
}), 'the header of bench/cpu-step-profile.ts');
const batch = args.batch;
const steps = args.steps;
const backend = await createCpuBackend(args.threads !== undefined ? { threads: args.threads } : {});

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const spent = new Map<string, { ms: number; calls: number }>();
type Method = (...a: unknown[]) => unknown;
const methods = backend as unknown as Record<string, Method>;
for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(backend))) {
  const original = methods[name];
  if (name === 'constructor' || typeof original !== 'function' || name === 'f32' || name === 'i32') continue;
  methods[name] = function (this: Backend, ...a: unknown[]) {
    const t = cpuMs();
    const r = original.apply(this, a);
    const s = spent.get(name) ?? { ms: 0, calls: 0 };
    s.ms += cpuMs() - t;
    s.calls++;
    spent.set(name, s);
    return r;
  };
}

const model = createSeedCnn(backend, { seed: 1 });
model.train();
const opt = new Adam(model.parameters(), { lr: 1e-3 });
const x = Tensor.fromArray(backend, new Float32Array(batch * 784).map((_, i) => Math.sin(i)), [batch, 1, 28, 28]);
const y = Tensor.fromArray(backend, new Int32Array(batch).map((_, i) => i % 10), [batch], { dtype: 'i32' });
const step = (): void =>
  tidy(() => {
    opt.zeroGrad();
    F.softmaxCrossEntropy(model.forward(x), y).backward();
    opt.step();
  });
for (let i = 0; i < 3; i++) step();
spent.clear();
const c0 = cpuMs();
const t0 = performance.now();
for (let i = 0; i < steps; i++) step();
const perStepCpu = (cpuMs() - c0) / steps;
const perStepWall = (performance.now() - t0) / steps;
console.log(`seed CNN b${batch} on ${backend.device}: ${perStepWall.toFixed(1)} ms/step wall ` +
  `(${((batch / perStepWall) * 1000).toFixed(0)} samples/s), ${perStepCpu.toFixed(1)} ms/step CPU`);
for (const [name, s] of [...spent].sort((a, b) => b[1].ms - a[1].ms)) {
  console.log(`  ${name.padEnd(28)} ${(s.ms / steps).toFixed(2).padStart(7)} ms  ${(s.calls / steps).toFixed(0).padStart(3)} calls`);
}
backend.dispose();
