// Dynamic batching: concurrent requests share one forward pass. A request waits at most
// `maxWaitMs` (0 = only until the current event-loop turn ends) for others to join, and a batch
// holds at most `maxBatch`. While a batch runs, new requests queue and form the next batch, so
// under load batches fill up by themselves and at one connection nothing waits.
import type { LoadedModel } from './model.ts';
import type { OodVerdict } from '../model/ood.ts';

export interface BatchAnswer {
  probabilities: Float32Array;
  inferenceMs: number;
  batchSize: number;
  /** The "not a digit" detector's verdict, when the model has one. */
  ood: OodVerdict | null;
}

interface Job {
  x: Float32Array; // 784 MNIST-normalised values
  resolve: (r: BatchAnswer) => void;
  reject: (e: unknown) => void;
}

export class InferenceBatcher {
  private queue: Job[] = [];
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private immediate = false;
  batches = 0;
  /** Images through the forward passes (images / batches = mean batch size). */
  images = 0;
  onBatch: ((size: number, ms: number) => void) | null = null;

  constructor(
    private readonly model: Pick<LoadedModel, 'predict'> & Partial<Pick<LoadedModel, 'infer'>>,
    private readonly maxBatch: number,
    private readonly maxWaitMs: number,
  ) {}

  predict(x: Float32Array): Promise<BatchAnswer> {
    if (x.length !== 784) throw new RangeError(`expected 784 values, got ${x.length}`);
    return new Promise((resolve, reject) => {
      this.queue.push({ x, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.running) return; // the running batch reschedules when it ends
    if (this.queue.length >= this.maxBatch) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      void this.run();
      return;
    }
    if (this.timer || this.immediate) return;
    if (this.maxWaitMs > 0) {
      this.timer = setTimeout(() => {
        this.timer = null;
        void this.run();
      }, this.maxWaitMs);
    } else {
      this.immediate = true;
      setImmediate(() => {
        this.immediate = false;
        void this.run();
      });
    }
  }

  private async run(): Promise<void> {
    if (this.running || this.queue.length === 0) return;
    this.running = true;
    const jobs = this.queue.splice(0, this.maxBatch);
    const n = jobs.length;
    const x = new Float32Array(n * 784);
    for (let i = 0; i < n; i++) x.set(jobs[i].x, i * 784);
    const t0 = performance.now();
    try {
      const out = this.model.infer ? await this.model.infer(x, n) : { probabilities: await this.model.predict(x, n), ood: null };
      const probs = out.probabilities;
      const ms = performance.now() - t0;
      this.batches++;
      this.images += n;
      this.onBatch?.(n, ms);
      for (let i = 0; i < n; i++) jobs[i].resolve({ probabilities: probs.slice(i * 10, i * 10 + 10), inferenceMs: ms, batchSize: n, ood: out.ood?.[i] ?? null });
    } catch (err) {
      for (const j of jobs) j.reject(err);
    } finally {
      this.running = false;
      if (this.queue.length > 0) this.schedule();
    }
  }

  /** Waits until nothing is queued or running. */
  async drain(): Promise<void> {
    while (this.running || this.queue.length > 0) await new Promise((r) => setTimeout(r, 5));
  }
}
