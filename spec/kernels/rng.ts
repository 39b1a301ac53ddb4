// The seeded generator of case inputs (mulberry32, src/nn/random.ts): the same seed gives the same
// inputs on every backend and every run.
import { Mulberry32 } from '../../src/nn/random.ts';

export class CaseRng extends Mulberry32 {
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
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
