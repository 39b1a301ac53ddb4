// PyTorch (Debian's python3-torch, /usr/bin/python3) as bench:train's training peer: a worker
// process per configuration (bench/pytorch/seed_cnn_cpu.py) that trains the seed CNN on the same
// batch files as inkling, one round per request, so rounds can be interleaved with inkling's.
//
// Its best configuration here is found, not assumed. First the BLAS behind its linear layers:
// Debian's python3-torch calls whatever libblas.so.3 the dynamic loader finds, and with only its
// dependency installed that is the reference (netlib) BLAS, which made fc1 ~70% of a PyTorch
// step (2026-12-02, Zen 4: 858 samples/s at b128 against ~2,700 with OpenBLAS). Every BLAS
// installed as a Debian alternative (openblas-pthread, openblas-openmp, blis-*, the reference
// one) is tried, chosen per worker with LD_PRELOAD, with OPENBLAS_NUM_THREADS=1 and without.
// Then, on the winner, the four knobs the issue names (OPENBLAS_NUM_THREADS=1,
// torch.set_num_threads(2), torch.set_flush_denormal(True), channels_last) one at a time
// against a baseline, then together; the fastest (median of short trial rounds) runs the timed
// rounds. The worker reports the library it really loaded, and bench:train prints it.

import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { BatchFiles } from './train-data.ts';
import { median } from './stats.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const PYTHON = '/usr/bin/python3';

export interface TorchConfig {
  /** torch.set_num_threads(n); null = PyTorch's default. */
  threads: number | null;
  /** OPENBLAS_NUM_THREADS=1 in the worker's environment. */
  openblas1: boolean;
  flushDenormal: boolean;
  channelsLast: boolean;
  /** A Debian BLAS alternative's folder (blasAlternatives()), preloaded (LD_PRELOAD);
   *  null = the system's libblas.so.3, whichever alternative it points to. */
  blas: string | null;
}

export const BASELINE: TorchConfig = { threads: null, openblas1: false, flushDenormal: false, channelsLast: false, blas: null };

/** The BLAS libraries installed as Debian alternatives of libblas.so.3: name (the folder under
 *  /usr/lib/<multiarch>/, e.g. openblas-pthread, blis-openmp, blas = the reference BLAS) -> that
 *  folder. */
export function blasAlternatives(): Map<string, string> {
  const found = new Map<string, string>();
  const lib = '/usr/lib';
  if (!existsSync(lib)) return found;
  for (const arch of readdirSync(lib).filter((d) => d.endsWith('-linux-gnu')).sort()) {
    let dirs: string[];
    try {
      dirs = readdirSync(join(lib, arch));
    } catch {
      continue;
    }
    for (const name of dirs.sort()) {
      if (!found.has(name) && existsSync(join(lib, arch, name, 'libblas.so.3'))) found.set(name, join(lib, arch, name));
    }
  }
  return found;
}

/** Whether the worker's loaded BLAS (TorchWorker.blasLoaded) is Debian's reference BLAS. */
export function referenceBlas(loaded: string): boolean {
  return /\/blas\/libblas\.so/.test(loaded);
}

export const REFERENCE_BLAS_WARNING = 'PyTorch\'s libblas.so.3 is the reference (netlib) BLAS, ' +
  'its linear layers several times slower than with an optimised one: not PyTorch at its best. ' +
  'Fix: apt-get install libopenblas0-pthread (the search then picks it).';

export function describeConfig(c: TorchConfig): string {
  const parts = [c.blas === null ? 'system BLAS' : `BLAS ${c.blas}`, c.threads === null ? 'default threads' : `set_num_threads(${c.threads})`];
  if (c.openblas1) parts.push('OPENBLAS_NUM_THREADS=1');
  if (c.flushDenormal) parts.push('flush_denormal');
  if (c.channelsLast) parts.push('channels_last');
  return parts.join(' + ');
}

/** "blas=openblas-pthread,threads=2,openblas=1,flush=1,cl=0" (any subset; the rest from BASELINE). */
export function parseConfig(text: string): TorchConfig {
  const c = { ...BASELINE };
  for (const part of text.split(',').filter(Boolean)) {
    const [key, value] = part.split('=');
    const on = value === '1' || value === 'true';
    if (key === 'threads') c.threads = value === 'default' ? null : Number(value);
    else if (key === 'openblas') c.openblas1 = on;
    else if (key === 'flush') c.flushDenormal = on;
    else if (key === 'cl') c.channelsLast = on;
    else if (key === 'blas') c.blas = value === 'system' ? null : value ?? '';
    else throw new Error(`--pytorch-config: unknown knob '${key}' (blas=NAME|system, threads=N|default, openblas=0|1, flush=0|1, cl=0|1)`);
  }
  if (c.blas !== null && !blasAlternatives().has(c.blas)) {
    const names = [...blasAlternatives().keys()].join(', ') || 'none';
    throw new Error(`--pytorch-config: no BLAS '${c.blas}' installed here (installed: ${names}; e.g. apt-get install libopenblas0-pthread)`);
  }
  if (c.threads !== null && !(Number.isInteger(c.threads) && c.threads > 0)) throw new Error('--pytorch-config: threads must be a positive integer or default');
  return c;
}

/** null when PyTorch can run here, else why not. */
export function pytorchUnavailable(): string | null {
  const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  return probe.status === 0 ? null : `${PYTHON} cannot import torch (apt-get install python3-torch)`;
}

export class TorchWorker {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: Interface;
  private readonly queue: string[] = [];
  private waiting: { resolve: (line: string) => void; reject: (err: Error) => void } | null = null;
  private exit: Error | null = null;
  private stderr = '';
  torchVersion = '';
  threads = 0;
  /** The BLAS library the worker loaded (its path, and OpenBLAS's kernel set where it says). */
  blasLoaded = '';

