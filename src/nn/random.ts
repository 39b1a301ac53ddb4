// Seeded randomness of the tensor library: weight init (kaimingUniform, biasUniform) and the
// shuffles of its tests. The training data pipeline has its own generator (training/rng.ts), and
// dropout masks use the counter-based hash in dropout-rng.ts, so that every backend draws them.
//
// The generator is xoshiro128** 1.0 (Blackman & Vigna, 2018): 128 bits of state, period 2^128 − 1,
// 32-bit outputs, passes BigCrush. Its state is seeded from one 32-bit seed by four draws of
// SplitMix32 (the seeding the authors recommend), so nearby seeds give unrelated streams.
// Everything is 32-bit integer arithmetic (Math.imul, >>> 0): the same seed gives the same
// numbers on every platform. These are host-side loops, run once per init or per epoch.

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new Error(`Rng: seed must be a finite number, got ${seed}`);
    let x = seed >>> 0;
    const splitmix32 = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = splitmix32();
    this.s1 = splitmix32();
    this.s2 = splitmix32();
    this.s3 = splitmix32();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the all-zero state is a fixed point
  }

  /** The next 32-bit unsigned integer. */
  nextU32(): number {
    const s1 = this.s1;
    // result = rotl(s1 * 5, 7) * 9
    const t5 = Math.imul(s1, 5);
    const result = Math.imul((t5 << 7) | (t5 >>> 25), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return result;
  }

  /** Uniform in [0, 1) with 24 random bits: exactly representable in float32. */
  nextFloat(): number {
    return (this.nextU32() >>> 8) / 16777216;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.nextFloat();
  }

  /** Uniform integer in [0, n), without modulo bias (rejection sampling). */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 2 ** 32) throw new Error(`Rng.nextInt: n must be an integer in [1, 2^32], got ${n}`);
    const limit = 2 ** 32 - (2 ** 32 % n);
    let r = this.nextU32();
    while (r >= limit) r = this.nextU32();
    return r % n;
  }

  /** Standard normal by Box–Muller (one of the pair is used; simple and reproducible). */
  normal(): number {
    const u1 = (this.nextU32() + 1) / 4294967297; // (0, 1): log is finite
    const u2 = this.nextFloat();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** A new generator whose stream is independent of this one's continuation (for sub-components). */
  fork(): Rng {
    return new Rng(this.nextU32());
  }
}

/** Fisher–Yates shuffle in place; returns the array. */
export function shuffle<T extends { length: number; [i: number]: unknown }>(array: T, rng: Rng): T {
  for (let i = array.length - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    const tmp = array[i];
    array[i] = array[j];
    array[j] = tmp;
  }
  return array;
}

/** A random permutation of 0..n−1 (the epoch order of a data set). */
export function permutation(n: number, rng: Rng): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return shuffle(out, rng);
}

/** fill `out` with uniform values in [−bound, bound). */
export function fillUniform(out: Float32Array, bound: number, rng: Rng): Float32Array {
  for (let i = 0; i < out.length; i++) out[i] = (2 * rng.nextFloat() - 1) * bound;
  return out;
}

/** PyTorch's fan_in of a weight [out, in, ...kernel]: in × kernel elements. */
export function fanIn(shape: readonly number[]): number {
  if (shape.length < 2) throw new Error(`fanIn: a weight needs at least 2 dimensions, got [${shape.join(', ')}]`);
  let f = shape[1];
  for (let i = 2; i < shape.length; i++) f *= shape[i];
  return f;
}

/** torch.nn.init.kaiming_uniform_(w, a, mode='fan_in', nonlinearity='leaky_relu'):
 *  bound = gain · sqrt(3 / fan_in), gain = sqrt(2 / (1 + a²)). With a = sqrt(5) (the default of
 *  nn.Conv2d and nn.Linear) the bound is 1 / sqrt(fan_in). */
export function kaimingUniform(shape: readonly number[], rng: Rng, a = Math.sqrt(5)): Float32Array {
  const gain = Math.sqrt(2 / (1 + a * a));
  const bound = gain * Math.sqrt(3 / fanIn(shape));
  return fillUniform(new Float32Array(shape.reduce((p, d) => p * d, 1)), bound, rng);
}

/** The default bias init of nn.Conv2d and nn.Linear: uniform(±1/sqrt(fan_in)). */
export function biasUniform(length: number, fanInOfWeight: number, rng: Rng): Float32Array {
  const bound = fanInOfWeight > 0 ? 1 / Math.sqrt(fanInOfWeight) : 0;
  return fillUniform(new Float32Array(length), bound, rng);
}

/** mulberry32 (one uint32 of state): a tiny generator for streams that are re-seeded often, where
 *  xoshiro's 128-bit state would cost more than it gives. The data pipeline's SampleRng
 *  (training/rng.ts) and the conformance table's CaseRng (spec/kernels/rng.ts) are built on it. */
export class Mulberry32 {
  protected state: number;

  constructor(seed = 1) {
    this.state = seed >>> 0;
  }

  nextUint32(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Integer uniform in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}
