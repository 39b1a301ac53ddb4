// A small seeded RNG (mulberry32) for test inputs: the same seed gives the same inputs on every
// backend and every run.

export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** length floats uniform in [lo, hi). */
  floats(length: number, lo = -1, hi = 1): Float32Array {
    const a = new Float32Array(length);
    for (let i = 0; i < length; i++) a[i] = this.uniform(lo, hi);
    return a;
  }

  /** length integers in [0, n). */
  ints(length: number, n: number): Int32Array {
    const a = new Int32Array(length);
    for (let i = 0; i < length; i++) a[i] = this.int(n);
    return a;
  }

  /** Small integers in [0, levels) as floats: exact, with plenty of ties (argmax/maxpool tie rules). */
  quantized(length: number, levels: number): Float32Array {
    const a = new Float32Array(length);
    for (let i = 0; i < length; i++) a[i] = this.int(levels);
    return a;
  }
}

/** A stable 32-bit seed from a case name (FNV-1a), so a case's inputs do not depend on table order. */
export function seedFromName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
