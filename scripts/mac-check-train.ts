// A short MNIST training run of the seed CNN on one backend against cpu, step for step
// (test/support/mnist-steps.ts): used by scripts/mac-check.sh for metal.
//   node --import tsx scripts/mac-check-train.ts [backend=metal] [steps=50] [batch=64]
// Exit 0 when every step's loss is within 1e-3 (relative, at least 1) of cpu's and the loss falls.
import { createBackend, isBackendName } from '../src/nn/backends/registry.ts';
import { mnistTrainingLosses } from '../test/support/mnist-steps.ts';

const [name = 'metal', steps = '50', batch = '64'] = process.argv.slice(2);
if (!isBackendName(name)) throw new Error(`unknown backend ${name}`);
const opts = { steps: Number(steps), batch: Number(batch) };
const backend = await createBackend(name);
const cpu = await createBackend('cpu');
const a = await mnistTrainingLosses(backend, opts);
const b = await mnistTrainingLosses(cpu, opts);
backend.dispose();
cpu.dispose();
const worst = Math.max(...a.map((v, i) => Math.abs(v - b[i]) / Math.max(1, Math.abs(b[i]))));
const last = a[a.length - 1];
console.log(`${name} loss ${a[0].toFixed(4)} → ${last.toFixed(4)}, cpu ${b[0].toFixed(4)} → ${b[b.length - 1].toFixed(4)}, largest step difference ${worst.toExponential(2)}`);
process.exitCode = worst <= 1e-3 && last < a[0] ? 0 : 1;
