// Seed CNN training throughput on cuda (Adam, synthetic batch, samples/s = median of timed blocks
// after a warm-up), eager and with the whole step captured once as a CUDA graph and replayed.
// Prints one JSON line: { device, gemm, train: { "<batch>": { eager, graph } } }.
//   node --import tsx bench/cuda/train.ts [--batches 128,512] [--blocks 7] [--steps 20] [--gemm simt|tf32]
//
// Graph protocol (native/cuda/README.md): a few eager steps first (so Adam's m and v exist and are
// zeroed outside the graph), the input and labels in fixed buffers, then beginCapture(), one
// ordinary step, endCapture() (which runs it), and replay() per further step.
import { defineFlags, parseFlags } from '../../src/cli/args.ts';
import { Adam, Tensor, classifierStep, createSeedCnn, type Backend } from '../../src/nn/index.ts';
import { createCudaBackend, isGraphCapable } from '../../src/nn/backends/cuda/index.ts';

const { flags: args } = parseFlags('cuda train', process.argv.slice(2), defineFlags({
  batches: { type: 'string', metavar: 'N,N', default: '128,512', help: 'batch sizes' },
  blocks: { type: 'int', min: 1, default: 7, help: 'timed blocks (the median is reported)' },
  steps: { type: 'int', min: 1, default: 20, help: 'steps per block' },
  gemm: { type: 'enum', values: ['simt', 'tf32'], help: 'the GEMM variant' },
}), 'the header of bench/cuda/train.ts');
const blocks = args.blocks;
const steps = args.steps;
const backend = await createCudaBackend(args.gemm ? { gemm: args.gemm } : {});
if (!isGraphCapable(backend)) throw new Error('the cuda backend should offer graph capture');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

function batchData(b: Backend, batch: number): { x: Tensor; y: Tensor } {
  let s = 7;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  return {
    x: Tensor.fromArray(b, new Float32Array(batch * 784).map(() => rand() * 2 - 0.5), [batch, 1, 28, 28]),
    y: Tensor.fromArray(b, new Int32Array(batch).map(() => Math.floor(rand() * 10)), [batch], { dtype: 'i32' }),
  };
}

async function rate(batch: number, run: () => void): Promise<number> {
  const rates: number[] = [];
  for (let b = 0; b < blocks; b++) {
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) run();
    await backend.flush();
    rates.push((batch * steps * 1000) / (performance.now() - t0));
  }
  return median(rates);
}

const train: Record<string, { eager: number; graph: number; lossEager: number; lossGraph: number }> = {};
for (const batch of args.batches.split(',').map(Number)) {
  const model = createSeedCnn(backend, { seed: 1 });
  model.train();
  const opt = new Adam(model.parameters(), { lr: 1e-3 });
  const { x, y } = batchData(backend, batch);
  let loss: Tensor | null = null;
  const step = () => {
    loss?.dispose();
    loss = classifierStep(model, opt, x, y);
  };
  for (let i = 0; i < 3; i++) step();
  await backend.flush();
  const eager = await rate(batch, step);
  const lossEager = (await loss!.toArray())[0];
  backend.beginCapture();
  try {
    step();
  } catch (err) {
    backend.abortCapture();
    throw err;
  }
  backend.endCapture();
  await backend.flush();
  const graph = await rate(batch, () => backend.replay());
  const lossGraph = (await loss!.toArray())[0];
  backend.releaseGraph();
  train[batch] = { eager, graph, lossEager, lossGraph };
  console.error(`cuda train b${batch}: eager ${eager.toFixed(0)} samples/s, graph ${graph.toFixed(0)} samples/s (loss ${lossEager.toFixed(4)} → ${lossGraph.toFixed(4)})`);
  loss!.dispose();
  x.dispose();
  y.dispose();
  model.dispose();
}
console.log(JSON.stringify({ device: backend.device, train }));
backend.dispose();
