// 2-D cross-correlation, NCHW input x[n,cIn,h,w], OIHW weight w[cOut,cIn,kh,kw], output
// y[n,cOut,hOut,wOut] with hOut = floor((h + 2·pad − kh)/stride) + 1 (likewise wOut):
//   y[n,o,oh,ow] = b[o] + Σ_{c,i,j} x[n, c, oh·stride − pad + i, ow·stride − pad + j] · w[o,c,i,j]
// (taps that fall into the zero padding contribute nothing). The backward passes scatter the same
// products: dx[n,c,ih,iw] += dy[n,o,oh,ow]·w[o,c,i,j], dw[o,c,i,j] += dy[n,o,oh,ow]·x[n,c,ih,iw].

import { convOutputSize, type Activation, type Conv2dParams } from '../../backend.ts';
import { activate, storeResult, type Num } from './numeric.ts';

/** Calls visit(xIndex, wIndex, yIndex) for every (output, tap) pair that reads a real input pixel. */
function forEachTap(p: Conv2dParams, visit: (xi: number, wi: number, yi: number) => void): void {
  const { hOut, wOut } = convOutputSize(p);
  for (let n = 0; n < p.n; n++)
    for (let o = 0; o < p.cOut; o++)
      for (let oh = 0; oh < hOut; oh++)
        for (let ow = 0; ow < wOut; ow++) {
          const yi = ((n * p.cOut + o) * hOut + oh) * wOut + ow;
          for (let c = 0; c < p.cIn; c++)
            for (let i = 0; i < p.kh; i++) {
              const ih = oh * p.stride - p.pad + i;
              if (ih < 0 || ih >= p.h) continue;
              for (let j = 0; j < p.kw; j++) {
                const iw = ow * p.stride - p.pad + j;
                if (iw < 0 || iw >= p.w) continue;
                visit(((n * p.cIn + c) * p.h + ih) * p.w + iw, ((o * p.cIn + c) * p.kh + i) * p.kw + j, yi);
              }
            }
        }
}

export function conv2d(x: Num, w: Num, bias: Num | null, out: Num, p: Conv2dParams, activation?: Activation): void {
  const { hOut, wOut } = convOutputSize(p);
  const plane = hOut * wOut;
  const y = new Float64Array(p.n * p.cOut * plane);
  if (bias) for (let yi = 0; yi < y.length; yi++) y[yi] = bias[Math.floor(yi / plane) % p.cOut];
  forEachTap(p, (xi, wi, yi) => {
    y[yi] += x[xi] * w[wi];
  });
  for (let yi = 0; yi < y.length; yi++) out[yi] = activate(y[yi], activation);
}

/** dx (+)= Σ dy·w over every output that read each input pixel. */
export function conv2dBackwardInput(dy: Num, w: Num, dx: Num, p: Conv2dParams, accumulate: boolean): void {
  const g = new Float64Array(p.n * p.cIn * p.h * p.w);
  forEachTap(p, (xi, wi, yi) => {
    g[xi] += dy[yi] * w[wi];
  });
  storeResult(dx, g, accumulate);
}

/** dw (+)= Σ_n dy ⋆ x; db (+)= Σ_{n,oh,ow} dy. */
export function conv2dBackwardWeight(x: Num, dy: Num, dw: Num, db: Num | null, p: Conv2dParams, accumulate: boolean): void {
  const g = new Float64Array(p.cOut * p.cIn * p.kh * p.kw);
  forEachTap(p, (xi, wi, yi) => {
    g[wi] += dy[yi] * x[xi];
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
