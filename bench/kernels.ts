// npm run bench:kernels [-- --backend cpu,ref] [--batch 1,64,256] [--filter conv2] [--min-ms 300]
//
// Emulated backends (cuda-emu: the CUDA kernels on the SIMT emulator) run only when named with
// --backend, at batch 1 unless --batch says otherwise; their times measure the emulator on this
// CPU, for correctness only (the error column is the point), and the output says so.
//
// For each kernel case of the seed CNN (test/conformance/seed-cnn-cases.ts, the model's own
// shapes at batch 1, 64 and 256) on each available backend: the median time of repeated runs,
// GFLOP/s or GB/s (whichever bounds the kernel: arithmetic intensity above the machine balance
// → compute-bound), the fraction of this machine's peak, and the max error against ref.
// The peaks are measured in the same run by the cpu addon: independent FMA chains on one and
// on all threads, and a streaming triad for memory bandwidth. ref (plain TypeScript) is skipped,
// as a timed backend and as the error oracle, for cases it would take more than ~1 s on.
// Prints a table and writes bench/results/kernels-<timestamp>.json.

import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backend } from '../src/nn/backend.ts';
import { RefBackend } from '../src/nn/backends/ref/index.ts';
import { backendNames, createBackend, emulatedBackends, probeBackend, type BackendName } from '../src/nn/backends/registry.ts';
import { gpuKernelTimer } from '../src/nn/backends/webgpu/timing.ts';
import { compareOutput, type HostData, type KernelCase } from '../test/conformance/case-kit.ts';
import { runCase } from '../test/conformance/run-case.ts';
import { seedCnnCases } from '../test/conformance/seed-cnn-cases.ts';
import { extraBenchCases } from './kernel-extra-cases.ts';
import { measureMachinePeaks, type MachinePeaks } from './machine-peaks.ts';
import { formatTable } from './table.ts';

interface Options {
  backends: BackendName[] | null;
  batches: number[];
  batchesGiven: boolean;
  filter: string | null;
  minMs: number;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { backends: null, batches: [1, 64, 256], batchesGiven: false, filter: null, minMs: 300 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--backend') {
      const names = value().split(',');
      for (const n of names) {
        if (!(backendNames as readonly string[]).includes(n)) throw new Error(`unknown backend ${n}; one of ${backendNames.join(', ')}`);
      }
      opts.backends = [...(opts.backends ?? []), ...(names as BackendName[])];
    } else if (arg === '--batch') {
      opts.batches = value().split(',').map(Number);
      opts.batchesGiven = true;
    }
    else if (arg === '--filter') opts.filter = value();
    else if (arg === '--min-ms') opts.minMs = Number(value());
    else if (arg === '--help') {
      console.log('usage: npm run bench:kernels -- [--backend cpu,ref] [--batch 1,64,256] [--filter text] [--min-ms 300]');
      process.exit(0);
    } else throw new Error(`unknown argument ${arg} (try --help)`);
  }
  return opts;
}

