// The counter-based hash behind dropout masks. Every backend implements exactly these integer
// steps (32-bit wrapping multiplies, logical shifts), so a (seed, step) pair gives the same mask
// on ref, cpu, WebGPU, CUDA and Metal, and no mask ever has to be stored for the backward pass.
//
//   key    = lowbias32(seed ^ imul(step, 0x85EBCA6B))
//   bits   = lowbias32(imul(counter, 0x9E3779B1) ^ key)
//   u      = (bits >>> 8) / 2^24                       in [0, 1), exact in float32
//   keep   = u >= p
// lowbias32 is Chris Wellons' 32-bit integer hash (x ^= x>>16; x *= 0x7feb352d; x ^= x>>15;
// x *= 0x846ca68b; x ^= x>>16), which passes the usual avalanche tests.

export function lowbias32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  x = (x ^ (x >>> 16)) >>> 0;
  return x;
}

export function dropoutKey(seed: number, step: number): number {
  return lowbias32((seed ^ Math.imul(step, 0x85ebca6b)) >>> 0);
}

/** Uniform in [0, 1) for one counter under a key from `dropoutKey`. */
export function dropoutUniform(key: number, counter: number): number {
  const bits = lowbias32((Math.imul(counter, 0x9e3779b1) ^ key) >>> 0);
  return (bits >>> 8) / 16777216;
}

/** keep ⇔ u >= p ⇔ (bits >>> 8) >= ceil(p·2^24), exactly: u = (bits >>> 8) / 2^24 and p·2^24 is
 *  exact in float64. Backends computing on a device compare this integer threshold (computed on
 *  the host): comparing u with p rounded to float32 differs for the rare p whose float32 rounding
 *  lands on the 2^-24 grid below p (e.g. p = 0.7), and the masks would no longer be identical. */
export function dropoutKeepThreshold(p: number): number {
  if (!(p >= 0 && p <= 1)) throw new Error(`dropout: p must be in [0, 1], got ${p}`);
  return Math.ceil(p * 16777216);
}

/** Kept values are scaled by 1/(1 − p); p = 1 drops everything (scale 0, as PyTorch). */
export function dropoutKeepScale(p: number): number {
  return p >= 1 ? 0 : 1 / (1 - p);
}
