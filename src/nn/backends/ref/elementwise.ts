// Elementwise ops, copies and small reductions. Lengths come from the arrays (validated upstream).

import type { BinaryOp, ChannelLayout, UnaryOp } from '../../backend.ts';
import type { Num } from './numeric.ts';

export function fill(out: Num | Int32Array, value: number): void {
  out.fill(value);
}

export function copy(src: Num | Int32Array, dst: Num | Int32Array, length: number, srcOffset: number, dstOffset: number): void {
  for (let i = 0; i < length; i++) dst[dstOffset + i] = src[srcOffset + i];
}

const unaryFns: Record<UnaryOp, (v: number) => number> = {
  neg: (v) => -v,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  abs: Math.abs,
  relu: (v) => (v > 0 ? v : 0),
};

export function unary(op: UnaryOp, x: Num, out: Num): void {
  const f = unaryFns[op];
  if (!f) throw new Error(`unary: unknown op "${op}" (known: ${Object.keys(unaryFns).join(', ')})`);
  for (let i = 0; i < out.length; i++) out[i] = f(x[i]);
}

const binaryFns: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  max: Math.max,
};

export function binary(op: BinaryOp, a: Num, b: Num, out: Num): void {
  const f = binaryFns[op];
  if (!f) throw new Error(`binary: unknown op "${op}" (known: ${Object.keys(binaryFns).join(', ')})`);
  for (let i = 0; i < out.length; i++) out[i] = f(a[i], b[i]);
}

/** out = alpha·x + beta; out may be x. */
export function scale(x: Num, alpha: number, beta: number, out: Num): void {
  for (let i = 0; i < out.length; i++) out[i] = alpha * x[i] + beta;
}

/** y += alpha·x. */
export function axpy(alpha: number, x: Num, y: Num): void {
  for (let i = 0; i < y.length; i++) y[i] += alpha * x[i];
}

/** dx (+)= x > 0 ? dy : 0. */
export function reluBackward(x: Num, dy: Num, dx: Num, accumulate: boolean): void {
  for (let i = 0; i < dx.length; i++) {
    const g = x[i] > 0 ? dy[i] : 0;
    dx[i] = accumulate ? dx[i] + g : g;
  }
}

/** out[c] (+)= Σ_{o,i} x[o, c, i]. */
export function channelSum(x: Num, out: Num, layout: ChannelLayout, accumulate: boolean): void {
  const { outer, channels, inner } = layout;
  for (let c = 0; c < channels; c++) {
    let s = 0;
    for (let o = 0; o < outer; o++) {
      const base = (o * channels + c) * inner;
      for (let i = 0; i < inner; i++) s += x[base + i];
    }
    out[c] = accumulate ? out[c] + s : s;
  }
}

/** out[r] = first index of the row maximum (strict > keeps the first on ties). */
export function argmax(x: Num, out: Int32Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    let best = 0;
    let bestV = x[r * cols];
    for (let j = 1; j < cols; j++) {
      const v = x[r * cols + j];
      if (v > bestV) {
        bestV = v;
        best = j;
      }
    }
    out[r] = best;
  }
}

/** out[0] (+)= #{i : a[i] == b[i]}. */
export function countEqual(a: Int32Array, b: Int32Array, out: Num, accumulate: boolean): void {
  let count = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) count++;
  out[0] = accumulate ? out[0] + count : count;
}
