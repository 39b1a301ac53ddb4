// The ref kernels are written over generic numeric arrays so the same code runs in float32 (the
// backend) and float64 (the finite-difference gradient checks). Every sum is carried in a JS number
// (float64) and rounded once when stored.

import type { Activation } from '../../backend.ts';

export type Num = Float32Array | Float64Array;

/** out[i] = r[i], or out[i] += r[i] when accumulating. */
export function storeResult(out: Num, r: ArrayLike<number>, accumulate: boolean): void {
  if (accumulate) for (let i = 0; i < r.length; i++) out[i] += r[i];
  else for (let i = 0; i < r.length; i++) out[i] = r[i];
}

export function activate(v: number, activation: Activation | undefined): number {
  return activation === 'relu' ? (v > 0 ? v : 0) : v;
}
