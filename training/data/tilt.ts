// Tilted writing: an MNIST digit rotated by a large angle (past the ±12° the training
// augmentation covers), then framed again like the service frames a drawing. The synthetic
// "feedback from users who write slanted" of the fine-tuning test and measurement.
import { frameDigit } from '../../src/preprocess/frame.ts';
import { SampleRng } from '../rng.ts';

/** Rotates a 28x28 u8 image by `deg` (bilinear, about the centre) on a 40x40 canvas and frames it. */
export function tiltDigit(pixels: Uint8Array, deg: number): Uint8Array {
  const S = 40;
  const canvas = new Float32Array(S * S);
  const a = (deg * Math.PI) / 180;
  const cos = Math.cos(a);
  const sin = Math.sin(a);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      // inverse map: canvas (x, y) → source
      const dx = x - S / 2 + 0.5;
      const dy = y - S / 2 + 0.5;
      const sx = cos * dx + sin * dy + 14 - 0.5;
      const sy = -sin * dx + cos * dy + 14 - 0.5;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const px = (xx: number, yy: number) => (xx >= 0 && xx < 28 && yy >= 0 && yy < 28 ? pixels[yy * 28 + xx] / 255 : 0);
      canvas[y * S + x] = (px(x0, y0) * (1 - fx) + px(x0 + 1, y0) * fx) * (1 - fy) + (px(x0, y0 + 1) * (1 - fx) + px(x0 + 1, y0 + 1) * fx) * fy;
    }
  }
  const frame = frameDigit(canvas, S, S);
  return Uint8Array.from(frame ?? new Float32Array(784), (v) => Math.round(v * 255));
}

/** `count` tilted digits from `pixels`/`labels` starting at `start`: ±(minDeg..maxDeg), seeded. */
export function tiltedDigits(pixels: Uint8Array, labels: Uint8Array, start: number, count: number, seed: number, minDeg = 25, maxDeg = 45): { id: string; label: number; pixels: Uint8Array }[] {
  const rng = new SampleRng(seed);
  return Array.from({ length: count }, (_, i) => {
    const k = start + i;
    const deg = rng.range(minDeg, maxDeg) * (rng.chance(0.5) ? 1 : -1);
    return { id: `tilted-${k}`, label: labels[k], pixels: tiltDigit(pixels.subarray(k * 784, (k + 1) * 784), deg) };
  });
}
