// Assembles batches into preallocated buffers: no per-sample (or per-batch) allocation.
//
// images: Float32Array [batch, 1, 28, 28], MNIST-normalised ((x/255 − 0.1307) / 0.3081), the
// seed CNN's input; labels: Int32Array [batch]. The epoch order is a seeded shuffle of the set
// (seed, epoch), so a resumed run sees the same batches as an uninterrupted one.
import { MNIST_MEAN, MNIST_STD } from '../../src/preprocess/frame.ts';
import type { Augmenter } from '../augment/augmenter.ts';
import { shuffledIndices } from '../rng.ts';
import { type DigitSet, IMAGE_PIXELS } from './mnist.ts';

export interface BatchBuffers {
  /** capacity · 784 floats. */
  images: Float32Array;
  labels: Int32Array;
  /** Samples filled (the last eval batch may be short). */
  size: number;
}

export function allocBatch(capacity: number): BatchBuffers {
  return { images: new Float32Array(capacity * IMAGE_PIXELS), labels: new Int32Array(capacity), size: 0 };
}

const INV_STD = 1 / MNIST_STD;
/** u8 pixel -> normalised float as a table: the same float the service's normalizeMnist gives
 *  for the float32 value v/255. */
const NORMALISED = new Float32Array(256);
for (let v = 0; v < 256; v++) NORMALISED[v] = (Math.fround(v / 255) - MNIST_MEAN) * INV_STD;

export interface BatcherOptions {
  batchSize: number;
  /** Shuffle each epoch (training); otherwise the set's own order (evaluation). */
  shuffle: boolean;
  seed: number;
  /** Drop the last partial batch (training keeps every batch the same shape). */
  dropLast: boolean;
  augmenter?: Augmenter | null;
}

export class Batcher {
  readonly batchSize: number;
  readonly batchesPerEpoch: number;
  private readonly order: Int32Array;
  private epoch = -1;
  private readonly sample: Float32Array = new Float32Array(IMAGE_PIXELS);

  constructor(readonly set: DigitSet, private readonly opts: BatcherOptions) {
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) throw new RangeError(`batch size must be a positive integer (got ${opts.batchSize})`);
    this.batchSize = opts.batchSize;
    this.batchesPerEpoch = opts.dropLast ? Math.floor(set.count / opts.batchSize) : Math.ceil(set.count / opts.batchSize);
    if (this.batchesPerEpoch === 0) {
      throw new RangeError(`batch size ${opts.batchSize} is larger than the ${set.count} samples; use a smaller --batch`);
    }
    this.order = new Int32Array(set.count);
    for (let i = 0; i < set.count; i++) this.order[i] = i;
  }

  /** Sets the sample order for `epoch` (a no-op without shuffling). */
  startEpoch(epoch: number): void {
    if (this.opts.shuffle && epoch !== this.epoch) shuffledIndices(this.order, this.opts.seed, epoch);
    this.epoch = epoch;
  }

  /** The dataset indices of batch `b` in the current epoch. */
  indicesOf(b: number): Int32Array {
    const start = b * this.batchSize;
    return this.order.subarray(start, Math.min(start + this.batchSize, this.set.count));
  }

  /** Fills `out` with batch `b` of the current epoch (startEpoch first). */
  fill(b: number, out: BatchBuffers): BatchBuffers {
    if (this.epoch < 0) this.startEpoch(0);
    if (b < 0 || b >= this.batchesPerEpoch) throw new RangeError(`batch ${b} outside 0..${this.batchesPerEpoch - 1}`);
    const idx = this.indicesOf(b);
    if (out.labels.length < idx.length) throw new RangeError(`batch buffer holds ${out.labels.length} samples, batch needs ${idx.length}`);
    const { pixels, labels } = this.set;
    const aug = this.opts.augmenter;
    for (let k = 0; k < idx.length; k++) {
      const i = idx[k];
      const dst = k * IMAGE_PIXELS;
      out.labels[k] = labels[i];
      if (aug && !aug.identity) {
        aug.apply(pixels, i, this.epoch, this.sample, 0);
        const s = this.sample;
        for (let p = 0; p < IMAGE_PIXELS; p++) out.images[dst + p] = (s[p] - MNIST_MEAN) * INV_STD;
      } else {
        const src = i * IMAGE_PIXELS;
        for (let p = 0; p < IMAGE_PIXELS; p++) out.images[dst + p] = NORMALISED[pixels[src + p]];
      }
    }
    out.size = idx.length;
    return out;
  }
}
