// Seeded random numbers for the data pipeline (shuffles and augmentation draws).
//
// Determinism does not depend on batch order or on which thread prepares a batch: every sample's
// stream is re-seeded from (seed, epoch, dataset index) through the integer hash the dropout
// masks use, so sample 123 of epoch 4 draws the same augmentation wherever it is computed.
// The generator is mulberry32 (one uint32 of state): plenty for picking angles and shuffles, and
// re-seeding costs nothing, so no per-sample allocation.
import { lowbias32 } from '../src/nn/dropout-rng.ts';
import { Mulberry32 } from '../src/nn/random.ts';

export function mixSeed(seed: number, a = 0, b = 0): number {
  let h = lowbias32((seed ^ 0x6a09e667) >>> 0);
  h = lowbias32((h ^ Math.imul(a + 1, 0x85ebca6b)) >>> 0);
  h = lowbias32((h ^ Math.imul(b + 1, 0xc2b2ae35)) >>> 0);
  return h;
}

/** The data pipeline's generator (named apart from src/nn/random.ts's Rng, the xoshiro128** used
 *  for weight init): cheap to re-seed per sample, see above. */
export class SampleRng extends Mulberry32 {
  /** Restarts the stream at (seed, a, b); see the top of the file. */
  reseed(seed: number, a = 0, b = 0): void {
    this.state = mixSeed(seed, a, b);
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.next();
  }

  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** Standard normal (Box–Muller; one of the pair is dropped to keep no state). */
  normal(): number {
    const u = 1 - this.uniform();
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return p > 0 && this.uniform() < p;
  }
}

/** Fisher–Yates into `out` (0..n-1), seeded by (seed, epoch). `out` is reused across epochs. */
export function shuffledIndices(out: Int32Array, seed: number, epoch: number, rng = new SampleRng()): Int32Array {
  const n = out.length;
  for (let i = 0; i < n; i++) out[i] = i;
  rng.reseed(seed, epoch, 0x5f3759df);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = out[i];
    out[i] = out[j];
    out[j] = t;
  }
  return out;
}
