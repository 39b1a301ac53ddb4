// node --import tsx bench/cpu-addon-ab.ts --a OLD.node --b NEW.node [--batch 64] [--steps 60]
// Two builds of the cpu addon (e.g. main's and a change's: copy build/Release/inkling_cpu.node
// aside before rebuilding) loaded into one process, each training its own seed CNN (Adam, the same
// seed and batch), steps interleaved A, B, A, B, … so that this shared host's swings hit both
// alike. Prints each side's median step (min–max), the ratio B/A, and both last losses (the two
// builds should train alike). Run it twice with the builds swapped: a real difference holds in both
// orders.

import { defineFlags, parseFlags } from '../src/cli/args.ts';
import { createCpuBackend } from '../src/nn/backends/cpu/index.ts';
import { Adam, Tensor, classifierStep, createSeedCnn } from '../src/nn/index.ts';
import { median } from './stats.ts';

const { flags } = parseFlags('cpu-addon-ab', process.argv.slice(2), defineFlags({
  a: { type: 'string', help: 'the first addon build (.node file)' },
  b: { type: 'string', help: 'the second addon build (.node file)' },
  batch: { type: 'int', min: 1, default: 64, help: 'the batch' },
  steps: { type: 'int', min: 1, default: 60, help: 'timed steps per side' },
}), 'the header of bench/cpu-addon-ab.ts');
if (!flags.a || !flags.b) throw new Error('cpu-addon-ab: give both builds, --a OLD.node --b NEW.node');
const batch = flags.batch;

async function side(addonPath: string): Promise<() => Promise<number>> {
  const be = await createCpuBackend({ addonPath });
  const model = createSeedCnn(be, { seed: 1 });
  model.train();
  const opt = new Adam(model.parameters(), { lr: 1e-3 });
  const x = Tensor.fromArray(be, new Float32Array(batch * 784).map((_, i) => Math.sin(i) * 0.5 + 0.5), [batch, 1, 28, 28]);
  const y = Tensor.fromArray(be, new Int32Array(batch).map((_, i) => i % 10), [batch], { dtype: 'i32' });
  return async () => {
    const loss = classifierStep(model, opt, x, y);
    const value = (await loss.toArray())[0]!;
    loss.dispose();
    return value;
  };
}

const steps = [await side(flags.a), await side(flags.b)];
for (let i = 0; i < 10; i++) for (const step of steps) await step();
const times: number[][] = [[], []];
const losses = [0, 0];
for (let i = 0; i < flags.steps; i++)
  for (let k = 0; k < 2; k++) {
    const t0 = performance.now();
    losses[k] = await steps[k]!();
    times[k]!.push(performance.now() - t0);
  }
const line = (k: number): string =>
  `${median(times[k]!).toFixed(2)} ms (${Math.min(...times[k]!).toFixed(2)}–${Math.max(...times[k]!).toFixed(2)})`;
console.log(`# seed CNN training step, batch ${batch}, ${flags.steps} interleaved steps per side`);
console.log(`A ${flags.a}: ${line(0)}`);
console.log(`B ${flags.b}: ${line(1)}`);
console.log(`B/A ${(median(times[1]!) / median(times[0]!)).toFixed(3)}; last losses ${losses[0]!.toFixed(5)} / ${losses[1]!.toFixed(5)}`);
