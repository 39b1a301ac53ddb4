// Where the trainer gets its batches: inline (assembled on the main thread between steps) or
// from a worker thread that assembles batch b+1 while the main thread runs step b.
//
// The worker fills two slots of a SharedArrayBuffer in turn (double buffering): the main thread
// uploads slot A to the backend and runs the step while the worker fills slot B. Samples are
// augmented from (seed, epoch, index) streams, so both sources give identical batches.
// `waitMs` is what the step loop actually stalls on the data pipeline; with the worker it is
// near zero unless augmentation is slower than a training step.
import { Worker } from 'node:worker_threads';
import type { AugmentConfig } from '../augment/config.ts';
import { Augmenter } from '../augment/augmenter.ts';
import { type BatchBuffers, allocBatch, Batcher } from './batcher.ts';
import { type DigitSet, IMAGE_PIXELS } from './mnist.ts';

export interface BatchSourceOptions {
  set: DigitSet;
  batchSize: number;
  seed: number;
  augment: AugmentConfig;
}

export interface BatchSource {
  readonly batchesPerEpoch: number;
  /** Milliseconds the caller waited for batches; the caller sets it to 0 to start a new count (the trainer does, per epoch). */
  waitMs: number;
  startEpoch(epoch: number): void;
  /** Batch b of the current epoch; the buffers stay valid until the next get(). */
  get(b: number): Promise<BatchBuffers>;
  close(): Promise<void>;
}

export class InlineBatchSource implements BatchSource {
  readonly batchesPerEpoch: number;
  waitMs = 0;
  private readonly batcher: Batcher;
  private readonly buffers: BatchBuffers;

  constructor(o: BatchSourceOptions) {
    this.batcher = new Batcher(o.set, { batchSize: o.batchSize, shuffle: true, seed: o.seed, dropLast: true, augmenter: new Augmenter(o.augment, o.seed) });
    this.batchesPerEpoch = this.batcher.batchesPerEpoch;
    this.buffers = allocBatch(o.batchSize);
  }

  startEpoch(epoch: number): void {
    this.batcher.startEpoch(epoch);
  }

  async get(b: number): Promise<BatchBuffers> {
    const t0 = performance.now();
    this.batcher.fill(b, this.buffers);
    this.waitMs += performance.now() - t0;
    return this.buffers;
  }

  async close(): Promise<void> {}
}

/** Messages between WorkerBatchSource and batch-worker.ts. */
export type ToWorker = { type: 'fill'; epoch: number; batch: number; slot: number };
export type FromWorker = { type: 'filled'; slot: number; size: number } | { type: 'error'; message: string };

export interface WorkerInit {
  pixels: Uint8Array;
  labels: Uint8Array;
  count: number;
  batchSize: number;
  seed: number;
  augment: AugmentConfig;
  images: SharedArrayBuffer;
  labelsOut: SharedArrayBuffer;
}

export class WorkerBatchSource implements BatchSource {
  readonly batchesPerEpoch: number;
  waitMs = 0;
  private readonly worker: Worker;
  private readonly slots: BatchBuffers[];
  private epoch = 0;
  private readonly pending = new Map<number, Promise<number>>();
  private waiters: ((m: FromWorker) => void)[] = [];
  private failure: Error | null = null;

  constructor(o: BatchSourceOptions) {
    this.batchesPerEpoch = new Batcher(o.set, { batchSize: o.batchSize, shuffle: false, seed: o.seed, dropLast: true }).batchesPerEpoch;
    const images = new SharedArrayBuffer(2 * o.batchSize * IMAGE_PIXELS * 4);
    const labelsOut = new SharedArrayBuffer(2 * o.batchSize * 4);
    this.slots = [0, 1].map((s) => ({
      images: new Float32Array(images, s * o.batchSize * IMAGE_PIXELS * 4, o.batchSize * IMAGE_PIXELS),
      labels: new Int32Array(labelsOut, s * o.batchSize * 4, o.batchSize),
      size: 0,
    }));
    const init: WorkerInit = { pixels: o.set.pixels, labels: o.set.labels, count: o.set.count, batchSize: o.batchSize, seed: o.seed, augment: o.augment, images, labelsOut };
    // The worker is TypeScript too: its .mjs entry registers tsx, then loads batch-worker.ts.
    this.worker = new Worker(new URL('./batch-worker-entry.mjs', import.meta.url), { workerData: init, execArgv: [] });
    this.worker.on('message', (m: FromWorker) => {
      if (m.type === 'error') this.failure = new Error(`batch worker: ${m.message}`);
      const w = this.waiters.shift();
      if (w) w(m);
    });
    this.worker.on('error', (e) => {
      this.failure = e;
      for (const w of this.waiters.splice(0)) w({ type: 'error', message: e.message });
    });
  }

  startEpoch(epoch: number): void {
    this.epoch = epoch;
    this.pending.clear();
  }

  /** Asks for batch b into slot b % 2; resolves when it is filled. Requests are served in order. */
  private request(b: number): Promise<number> {
    let p = this.pending.get(b);
    if (!p) {
      const slot = b % 2;
      p = new Promise<number>((resolve, reject) => {
        this.waiters.push((m) => (m.type === 'filled' ? resolve(m.size) : reject(this.failure ?? new Error(m.message))));
      });
      this.worker.postMessage({ type: 'fill', epoch: this.epoch, batch: b, slot } satisfies ToWorker);
      this.pending.set(b, p);
    }
    return p;
  }

  async get(b: number): Promise<BatchBuffers> {
    if (this.failure) throw this.failure;
    const t0 = performance.now();
    const size = await this.request(b);
    this.waitMs += performance.now() - t0;
    this.pending.delete(b);
    // Slot b % 2 is now the caller's; the other slot is free for the next batch.
    if (b + 1 < this.batchesPerEpoch) void this.request(b + 1).catch(() => {});
    const slot = this.slots[b % 2];
    slot.size = size;
    return slot;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

export function createBatchSource(workers: number, o: BatchSourceOptions): BatchSource {
  return workers > 0 ? new WorkerBatchSource(o) : new InlineBatchSource(o);
}
