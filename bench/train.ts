// npm run bench:train [-- --batches 128,64 --rounds 3 --warmup 20 --steps 200 --pytorch-config auto ...]
//
// Seed-CNN training throughput (Adam) of inkling against PyTorch, and inference against ONNX
// Runtime, measured so that a skeptic can accept the ratio:
// - the same data on both sides: real MNIST training images, each rotated (±15°), a different
//   batch every step (train-data.ts writes them once; both sides read the same files);
// - both sides warm: every round starts with --warmup untimed steps (≥ 20), then --steps timed
//   steps (≥ 200);
// - rounds interleaved (inkling, PyTorch, inkling, PyTorch, …, --rounds ≥ 3 each), each side's
//   median and range printed, and the ratio of the medians;
// - PyTorch in its best configuration here, found per batch size by trying the BLAS libraries
//   installed and the knobs (pytorch-peer.ts) unless --pytorch-config pins one; the trials, the
//   winner and the BLAS it loaded are printed (with a warning when that is the reference BLAS);
// - the machine's peak FMA rate measured with the widest ISA the cpu backend runs here, and the
//   whole step's effective GFLOP/s (seed-cnn-flops.ts) as a fraction of it;
// - inference of the shipped model (models/seed-cnn): batch-1 latency (forward + readback of the
//   logits) and batch-256 throughput against ONNX Runtime (ort-peer.ts) in its best configuration
//   (execution mode and intra-op threads tried per batch size); per round each side is warmed up
//   (as many untimed calls as it times, and at least 250 ms of them), then the two sides' timed
//   calls run in alternating blocks (timeInterleaved).
// The last lines keep one form:
//   train b128: cpu X samples/s, pytorch Y samples/s, Z.ZZx      (X, Y medians)
//   infer b1: cpu X ms, ort Y ms
//   infer b256: cpu X img/s, ort Y img/s
// Results also go to bench/results/train-<time>.json.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineFlags, parseFlags } from '../src/cli/args.ts';
import {
  Adam, F, Tensor, createBackend, createSeedCnn, noGrad, probeBackend, tidy, type Backend, type BackendName,
} from '../src/nn/index.ts';
import { loadModuleWeights } from '../src/nn/safetensors.ts';
import { allocBatch, Batcher } from '../training/data/batcher.ts';
import { loadMnist } from '../training/data/mnist.ts';
import { measureMachinePeaks } from './machine-peaks.ts';
import { describeOrtConfig, exportOnnx, openOrt, type OrtConfig, type OrtPeer } from './ort-peer.ts';
import {
  describeConfig, parseConfig, pytorchUnavailable, referenceBlas, REFERENCE_BLAS_WARNING, searchBestConfig, TorchWorker, type ConfigTrial, type TorchConfig,
} from './pytorch-peer.ts';
import { SEED_CNN_TRAIN_FLOPS } from './seed-cnn-flops.ts';
import { formatSummary, median, summarize, type Summary } from './stats.ts';
import { writeBatchFiles, type BatchFiles } from './train-data.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const WEIGHTS = join(root, 'models', 'seed-cnn', 'model.safetensors');

const { flags: args } = parseFlags('bench:train', process.argv.slice(2), defineFlags({
  backend: { type: 'string', default: 'cpu', help: 'inkling backends to time' },
  batches: { type: 'string', default: '128,64', help: 'training batch sizes' },
  rounds: { type: 'int', min: 1, default: 3, help: 'interleaved rounds per side' },
  warmup: { type: 'int', min: 0, default: 20, help: 'untimed steps per round' },
  steps: { type: 'int', min: 1, default: 200, help: 'timed steps per round' },
  threads: { type: 'int', min: 1, help: 'inkling cpu threads' },
  'pytorch-config': { type: 'string', default: 'auto', help: "PyTorch's configuration: auto, or blas=openblas-pthread,threads=2,openblas=1,flush=0,cl=0" },
  'trial-steps': { type: 'int', min: 1, default: 40, help: "the search's steps per configuration" },
  'trial-rounds': { type: 'int', min: 1, default: 2, help: "the search's rounds per configuration" },
  'infer-rounds': { type: 'int', min: 1, default: 3, help: 'inference rounds' },
  'infer-b1-runs': { type: 'int', min: 1, default: 300, help: 'batch-1 inference runs per round' },
  'infer-b256-runs': { type: 'int', min: 1, default: 15, help: 'batch-256 inference runs per round' },
  'no-pytorch': { type: 'boolean', default: false, help: 'skip PyTorch' },
  'no-ort': { type: 'boolean', default: false, help: 'skip ONNX Runtime' },
  'no-train': { type: 'boolean', default: false, help: 'skip training' },
  'no-infer': { type: 'boolean', default: false, help: 'skip inference' },
  help: { type: 'boolean', default: false, help: 'show this help' },
}), 'npm run bench:train -- --help');

