// 2-D cross-correlation, NCHW input x[n,cIn,h,w], OIHW weight w[cOut,cIn,kh,kw], output
// y[n,cOut,hOut,wOut] with hOut = floor((h + 2·pad − kh)/stride) + 1 (likewise wOut):
//   y[n,o,oh,ow] = b[o] + Σ_{c,i,j} x[n, c, oh·stride − pad + i, ow·stride − pad + j] · w[o,c,i,j]
// (taps that fall into the zero padding contribute nothing). The backward passes scatter the same
// products: dx[n,c,ih,iw] += dy[n,o,oh,ow]·w[o,c,i,j], dw[o,c,i,j] += dy[n,o,oh,ow]·x[n,c,ih,iw].

import { convOutputSize, type Activation, type Conv2dParams } from '../../backend.ts';
import { activate, storeResult, type Num } from './numeric.ts';

/** Calls visit(xRow, wRow, yi, j0, j1, iw0) for every (output yi, input channel, kernel row i) whose
 *  input row lies inside the image; the row's taps j in [j0, j1) (the columns inside the image) pair
 *  x[xRow + iw0 + j] with w[wRow + j]. One callback per kernel row rather than per tap keeps ref
 *  usable at the seed CNN's batch-256 shapes. */
function forEachTapRow(p: Conv2dParams, visit: (xRow: number, wRow: number, yi: number, j0: number, j1: number, iw0: number) => void): void {
  const { hOut, wOut } = convOutputSize(p);
  for (let n = 0; n < p.n; n++)
    for (let o = 0; o < p.cOut; o++)
      for (let oh = 0; oh < hOut; oh++)
        for (let ow = 0; ow < wOut; ow++) {
          const yi = ((n * p.cOut + o) * hOut + oh) * wOut + ow;
          // Kernel columns j with 0 <= iw0 + j < w.
          const iw0 = ow * p.stride - p.pad;
          const j0 = Math.max(0, -iw0);
          const j1 = Math.min(p.kw, p.w - iw0);
          for (let c = 0; c < p.cIn; c++)
            for (let i = 0; i < p.kh; i++) {
              const ih = oh * p.stride - p.pad + i;
              if (ih < 0 || ih >= p.h) continue;
              visit(((n * p.cIn + c) * p.h + ih) * p.w, ((o * p.cIn + c) * p.kh + i) * p.kw, yi, j0, j1, iw0);
            }
        }
}

export function conv2d(x: Num, w: Num, bias: Num | null, out: Num, p: Conv2dParams, activation?: Activation): void {
  const { hOut, wOut } = convOutputSize(p);
  const plane = hOut * wOut;
  const y = new Float64Array(p.n * p.cOut * plane);
  if (bias) for (let yi = 0; yi < y.length; yi++) y[yi] = bias[Math.floor(yi / plane) % p.cOut];
  forEachTapRow(p, (xRow, wRow, yi, j0, j1, iw0) => {
    let s = 0;
    for (let j = j0; j < j1; j++) s += x[xRow + iw0 + j] * w[wRow + j];
    y[yi] += s;
  });
  for (let yi = 0; yi < y.length; yi++) out[yi] = activate(y[yi], activation);
}

/** dx (+)= Σ dy·w over every output that read each input pixel. */
export function conv2dBackwardInput(dy: Num, w: Num, dx: Num, p: Conv2dParams, accumulate: boolean): void {
  const g = new Float64Array(p.n * p.cIn * p.h * p.w);
  forEachTapRow(p, (xRow, wRow, yi, j0, j1, iw0) => {
    const d = dy[yi];
    for (let j = j0; j < j1; j++) g[xRow + iw0 + j] += d * w[wRow + j];
  });
  storeResult(dx, g, accumulate);
}

/** dw (+)= Σ_n dy ⋆ x; db (+)= Σ_{n,oh,ow} dy. */
export function conv2dBackwardWeight(x: Num, dy: Num, dw: Num, db: Num | null, p: Conv2dParams, accumulate: boolean): void {
  const g = new Float64Array(p.cOut * p.cIn * p.kh * p.kw);
  forEachTapRow(p, (xRow, wRow, yi, j0, j1, iw0) => {
    const d = dy[yi];
    for (let j = j0; j < j1; j++) g[wRow + j] += d * x[xRow + iw0 + j];
  });
  storeResult(dw, g, accumulate);
  if (db) {
    const { hOut, wOut } = convOutputSize(p);
    const plane = hOut * wOut;
    const gb = new Float64Array(p.cOut);
    for (let n = 0; n < p.n; n++)
      for (let o = 0; o < p.cOut; o++)
        for (let s = 0; s < plane; s++) gb[o] += dy[(n * p.cOut + o) * plane + s];
    storeResult(db, gb, accumulate);
  }
}
