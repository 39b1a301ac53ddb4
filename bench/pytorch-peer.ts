// PyTorch (Debian's python3-torch, /usr/bin/python3) as bench:train's training peer: a worker
// process per configuration (bench/pytorch/seed_cnn_cpu.py) that trains the seed CNN on the same
// batch files as inkling, one round per request, so rounds can be interleaved with inkling's.
//
// Its best configuration here is found, not assumed: the four knobs the issue names
// (OPENBLAS_NUM_THREADS=1, torch.set_num_threads(2), torch.set_flush_denormal(True),
// channels_last) are tried one at a time against a baseline, then together if more than one
// helped, and the fastest (median of short trial rounds) is used for the timed rounds.

import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
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
}

export const BASELINE: TorchConfig = { threads: null, openblas1: false, flushDenormal: false, channelsLast: false };

export function describeConfig(c: TorchConfig): string {
  const parts = [c.threads === null ? 'default threads' : `set_num_threads(${c.threads})`];
  if (c.openblas1) parts.push('OPENBLAS_NUM_THREADS=1');
  if (c.flushDenormal) parts.push('flush_denormal');
  if (c.channelsLast) parts.push('channels_last');
  return parts.join(' + ');
}

/** "threads=2,openblas=1,flush=1,cl=0" (any subset; the rest from BASELINE). */
export function parseConfig(text: string): TorchConfig {
  const c = { ...BASELINE };
  for (const part of text.split(',').filter(Boolean)) {
    const [key, value] = part.split('=');
    const on = value === '1' || value === 'true';
    if (key === 'threads') c.threads = value === 'default' ? null : Number(value);
    else if (key === 'openblas') c.openblas1 = on;
    else if (key === 'flush') c.flushDenormal = on;
    else if (key === 'cl') c.channelsLast = on;
    else throw new Error(`--pytorch-config: unknown knob '${key}' (threads=N|default, openblas=0|1, flush=0|1, cl=0|1)`);
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

  constructor(readonly config: TorchConfig, data: BatchFiles) {
    const env = { ...process.env };
    if (config.openblas1) env.OPENBLAS_NUM_THREADS = '1';
    else delete env.OPENBLAS_NUM_THREADS;
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
    const hello = JSON.parse(await this.next()) as { torch: string; threads: number };
    this.torchVersion = hello.torch;
    this.threads = hello.threads;
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

/** Tries the knobs (see the top) on short rounds at `batch`; returns every trial and the winner. */
export async function searchBestConfig(
  data: BatchFiles, batch: number, warmup: number, steps: number, rounds: number, log: (line: string) => void,
): Promise<{ trials: ConfigTrial[]; best: ConfigTrial }> {
  const trials: ConfigTrial[] = [];
  const trial = async (config: TorchConfig): Promise<ConfigTrial> => {
    const w = new TorchWorker(config, data);
    try {
      await w.ready();
      const rates: number[] = [];
      for (let r = 0; r < rounds; r++) rates.push(await w.round(batch, r === 0 ? warmup : 5, steps));
      const t: ConfigTrial = { config, samplesPerSec: rates, median: median(rates) };
      trials.push(t);
      log(`  pytorch trial b${batch}: ${describeConfig(config).padEnd(72)} ${t.median.toFixed(0).padStart(6)} samples/s (${rates.map((v) => v.toFixed(0)).join(', ')})`);
      return t;
    } finally {
      w.close();
    }
  };
  const base = await trial(BASELINE);
  const toggles: Partial<TorchConfig>[] = [{ threads: 2 }, { openblas1: true }, { flushDenormal: true }, { channelsLast: true }];
  const helped: Partial<TorchConfig>[] = [];
  for (const toggle of toggles) {
    const t = await trial({ ...BASELINE, ...toggle });
    if (t.median > base.median * 1.02) helped.push(toggle);
  }
  if (helped.length > 1) await trial(Object.assign({ ...BASELINE }, ...helped) as TorchConfig);
  // Every knob together too: a knob may only pay off with another (threads with OpenBLAS's).
  await trial({ threads: 2, openblas1: true, flushDenormal: true, channelsLast: true });
  const best = trials.reduce((a, b) => (b.median > a.median ? b : a));
  return { trials, best };
}