if (args.help) {
  console.log(`usage: npm run bench:train -- [options]
  --backend cpu[,webgpu]     inkling backends to time (default cpu)
  --batches 128,64           training batch sizes
  --rounds 3                 interleaved rounds per side (the issue's method needs >= 3)
  --warmup 20 --steps 200    untimed and timed steps per round (>= 20 and >= 200 for a reportable figure)
  --threads N                inkling cpu threads (default: one per core)
  --pytorch-config auto      search PyTorch's best configuration, or pin one: blas=openblas-pthread,threads=2,openblas=1,flush=1,cl=1
  --trial-steps 40 --trial-rounds 2   the search's rounds per configuration
  --infer-rounds 3 --infer-b1-runs 300 --infer-b256-runs 15
  --no-pytorch --no-ort --no-train --no-infer`);
  process.exit(0);
}

const batches = args.batches.split(',').map(Number);
if (batches.some((b) => !Number.isInteger(b) || b < 2)) throw new Error(`--batches must be integers >= 2, got ${args.batches}`);
const rounds = args.rounds;
const warmup = args.warmup;
const steps = args.steps;
const inferRounds = args['infer-rounds'];
const b1Runs = args['infer-b1-runs'];
const b256Runs = args['infer-b256-runs'];
const reportable = rounds >= 3 && warmup >= 20 && steps >= 200;

const log = (line: string): void => console.log(line);

// ---- inkling training ----

interface TrainState {
  backend: Backend;
  step: () => void;
  next: number;
  dispose: () => void;
}

function trainState(backend: Backend, data: BatchFiles, batch: number): TrainState {
  const model = createSeedCnn(backend, { seed: 1 });
  model.train();
  const opt = new Adam(model.parameters(), { lr: 1e-3 });
  const count = data.counts[batch]!;
  const xs: Tensor[] = [];
  const ys: Tensor[] = [];
  for (let i = 0; i < count; i++) {
    xs.push(Tensor.fromArray(backend, data.images[batch]!.subarray(i * batch * 784, (i + 1) * batch * 784), [batch, 1, 28, 28]));
    ys.push(Tensor.fromArray(backend, data.labels[batch]!.subarray(i * batch, (i + 1) * batch), [batch], { dtype: 'i32' }));
  }
  const state: TrainState = {
    backend,
    next: 0,
    step: () => {
      const i = state.next++ % count;
      tidy(() => {
        opt.zeroGrad();
        F.softmaxCrossEntropy(model.forward(xs[i]!), ys[i]!).backward();
        opt.step();
      });
    },
    dispose: () => {
      for (const t of [...xs, ...ys]) t.dispose();
      model.dispose();
    },
  };
  return state;
}

async function inklingRound(s: TrainState, batch: number): Promise<number> {
  for (let i = 0; i < warmup; i++) s.step();
  await s.backend.flush();
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) s.step();
  await s.backend.flush();
  return (batch * steps * 1000) / (performance.now() - t0);
}

// ---- inference ----