export interface KernelResult {
  backend: string;
  case: string;
  kernel: string;
  batch: number;
  medianMs: number;
  /** 'gpu': GPU timestamp queries (WebGPU with timestamp-query); 'wall': wall clock around flush(). */
  timer: 'wall' | 'gpu';
  /** Median process CPU time per run (all threads): on a shared machine, wall time includes
   *  waiting for a core; CPU time ÷ threads approximates the wall time of an idle machine. */
  cpuMs: number | null;
  runs: number;
  gflops: number;
  gbps: number;
  bound: 'compute' | 'memory';
  /** achieved / peak for the bound that applies (FMA peak on all threads, or triad bandwidth). */
  fractionOfPeak: number | null;
  maxError: number | null;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** Times one case: an untimed warm-up run, then runs until `minMs` has passed (at least 3, at most
 *  200). Synchronous backends are timed per run; flush() closes each run for asynchronous ones;
 *  WebGPU with timestamp queries is timed on the GPU. */
async function timeCase(backend: Backend, c: KernelCase, minMs: number): Promise<{ medianMs: number; cpuMs: number | null; runs: number; timer: 'wall' | 'gpu' }> {
  const inst = c.setup(backend);
  try {
    // Untimed warm-up: shader compilation (WebGPU), first touch of pooled memory, thread wake-up.
    inst.run();
    await backend.flush();
    const gpuTimer = gpuKernelTimer(backend);
    if (gpuTimer) {
      // GPU timestamps measure the dispatches alone, without the submit/readback round trip.
      const gpuTimes: number[] = [];
      const start = performance.now();
      while (gpuTimes.length < 50 && (gpuTimes.length < 3 || performance.now() - start < minMs)) gpuTimes.push(await gpuTimer(() => inst.run()));
      if (gpuTimes.every((t) => Number.isFinite(t))) return { medianMs: median(gpuTimes), cpuMs: null, runs: gpuTimes.length, timer: 'gpu' };
    }
    const times: number[] = [];
    const cpuTimes: number[] = [];
    const start = performance.now();
    while (times.length < 200 && (times.length < 3 || performance.now() - start < minMs)) {
      const u = process.cpuUsage();
      const t = performance.now();
      inst.run();
      await backend.flush();
      times.push(performance.now() - t);
      const used = process.cpuUsage(u);
      cpuTimes.push((used.user + used.system) / 1000);
    }
    return { medianMs: median(times), cpuMs: median(cpuTimes), runs: times.length, timer: 'wall' };
  } finally {
    inst.dispose();
  }
}

/** The error of a fresh single run (repeated runs of in-place cases, such as optimizer steps and
 *  accumulating kernels, drift from ref's single run by design). */
async function maxErrorAgainst(backend: Backend, c: KernelCase, refOut: Record<string, HostData>): Promise<number> {
  const got = await runCase(backend, c);
  let worst = 0;
  for (const [output, how] of Object.entries(c.outputs)) {
    const r = compareOutput(output, how, got[output]!, refOut[output]!);
    worst = Math.max(worst, r.error);
  }
  return worst;
}

/** Whether ref can run the case in about a second: its convolutions do ~20 MFLOP/s, the rest
 *  ~200 (measured on this machine). */
function refAffordable(c: KernelCase): boolean {
  return c.flops <= (c.kernel.startsWith('conv2d') ? 1e7 : 5e7);
}

function batchOf(name: string): number {
  const m = /\bb(\d+)\b/.exec(name);
  return m ? Number(m[1]) : 0;
}

function isEmulated(name: string): boolean {
  return (backendNames as readonly string[]).includes(name) && emulatedBackends[name as BackendName] !== undefined;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const wanted = opts.backends ?? backendNames.filter((n) => !emulatedBackends[n]);
  for (const name of backendNames) {
    if (emulatedBackends[name] && !wanted.includes(name)) console.log(`# ${name}: not run (an emulator, for correctness only: name it with --backend ${name})`);
  }
  const emulated = wanted.filter((n) => emulatedBackends[n]);
  if (emulated.length > 0) {
    console.log(`# ${emulated.join(', ')}: GPU kernels on the SIMT emulator (native/emu) on this CPU. Its times measure the EMULATOR, ` +
      'for correctness only (the error column against ref); they say nothing about a GPU.');
    if (!opts.batchesGiven) {
      opts.batches = [1];
      console.log('# batch 1 only for the emulator (pass --batch to choose)');
    }
  }
  const backends: Backend[] = [];
  for (const name of wanted) {
    const probe = await probeBackend(name);
    if (!probe.available) {
      console.log(`# ${name}: unavailable (${probe.reason})`);
      continue;
    }
    backends.push(await createBackend(name));
  }
  const peaks: MachinePeaks | null = await measureMachinePeaks();
  console.log(`# machine: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores`);
  if (peaks) {
    console.log(`# peak FMA ${peaks.fmaGflopsAllThreads.toFixed(1)} GFLOP/s on ${peaks.threads} threads ` +
      `(${peaks.fmaGflopsOneThread.toFixed(1)} on one, ${peaks.isa}), triad ${peaks.triadGBps.toFixed(1)} GB/s`);
  } else console.log('# peaks: not measured (the cpu addon is not built)');
  for (const b of backends) console.log(`# ${b.name}: ${b.device}`);

  const cases: KernelCase[] = [];
  for (const batch of opts.batches) cases.push(...seedCnnCases(batch), ...extraBenchCases(batch));
  const selected = cases.filter((c) => !opts.filter || c.name.includes(opts.filter));
  const ref = new RefBackend();
  const results: KernelResult[] = [];
  const balance = peaks ? peaks.fmaGflopsAllThreads / peaks.triadGBps : 10;  // flops per byte
  for (const c of selected) {
    // ref is the oracle but plain TypeScript: a batch-256 conv2 takes it minutes. Above its budget
    // it is neither timed nor run, and the error column says '-' (the same kernel and shapes at
    // batch 1, and the whole conformance table, are checked against it).
    const refOut = refAffordable(c) ? await runCase(ref, c) : null;
    for (const backend of backends) {
      if (backend.name === 'ref' && !refOut) continue;
      const { medianMs, cpuMs, runs, timer } = await timeCase(backend, c, opts.minMs);
      const maxError = backend.name === 'ref' ? 0 : refOut ? await maxErrorAgainst(backend, c, refOut) : null;
      const gflops = c.flops / medianMs / 1e6;
      const gbps = c.bytes / medianMs / 1e6;
      const bound = c.flops / Math.max(c.bytes, 1) > balance ? 'compute' : 'memory';
      // The peaks are this CPU's: a GPU backend's fraction of them would mean nothing.
      const onCpu = backend.name === 'cpu' || backend.name === 'ref';
      const fractionOfPeak = peaks && onCpu ? (bound === 'compute' ? gflops / peaks.fmaGflopsAllThreads : gbps / peaks.triadGBps) : null;
      const r: KernelResult = { backend: backend.name, case: c.name, kernel: c.kernel, batch: batchOf(c.name), medianMs, timer, cpuMs, runs, gflops, gbps, bound, fractionOfPeak, maxError };
      results.push(r);
      console.log(formatTable([r], results.length === 1));
    }
  }
  ref.dispose();
  for (const b of backends) b.dispose();

  const here = dirname(fileURLToPath(import.meta.url));
  const dir = join(here, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `kernels-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), machine: { cpu: cpus()[0]?.model, cores: cpus().length }, peaks,
    backends: backends.map((b) => ({ name: b.name, device: b.device, ...(isEmulated(b.name) ? { note: 'emulator: times measure the emulator, for correctness only' } : {}) })),
    results }, null, 2));
  console.log(`# wrote ${file}`);
}

await main();