  constructor(readonly config: TorchConfig, data: BatchFiles) {
    const env = { ...process.env };
    if (config.openblas1) env.OPENBLAS_NUM_THREADS = '1';
    else delete env.OPENBLAS_NUM_THREADS;
    if (config.blas !== null) {
      // Preloaded, so that its sgemm_ is the one found first even when another BLAS comes in too
      // (Debian's liblapack.so.3 alternative may pull in OpenBLAS behind a BLIS libblas); its
      // folder first on the library path, so that what it loads (libblis.so.4, and OpenBLAS's
      // own liblapack.so.3) is the same variant, not the system alternative's.
      const dir = blasAlternatives().get(config.blas);
      if (!dir) throw new Error(`no BLAS '${config.blas}' installed here`);
      const lib = join(dir, 'libblas.so.3');
      env.LD_PRELOAD = env.LD_PRELOAD ? `${lib}:${env.LD_PRELOAD}` : lib;
      env.LD_LIBRARY_PATH = env.LD_LIBRARY_PATH ? `${dir}:${env.LD_LIBRARY_PATH}` : dir;
    }
    const args = JSON.stringify({
      data: data.prefix, batches: data.counts, threads: config.threads, flushDenormal: config.flushDenormal, channelsLast: config.channelsLast,
    });
    this.child = spawn(PYTHON, [join(root, 'bench', 'pytorch', 'seed_cnn_cpu.py'), args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (d: Buffer) => { this.stderr = (this.stderr + d.toString()).slice(-4000); });
    this.lines = createInterface({ input: this.child.stdout });
    this.lines.on('line', (line) => {
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = null;
        w.resolve(line);
      } else this.queue.push(line);
    });
    this.child.on('exit', (code) => {
      this.exit = new Error(`the PyTorch worker exited (code ${code}): ${this.stderr.trim().split('\n').pop() ?? ''}`);
      this.waiting?.reject(this.exit);
      this.waiting = null;
    });
  }

  private next(): Promise<string> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.exit) return Promise.reject(this.exit);
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  async ready(): Promise<void> {
    const hello = JSON.parse(await this.next()) as { torch: string; threads: number; blas: string };
    this.torchVersion = hello.torch;
    this.threads = hello.threads;
    this.blasLoaded = hello.blas;
  }

  /** One round: `warmup` untimed steps, then `steps` timed; samples/s. */
  async round(batch: number, warmup: number, steps: number): Promise<number> {
    this.child.stdin.write(`${JSON.stringify({ cmd: 'round', batch, warmup, steps })}\n`);
    const r = JSON.parse(await this.next()) as { samplesPerSec: number };
    return r.samplesPerSec;
  }

  close(): void {
    this.child.stdin.end(`${JSON.stringify({ cmd: 'quit' })}\n`);
    this.lines.close();
  }
}

export interface ConfigTrial {
  config: TorchConfig;
  samplesPerSec: number[];
  median: number;
}

/** Tries the BLAS libraries, then the knobs (see the top), on short rounds at `batch`; returns
 *  every trial and the winner. */
export async function searchBestConfig(
  data: BatchFiles, batch: number, warmup: number, steps: number, rounds: number, log: (line: string) => void,
): Promise<{ trials: ConfigTrial[]; best: ConfigTrial }> {
  const trials: ConfigTrial[] = [];
  const trial = async (config: TorchConfig): Promise<ConfigTrial> => {
    const again = trials.find((t) => describeConfig(t.config) === describeConfig(config));
    if (again) return again;
    const w = new TorchWorker(config, data);
    try {
      await w.ready();
      const rates: number[] = [];
      for (let r = 0; r < rounds; r++) rates.push(await w.round(batch, r === 0 ? warmup : 5, steps));
      const t: ConfigTrial = { config, samplesPerSec: rates, median: median(rates) };
      trials.push(t);
      log(`  pytorch trial b${batch}: ${describeConfig(config).padEnd(100)} ${t.median.toFixed(0).padStart(6)} samples/s (${rates.map((v) => v.toFixed(0)).join(', ')})`);
      return t;
    } finally {
      w.close();
    }
  };
  // The BLAS first, each with the other knobs on (they helped everywhere so far) and its own
  // threads both ways: OpenBLAS's pthreads fight PyTorch's OpenMP threads for the two cores.
  const allKnobs = { threads: 2, flushDenormal: true, channelsLast: true };
  let blas: string | null = null;
  const names = [...blasAlternatives().keys()];
  if (names.length > 0) {
    let fastest = -1;
    for (const name of names) {
      for (const openblas1 of [true, false]) {
        const t = await trial({ ...BASELINE, ...allKnobs, openblas1, blas: name });
        if (t.median > fastest) [fastest, blas] = [t.median, name];
      }
    }
  }
  const base = await trial({ ...BASELINE, blas });
  const toggles: Partial<TorchConfig>[] = [{ threads: 2 }, { openblas1: true }, { flushDenormal: true }, { channelsLast: true }];
  const helped: Partial<TorchConfig>[] = [];
  for (const toggle of toggles) {
    const t = await trial({ ...BASELINE, blas, ...toggle });
    if (t.median > base.median * 1.02) helped.push(toggle);
  }
  if (helped.length > 1) await trial(Object.assign({ ...BASELINE, blas }, ...helped) as TorchConfig);
  // Every knob together too: a knob may only pay off with another (threads with OpenBLAS's).
  await trial({ ...BASELINE, ...allKnobs, openblas1: true, blas });
  const best = trials.reduce((a, b) => (b.median > a.median ? b : a));
  return { trials, best };
}