function testImages(count: number): Float32Array {
  const { test } = loadMnist();
  const batcher = new Batcher(test, { batchSize: count, shuffle: false, seed: 1, dropLast: true });
  batcher.startEpoch(0);
  const buf = allocBatch(count);
  batcher.fill(0, buf);
  return buf.images.slice(0, count * 784);
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Untimed calls of `once`: at least `runs` and at least 250 ms of them (with 20, and later 200,
 *  inkling's first batch-1 round still ran colder JavaScript than rounds 2-3: 0.28-0.33 against
 *  0.21-0.24 ms on Zen 1, 0.117-0.140 against 0.082-0.101 ms on Zen 4, while ORT's path is native). */
async function warmUp(once: () => Promise<unknown>, runs: number): Promise<void> {
  const start = performance.now();
  for (let i = 0; i < runs || performance.now() - start < 250; i++) await once();
}

/** One round of inference timing for every side: each warmed up (warmUp), then `runs` timed calls
 *  per side in `blocks` blocks, the sides' blocks alternating (A, B, A, B, …) so that the host's
 *  swings (±50% over seconds on the 2026-12-02 Zen 4 host, in a process running alone) reach both
 *  alike; per side, the median ms per call. Each block starts after a 100 ms pause: the other
 *  side's idle worker threads (ONNX Runtime's intra-op pool spins after a run, inkling's pool
 *  ~60 µs) must not share the cores with the side being timed (with 20 ms, inkling's batch-256
 *  blocks right after ORT's ran at 15.6-16.9k img/s, with 150 ms at 18.8-21.2k). */
async function timeInterleaved(sides: (() => Promise<unknown>)[], runs: number, blocks: number): Promise<number[]> {
  for (const once of sides) {
    await pause(100);
    await warmUp(once, runs);
  }
  const perBlock = Math.max(1, Math.ceil(runs / blocks));
  const times: number[][] = sides.map(() => []);
  for (let b = 0; b * perBlock < runs; b++) {
    for (let k = 0; k < sides.length; k++) {
      await pause(100);
      for (let i = 0; i < Math.min(perBlock, runs - b * perBlock); i++) {
        const t0 = performance.now();
        await sides[k]!();
        times[k]!.push(performance.now() - t0);
      }
    }
  }
  return times.map((t) => median(t));
}

interface InferenceSide {
  b1: Summary;
  b256: Summary;
}

async function main(): Promise<void> {
  const load = loadavg().map((v) => v.toFixed(2)).join(' ');
  log(`# machine: ${cpus()[0]?.model?.trim() ?? 'unknown CPU'}, ${cpus().length} cores, load average ${load}`);
  const peaks = await measureMachinePeaks();
  if (peaks) {
    log(`# peak: ${peaks.fmaGflopsAllThreads.toFixed(1)} GFLOP/s fp32 FMA with ${peaks.isa} (the widest ISA the cpu backend runs here) on ${peaks.threads} threads ` +
      `(${peaks.fmaGflopsOneThread.toFixed(1)} on one), triad ${peaks.triadGBps.toFixed(1)} GB/s`);
  } else log('# peak: not measured (the cpu addon is not built)');
  if (!reportable) log(`# NOTE: --rounds ${rounds} --warmup ${warmup} --steps ${steps} is below the method's minimum (3 rounds, 20 warm-up, 200 timed steps): figures for a quick look only`);

  const backends: { name: BackendName; backend: Backend }[] = [];
  for (const name of args.backend.split(',') as BackendName[]) {
    const probe = await probeBackend(name);
    if (!probe.available) {
      log(`# ${name}: unavailable (${probe.reason})`);
      continue;
    }
    const backend = await createBackend(name, args.threads !== undefined ? { threads: args.threads } : undefined);
    backends.push({ name, backend });
    log(`# inkling ${name}: ${backend.device}`);
  }

  const tmp = mkdtempSync(join(tmpdir(), 'inkling-bench-train-'));
  const results: Record<string, unknown> = { date: new Date().toISOString(), cpu: cpus()[0]?.model, cores: cpus().length, loadavg: loadavg(), peaks, rounds, warmup, steps };
  try {
    const train: Record<number, Record<string, Summary>> = {};
    // PyTorch's configuration per batch size: the fastest at 128 was not the fastest at 64 (one
    // run: OpenBLAS with OPENBLAS_NUM_THREADS=1 gave 3,619 samples/s at b64, BLIS chosen at b128
    // gave 2,068-2,128 there).
    const torchInfo: Record<number, { version: string; config: TorchConfig; blas: string; trials: ConfigTrial[] }> = {};
    if (!args['no-train']) {
      const data = writeBatchFiles(join(tmp, 'batches'), batches, steps);
      log(`# data: ${batches.map((b) => `${data.counts[b]} distinct batches of ${b}`).join(', ')}: MNIST training images, each rotated by a random angle within ±15° (seed 1); the same files feed PyTorch`);

      const unavailable = args['no-pytorch'] ? 'skipped (--no-pytorch)' : pytorchUnavailable();
      if (unavailable) log(`# pytorch: ${unavailable}`);
      for (const batch of batches) {
        let worker: TorchWorker | null = null;
        if (!unavailable) {
          let config: TorchConfig;
          let trials: ConfigTrial[] = [];
          if (args['pytorch-config'] === 'auto') {
            log(`# pytorch: searching its best configuration at b${batch} (${args['trial-rounds']} rounds of ${args['trial-steps']} steps per configuration)`);
            const search = await searchBestConfig(data, batch, warmup, args['trial-steps'], args['trial-rounds'], log);
            config = search.best.config;
            trials = search.trials;
          } else config = parseConfig(args['pytorch-config']);
          worker = new TorchWorker(config, data);
          await worker.ready();
          torchInfo[batch] = { version: worker.torchVersion, config, blas: worker.blasLoaded, trials };
          log(`# pytorch ${worker.torchVersion} b${batch}: ${describeConfig(config)} (${worker.threads} threads)${args['pytorch-config'] === 'auto' ? ', the fastest of the trials above' : ', pinned by --pytorch-config'}; BLAS loaded: ${worker.blasLoaded}`);
          if (referenceBlas(worker.blasLoaded)) log(`# WARNING: ${REFERENCE_BLAS_WARNING}`);
        }
        const states = backends.map(({ name, backend }) => ({ name, state: trainState(backend, data, batch), rates: [] as number[] }));
        const torchRates: number[] = [];
        for (let r = 0; r < rounds; r++) {
          const parts: string[] = [];
          for (const s of states) {
            const rate = await inklingRound(s.state, batch);
            s.rates.push(rate);
            parts.push(`${s.name} ${rate.toFixed(0)}`);
          }
          if (worker) {
            const rate = await worker.round(batch, warmup, steps);
            torchRates.push(rate);
            parts.push(`pytorch ${rate.toFixed(0)}`);
          }
          log(`round ${r + 1} b${batch}: ${parts.join(', ')} samples/s`);
        }
        train[batch] = {};
        for (const s of states) {
          train[batch]![s.name] = summarize(s.rates);
          s.state.dispose();
        }
        if (worker) train[batch]!.pytorch = summarize(torchRates);
        worker?.close();
      }
    }
    results.train = train;
    results.pytorch = torchInfo;

    // ---- inference against ONNX Runtime ----
    let inference: { cpu: InferenceSide | null; ort: InferenceSide | null; ortConfig: Record<string, OrtConfig> | null; maxAbsLogitDiff: number | null } | null = null;
    const cpuEntry = backends.find((b) => b.name === 'cpu');
    if (!args['no-infer'] && cpuEntry) {
      const be = cpuEntry.backend;
      const model = createSeedCnn(be, { seed: 1 });
      await loadModuleWeights(model, WEIGHTS);
      model.eval();
      const images = testImages(256);
      const x1 = Tensor.fromArray(be, images.subarray(0, 784), [1, 1, 28, 28]);
      const x256 = Tensor.fromArray(be, images, [256, 1, 28, 28]);
      const inkling = async (x: Tensor): Promise<Float32Array> => {
        const logits = noGrad(() => model.forward(x));
        const out = (await logits.toArray()) as Float32Array;
        logits.dispose();
        return out;
      };
      let ort: OrtPeer | null = null;
      const ortConfig: Record<string, OrtConfig> = {};
      let maxAbsLogitDiff: number | null = null;
      const sizes = [['b1', 1, b1Runs], ['b256', 256, b256Runs]] as const;
      if (!args['no-ort']) {
        const onnx = join(tmp, 'seed-cnn.onnx');
        const failed = pytorchUnavailable() ?? exportOnnx(WEIGHTS, onnx);
        const opened = failed ?? (await openOrt(onnx, { mode: 'sequential', threads: 2 }));
        if (typeof opened === 'string') log(`# ort: unavailable (${opened})`);
        else {
          ort = opened;
          // Same images, same weights: the two must agree before their speeds mean anything.
          const a = await inkling(x256);
          const b = await ort.run(images, 256);
          maxAbsLogitDiff = Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i]!)));
          log(`# ort ${ort.version}: CPU execution provider, graph optimisation 'all'; logits agree with inkling's to ${maxAbsLogitDiff.toExponential(1)} (256 test images)`);
          // Its best configuration per batch size: both execution modes, 1 and 2 intra-op threads.
          for (const [label, n, runs] of sizes) {
            const trials: { config: OrtConfig; ms: number }[] = [];
            for (const mode of ['sequential', 'parallel'] as const) {
              for (const threads of [1, 2]) {
                await ort.configure({ mode, threads });
                const [ms] = await timeInterleaved([() => ort!.run(images.subarray(0, n * 784), n)], Math.min(runs, label === 'b1' ? 100 : 5), 1);
                trials.push({ config: { mode, threads }, ms: ms! });
              }
            }
            const best = trials.reduce((p, q) => (q.ms < p.ms ? q : p));
            ortConfig[label] = best.config;
            log(`# ort ${label}: ${trials.map((t) => `${describeOrtConfig(t.config)} ${t.ms.toFixed(3)} ms`).join('; ')} -> ${describeOrtConfig(best.config)}`);
          }
        }
      }
      const cpuB1: number[] = [];
      const cpuB256: number[] = [];
      const ortB1: number[] = [];
      const ortB256: number[] = [];
      for (let r = 0; r < inferRounds; r++) {
        for (const [label, n, runs] of sizes) {
          const x = n === 1 ? x1 : x256;
          const sides: (() => Promise<unknown>)[] = [() => inkling(x)];
          if (ort) {
            await ort.configure(ortConfig[label]!);
            sides.push(() => ort!.run(images.subarray(0, n * 784), n));
          }
          const [cpuMs, ortMs] = await timeInterleaved(sides, runs, n === 1 ? 10 : 5);
          if (n === 1) {
            cpuB1.push(cpuMs!);
            if (ortMs !== undefined) ortB1.push(ortMs);
          } else {
            cpuB256.push((1000 * n) / cpuMs!);
            if (ortMs !== undefined) ortB256.push((1000 * n) / ortMs);
          }
        }
        log(`round ${r + 1} infer: cpu b1 ${cpuB1[r]!.toFixed(3)} ms, b256 ${cpuB256[r]!.toFixed(0)} img/s` +
          (ort ? `; ort b1 ${ortB1[r]!.toFixed(3)} ms, b256 ${ortB256[r]!.toFixed(0)} img/s` : ''));
      }
      inference = {
        cpu: { b1: summarize(cpuB1), b256: summarize(cpuB256) },
        ort: ort ? { b1: summarize(ortB1), b256: summarize(ortB256) } : null,
        ortConfig: ort ? ortConfig : null,
        maxAbsLogitDiff,
      };
      await ort?.close();
      x1.dispose();
      x256.dispose();
      model.dispose();
    }
    results.inference = inference;

    // ---- summary ----
    log('');
    for (const batch of Object.keys(train).map(Number)) {
      for (const [name, s] of Object.entries(train[batch]!)) {
        const gflops = (s.median * SEED_CNN_TRAIN_FLOPS) / 1e9;
        const ofPeak = peaks ? ` = ${((100 * gflops) / peaks.fmaGflopsAllThreads).toFixed(1)}% of the ${peaks.isa} peak` : '';
        log(`b${batch} ${name}: median ${formatSummary(s)} samples/s over ${s.values.length} rounds; whole step ${gflops.toFixed(1)} GFLOP/s effective${ofPeak}`);
      }
    }
    if (inference?.cpu) {
      log(`infer cpu: b1 ${formatSummary(inference.cpu.b1, 3)} ms, b256 ${formatSummary(inference.cpu.b256)} img/s`);
      if (inference.ort) log(`infer ort: b1 ${formatSummary(inference.ort.b1, 3)} ms, b256 ${formatSummary(inference.ort.b256)} img/s`);
    }

    mkdirSync(join(root, 'bench', 'results'), { recursive: true });
    const file = join(root, 'bench', 'results', `train-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, JSON.stringify(results, null, 2));
    log(`results: ${file}`);
    if (Object.values(torchInfo).some((t) => referenceBlas(t.blas))) log(`WARNING: the ratios below are against a PyTorch on the reference BLAS: ${REFERENCE_BLAS_WARNING}`);
    log('');
    for (const batch of Object.keys(train).map(Number)) {
      const t = train[batch]!;
      const parts = backends.filter((b) => t[b.name]).map((b) => `${b.name} ${t[b.name]!.median.toFixed(0)} samples/s`);
      if (t.pytorch) {
        const best = Math.max(...backends.filter((b) => t[b.name]).map((b) => t[b.name]!.median));
        parts.push(`pytorch ${t.pytorch.median.toFixed(0)} samples/s, ${(best / t.pytorch.median).toFixed(2)}x`);
      }
      log(`train b${batch}: ${parts.join(', ')}`);
    }
    if (inference?.cpu) {
      const ort = inference.ort;
      log(`infer b1: cpu ${inference.cpu.b1.median.toFixed(3)} ms${ort ? `, ort ${ort.b1.median.toFixed(3)} ms` : ''}`);
      log(`infer b256: cpu ${inference.cpu.b256.median.toFixed(0)} img/s${ort ? `, ort ${ort.b256.median.toFixed(0)} img/s` : ''}`);
    }
  } finally {
    for (const { backend } of backends) backend.dispose();
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
