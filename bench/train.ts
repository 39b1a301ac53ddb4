// npm run bench:train [-- --backend cpu,webgpu --batches 64,128 --blocks 7 --steps 10 --no-pytorch]
//
// Seed CNN training throughput (Adam, samples/s: the median over timed blocks after a warm-up)
// and inference (batch-1 latency including the readback of the logits, batch-256 throughput) on
// each backend, and the same model in PyTorch on this CPU in the same run when /usr/bin/python3
// can import torch. Ends with one line per batch size:
//   train b128: cpu 1620 samples/s, pytorch 1040 samples/s, 1.56x
// Results also go to bench/results/train-<time>.json.

import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  Adam, F, Tensor, createBackend, createSeedCnn, noGrad, probeBackend, registeredBackendNames, tidy,
  type Backend, type BackendName,
} from '../src/nn/index.ts';
import { emulatedBackends } from '../src/nn/backends/registry.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const { values: args } = parseArgs({
  options: {
    backend: { type: 'string' },
    batches: { type: 'string', default: '64,128' },
    blocks: { type: 'string', default: '7' },
    steps: { type: 'string', default: '10' },
    'no-pytorch': { type: 'boolean', default: false },
    threads: { type: 'string' },
  },
});

const batches = args.batches.split(',').map(Number);
const blocks = Number(args.blocks);
const stepsPerBlock = Number(args.steps);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function syntheticBatch(backend: Backend, batch: number, seed: number): { x: Tensor; y: Tensor } {
  let s = seed >>> 0;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  const x = new Float32Array(batch * 784).map(() => rand() * 2 - 0.5);
  const y = new Int32Array(batch).map(() => Math.floor(rand() * 10));
  return {
    x: Tensor.fromArray(backend, x, [batch, 1, 28, 28]),
    y: Tensor.fromArray(backend, y, [batch], { dtype: 'i32' }),
  };
}

async function trainThroughput(backend: Backend, batch: number): Promise<number> {
  const model = createSeedCnn(backend, { seed: 1 });
  model.train();
  const opt = new Adam(model.parameters(), { lr: 1e-3 });
  const { x, y } = syntheticBatch(backend, batch, 7);
  const step = () =>
    tidy(() => {
      opt.zeroGrad();
      const loss = F.softmaxCrossEntropy(model.forward(x), y);
      loss.backward();
      opt.step();
    });
  for (let i = 0; i < 3; i++) step();
  await backend.flush();
  const rates: number[] = [];
  for (let b = 0; b < blocks; b++) {
    const t0 = performance.now();
    for (let i = 0; i < stepsPerBlock; i++) step();
    await backend.flush();
    rates.push((batch * stepsPerBlock * 1000) / (performance.now() - t0));
  }
  x.dispose();
  y.dispose();
  model.dispose();
  return median(rates);
}

async function inferenceMs(backend: Backend, batch: number, repeats: number): Promise<number> {
  const model = createSeedCnn(backend, { seed: 1 });
  model.eval();
  const { x, y } = syntheticBatch(backend, batch, 9);
  const once = async () => {
    const logits = noGrad(() => model.forward(x));
    await logits.toArray();
    logits.dispose();
  };
  for (let i = 0; i < 5; i++) await once();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await once();
    times.push(performance.now() - t0);
  }
  x.dispose();
  y.dispose();
  model.dispose();
  return median(times);
}

interface PytorchResult {
  torch: string;
  threads: number;
  train: Record<string, number>;
  inferenceB1Ms: number;
  inferenceB256Ms: number;
}

function runPytorch(): PytorchResult | string {
  const python = '/usr/bin/python3';
  const probe = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) return `PyTorch baseline skipped: ${python} cannot import torch (apt-get install python3-torch)`;
  const script = join(root, 'bench', 'pytorch', 'seed_cnn_cpu.py');
  const params = JSON.stringify({ batches, blocks, stepsPerBlock, threads: 2 });
  // Debian's torch links a busy-waiting OpenBLAS; one BLAS thread with 2 torch threads is its best
  // configuration on this machine (oneDNN runs the convolutions).
  const r = spawnSync(python, [script, params], { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1' } });
  if (r.status !== 0) return `PyTorch baseline failed: ${r.stderr.trim().split('\n').pop()}`;
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as PytorchResult;
}

async function main(): Promise<void> {
  const requested = args.backend ? (args.backend.split(',') as BackendName[]) : registeredBackendNames().filter((n) => n !== 'ref' && !emulatedBackends[n]);
  const results: Record<string, { device: string; train: Record<string, number>; inferenceB1Ms: number; inferenceB256Ms: number }> = {};
  for (const name of requested) {
    const probe = await probeBackend(name);
    if (!probe.available) {
      console.log(`${name}: unavailable (${probe.reason})`);
      continue;
    }
    const backend = await createBackend(name, args.threads ? { threads: Number(args.threads) } : undefined);
    const train: Record<string, number> = {};
    for (const b of batches) {
      train[b] = await trainThroughput(backend, b);
      console.log(`${name} train b${b}: ${train[b].toFixed(0)} samples/s`);
    }
    const inferenceB1Ms = await inferenceMs(backend, 1, 200);
    const inferenceB256Ms = await inferenceMs(backend, 256, 20);
    console.log(`${name} inference: b1 ${inferenceB1Ms.toFixed(3)} ms, b256 ${inferenceB256Ms.toFixed(1)} ms (${(256000 / inferenceB256Ms).toFixed(0)} samples/s)`);
    results[name] = { device: backend.device, train, inferenceB1Ms, inferenceB256Ms };
    backend.dispose();
  }

  const pytorch = args['no-pytorch'] ? 'PyTorch baseline skipped (--no-pytorch)' : runPytorch();
  if (typeof pytorch === 'string') console.log(pytorch);
  else {
    for (const b of batches) console.log(`pytorch ${pytorch.torch} train b${b}: ${pytorch.train[b].toFixed(0)} samples/s`);
    console.log(`pytorch inference: b1 ${pytorch.inferenceB1Ms.toFixed(3)} ms, b256 ${pytorch.inferenceB256Ms.toFixed(1)} ms`);
  }

  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  const file = join(root, 'bench', 'results', `train-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ batches, blocks, stepsPerBlock, results, pytorch }, null, 2));
  console.log(`results: ${file}`);

  console.log('');
  for (const b of batches) {
    const parts = Object.entries(results).map(([name, r]) => `${name} ${r.train[b].toFixed(0)} samples/s`);
    if (typeof pytorch !== 'string') {
      const best = Math.max(...Object.values(results).map((r) => r.train[b]));
      parts.push(`pytorch ${pytorch.train[b].toFixed(0)} samples/s, ${(best / pytorch.train[b]).toFixed(2)}x`);
    }
    console.log(`train b${b}: ${parts.join(', ')}`);
  }
  const cpu = results.cpu;
  if (cpu) {
    const torchB1 = typeof pytorch === 'string' ? '' : `, pytorch ${pytorch.inferenceB1Ms.toFixed(3)} ms`;
    console.log(`infer b1: cpu ${cpu.inferenceB1Ms.toFixed(3)} ms${torchB1}`);
  }
}

await main();
