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
