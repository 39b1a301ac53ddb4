// Training metrics kept on the device: a running loss sum (axpy of each batch's mean loss times its
// size) and a running count of correct predictions (argmax + countEqual with accumulate). Nothing
// is read back until read(), once per log interval or epoch.

import type { Backend, DeviceBuffer } from './backend.ts';
import type { Tensor } from './tensor.ts';

export interface MetricsSnapshot {
  samples: number;
  batches: number;
  /** Mean loss per sample over the interval. */
  loss: number;
  /** Fraction of correct predictions. */
  accuracy: number;
}

export class RunningMetrics {
  private readonly lossSum: DeviceBuffer<'f32'>;
  private readonly correct: DeviceBuffer<'f32'>;
  private pred: DeviceBuffer<'i32'> | null = null;
  samples = 0;
  batches = 0;

  constructor(readonly backend: Backend) {
    this.lossSum = backend.alloc(1, 'f32');
    this.correct = backend.alloc(1, 'f32');
    this.reset();
  }

  reset(): void {
    this.backend.fill(this.lossSum, 0);
    this.backend.fill(this.correct, 0);
    this.samples = 0;
    this.batches = 0;
  }

  /** Adds one batch: loss is its mean loss (scalar), logits [N, classes], labels i32 [N]. */
  add(loss: Tensor, logits: Tensor, labels: Tensor): void {
    const rows = labels.size;
    const cols = logits.size / rows;
    if (!Number.isInteger(cols)) throw new Error(`RunningMetrics.add: ${labels.size} labels do not divide logits [${logits.shape.join(', ')}]`);
    this.backend.axpy(rows, loss.buffer as DeviceBuffer<'f32'>, this.lossSum);
    // the prediction buffer is kept between batches (reallocated only when the batch size changes)
    if (this.pred === null || this.pred.length !== rows) {
      if (this.pred !== null) this.backend.free(this.pred);
      this.pred = this.backend.alloc(rows, 'i32');
    }
    this.backend.argmax(logits.buffer as DeviceBuffer<'f32'>, this.pred, rows, cols);
    this.backend.countEqual(this.pred, labels.buffer as DeviceBuffer<'i32'>, this.correct, true);
    this.samples += rows;
    this.batches++;
  }

  async read(): Promise<MetricsSnapshot> {
    const [l, c] = await Promise.all([this.backend.download(this.lossSum), this.backend.download(this.correct)]);
    const n = Math.max(this.samples, 1);
    return { samples: this.samples, batches: this.batches, loss: l[0] / n, accuracy: c[0] / n };
  }

  dispose(): void {
    this.backend.free(this.lossSum);
    this.backend.free(this.correct);
    if (this.pred !== null) this.backend.free(this.pred);
    this.pred = null;
  }
}
