// Dropout from the counter-based hash in dropout-rng.ts: element i of x (viewed as
// [channels, spatial]) uses counter floor(i / spatial): the element index for dropout
// (spatial = 1) and the channel index n·C + c for dropout2d (spatial = H·W). Kept when u >= p,
// scaled by 1/(1 − p); p = 1 drops everything (out = 0, as PyTorch).

import type { DropoutParams } from '../../backend.ts';
import { dropoutKey, dropoutKeepScale, dropoutUniform } from '../../dropout-rng.ts';
import type { Num } from './numeric.ts';

/** The keep mask (1 = kept) for `length` elements: what every backend must reproduce bit-exactly. */
export function dropoutMask(length: number, p: DropoutParams): Uint8Array {
  const mask = new Uint8Array(length);
  if (p.p >= 1) return mask;
  const key = dropoutKey(p.seed, p.step);
  for (let i = 0; i < length; i++) mask[i] = dropoutUniform(key, Math.floor(i / p.spatial)) >= p.p ? 1 : 0;
  return mask;
}

export function dropout(x: Num, out: Num, p: DropoutParams): void {
  const mask = dropoutMask(out.length, p);
  const k = dropoutKeepScale(p.p);
  for (let i = 0; i < out.length; i++) out[i] = mask[i] ? x[i] * k : 0;
}

/** dx (+)= dy · mask / (1 − p), the mask redrawn from (seed, step). */
export function dropoutBackward(dy: Num, dx: Num, p: DropoutParams, accumulate: boolean): void {
  const mask = dropoutMask(dx.length, p);
  const k = dropoutKeepScale(p.p);
  for (let i = 0; i < dx.length; i++) {
    const g = mask[i] ? dy[i] * k : 0;
    dx[i] = accumulate ? dx[i] + g : g;
  }
}
