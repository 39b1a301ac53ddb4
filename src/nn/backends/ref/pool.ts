// Pooling over kh×kw windows with a stride, no padding, floor mode (PyTorch's default), per
// (n, c) plane. Max pooling records the argmax as ih·w + iw within the plane (first on ties, but
// NaN wins as in PyTorch). Backward passes scatter dy back; overlapping windows add up.

import { poolOutputSize, type Pool2dParams } from '../../backend.ts';
import type { Num } from './numeric.ts';

export function maxPool2d(x: Num, out: Num, argmax: Int32Array, p: Pool2dParams): void {
  const { hOut, wOut } = poolOutputSize(p);
  const plane = p.h * p.w;
  for (let nc = 0; nc < p.n * p.c; nc++)
    for (let oh = 0; oh < hOut; oh++)
      for (let ow = 0; ow < wOut; ow++) {
        let best = -Infinity;
        let bestIndex = -1;
        for (let i = 0; i < p.kh; i++)
          for (let j = 0; j < p.kw; j++) {
            const idx = (oh * p.stride + i) * p.w + (ow * p.stride + j);
            const v = x[nc * plane + idx];
            if (bestIndex < 0 || v > best || Number.isNaN(v)) {
              best = v;
              bestIndex = idx;
            }
          }
        const yi = (nc * hOut + oh) * wOut + ow;
        out[yi] = best;
        argmax[yi] = bestIndex;
      }
}

export function maxPool2dBackward(dy: Num, argmax: Int32Array, dx: Num, p: Pool2dParams): void {
  const { hOut, wOut } = poolOutputSize(p);
  const plane = p.h * p.w;
  const g = new Float64Array(p.n * p.c * plane);
  for (let nc = 0; nc < p.n * p.c; nc++)
    for (let s = 0; s < hOut * wOut; s++) {
      const yi = nc * hOut * wOut + s;
      const a = argmax[yi];
      if (!(a >= 0 && a < plane)) throw new Error(`maxPool2dBackward: argmax[${yi}] = ${a} is outside the ${p.h}x${p.w} plane`);
      g[nc * plane + a] += dy[yi];
    }
  for (let i = 0; i < g.length; i++) dx[i] = g[i];
}

export function avgPool2d(x: Num, out: Num, p: Pool2dParams): void {
  const { hOut, wOut } = poolOutputSize(p);
  const plane = p.h * p.w;
  const area = p.kh * p.kw;
  for (let nc = 0; nc < p.n * p.c; nc++)
    for (let oh = 0; oh < hOut; oh++)
      for (let ow = 0; ow < wOut; ow++) {
        let s = 0;
        for (let i = 0; i < p.kh; i++)
          for (let j = 0; j < p.kw; j++) s += x[nc * plane + (oh * p.stride + i) * p.w + (ow * p.stride + j)];
        out[(nc * hOut + oh) * wOut + ow] = s / area;
      }
}

export function avgPool2dBackward(dy: Num, dx: Num, p: Pool2dParams): void {
  const { hOut, wOut } = poolOutputSize(p);
  const plane = p.h * p.w;
  const area = p.kh * p.kw;
  const g = new Float64Array(p.n * p.c * plane);
  for (let nc = 0; nc < p.n * p.c; nc++)
    for (let oh = 0; oh < hOut; oh++)
      for (let ow = 0; ow < wOut; ow++) {
        const share = dy[(nc * hOut + oh) * wOut + ow] / area;
        for (let i = 0; i < p.kh; i++)
          for (let j = 0; j < p.kw; j++) g[nc * plane + (oh * p.stride + i) * p.w + (ow * p.stride + j)] += share;
      }
  for (let i = 0; i < g.length; i++) dx[i] = g[i];
}
