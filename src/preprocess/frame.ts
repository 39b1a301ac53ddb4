// MNIST framing: turn any grayscale ink map into the 28x28 frame the model was trained on.
//
// What MNIST did (LeCun et al.): each NIST digit was size-normalised to fit a 20x20 box keeping its
// aspect ratio (anti-aliased, so edge pixels are grey), then placed in a 28x28 field so that its
// centre of mass sits at the field's centre. Measured on the 10k test set: the bounding box of
// non-zero pixels has a long side of 20 in 9,997 of 10,000 images, the mean centre of mass is
// (x 14.01, y 13.99) in pixel-index coordinates, and the mean peak value is 254.9 / 255.
//
// So this function:
//   1. crops to the bounding box of pixels above `inkThreshold`;
//   2. resamples the crop so its long side is exactly 20 px (area averaging when shrinking, which
//      is the anti-aliasing MNIST has; bilinear when enlarging a crop smaller than 20 px);
//   3. stretches the values so the peak is 1 (thin strokes averaged down lose contrast; MNIST's
//      peak is 1);
//   4. pastes it at an INTEGER offset that puts the centre of mass nearest to (14, 14). Integer,
//      not subpixel: a subpixel shift needs another interpolation (extra blur), and the residual is
//      at most half a pixel, well inside MNIST's own spread. The offset is clamped so that the 20 px
//      box stays inside the frame (a lopsided "7" would otherwise lose ink off the edge).
//
// Input: `ink` is width*height values, row-major, ink high and background 0. A Uint8Array is read
// as 0..255, a Float32Array as 0..1. Output: a fresh 28*28 Float32Array in [0,1], or null when
// there is no ink at all (nothing above the threshold). Cost: O(width*height) with two separable
// passes; about 10 µs for a 28x28 input.

import { axisKernel } from './resample.ts';

export const FRAME_SIZE = 28;
export const BOX_SIZE = 20;
/** Centre of mass target in pixel-index coordinates (measured on MNIST, see above). */
export const CENTER_TARGET = 14;
export const MNIST_MEAN = 0.1307;
export const MNIST_STD = 0.3081;

export type InkMap = Float32Array | Uint8Array;

export interface FrameOptions {
  /** Pixels at or below this (on the 0..1 scale) do not count for the bounding box. Default 0.02. */
  inkThreshold?: number;
  /** Stretch the output so its peak is exactly 1. Default true. */
  normalizePeak?: boolean;
}

export interface BlankOptions {
  /** A pixel counts as ink above this value (0..1 scale). Default 0.2. */
  threshold?: number;
  /** Fewer ink pixels than max(minPixels, minFraction * area) means blank. Defaults 4 and 0.0002. */
  minPixels?: number;
  minFraction?: number;
}

function scaleOf(ink: InkMap): number {
  return ink instanceof Uint8Array ? 1 / 255 : 1;
}

function checkInput(ink: InkMap, width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`frameDigit: width and height must be positive integers (got ${width}x${height})`);
  }
  if (ink.length !== width * height) {
    throw new RangeError(`frameDigit: ink has ${ink.length} values but ${width}x${height} needs ${width * height}`);
  }
}

/** True when the map holds (almost) no ink: the service answers such input with 422 no_digit
 *  instead of guessing. */
export function isBlank(ink: InkMap, width: number, height: number, opts: BlankOptions = {}): boolean {
  checkInput(ink, width, height);
  const threshold = (opts.threshold ?? 0.2) / scaleOf(ink);
  const needed = Math.max(opts.minPixels ?? 4, (opts.minFraction ?? 0.0002) * width * height);
  let count = 0;
  for (let i = 0; i < ink.length; i++) {
    if (ink[i] > threshold && ++count >= needed) return false;
  }
  return true;
}

/** Crop, fit in 20x20, centre by mass in 28x28. Returns null when nothing is above the threshold. */
export function frameDigit(ink: InkMap, width: number, height: number, opts: FrameOptions = {}): Float32Array | null {
  checkInput(ink, width, height);
  const unit = scaleOf(ink);
  const threshold = (opts.inkThreshold ?? 0.02) / unit;

  // 1. Bounding box of ink.
  let x0 = width;
  let x1 = -1;
  let y0 = height;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    let rowMin = -1;
    let rowMax = -1;
    for (let x = 0; x < width; x++) {
      if (ink[row + x] > threshold) {
        if (rowMin < 0) rowMin = x;
        rowMax = x;
      }
    }
    if (rowMin >= 0) {
      if (y0 === height) y0 = y;
      y1 = y;
      if (rowMin < x0) x0 = rowMin;
      if (rowMax > x1) x1 = rowMax;
    }
  }
  if (y1 < 0) return null;
  const bw = x1 - x0 + 1;
  const bh = y1 - y0 + 1;

  // 2. Resample the crop to ow x oh with the long side = 20.
  const fit = BOX_SIZE / Math.max(bw, bh);
  const ow = Math.max(1, Math.min(BOX_SIZE, Math.round(bw * fit)));
  const oh = Math.max(1, Math.min(BOX_SIZE, Math.round(bh * fit)));
  const kx = axisKernel(bw, ow);
  const ky = axisKernel(bh, oh);

  // Horizontal pass: bh rows of the crop -> tmp [bh, ow].
  const tmp = new Float32Array(bh * ow);
  for (let y = 0; y < bh; y++) {
    const src = (y0 + y) * width + x0;
    const dst = y * ow;
    for (let i = 0; i < ow; i++) {
      let acc = 0;
      const s0 = src + kx.start[i];
      const w0 = kx.offset[i];
      for (let t = 0, n = kx.count[i]; t < n; t++) acc += ink[s0 + t] * kx.weights[w0 + t];
      tmp[dst + i] = acc;
    }
  }
  // Vertical pass: tmp -> box [oh, ow], tracking the peak, mass and centre of mass.
  const box = new Float32Array(oh * ow);
  let peak = 0;
  let mass = 0;
  let mx = 0;
  let my = 0;
  for (let j = 0; j < oh; j++) {
    const r0 = ky.start[j];
    const w0 = ky.offset[j];
    const n = ky.count[j];
    for (let i = 0; i < ow; i++) {
      let acc = 0;
      for (let t = 0; t < n; t++) acc += tmp[(r0 + t) * ow + i] * ky.weights[w0 + t];
      box[j * ow + i] = acc;
      if (acc > peak) peak = acc;
      mass += acc;
      mx += acc * i;
      my += acc * j;
    }
  }
  if (peak <= 0 || mass <= 0) return null;

  // 3. Peak to 1 (or just to the 0..1 scale).
  const gain = opts.normalizePeak === false ? unit : 1 / peak;

  // 4. Integer offset putting the centre of mass nearest to (14, 14), box kept inside the frame.
  const ox = Math.min(FRAME_SIZE - ow, Math.max(0, Math.round(CENTER_TARGET - mx / mass)));
  const oy = Math.min(FRAME_SIZE - oh, Math.max(0, Math.round(CENTER_TARGET - my / mass)));
  const out = new Float32Array(FRAME_SIZE * FRAME_SIZE);
  for (let j = 0; j < oh; j++) {
    const dst = (oy + j) * FRAME_SIZE + ox;
    for (let i = 0; i < ow; i++) {
      const v = box[j * ow + i] * gain;
      out[dst + i] = v > 1 ? 1 : v;
    }
  }
  return out;
}

/** MNIST normalisation (x − 0.1307) / 0.3081, the input the seed CNN expects. Writes into `out`
 *  (which may be `x` itself, or a slice of a batch buffer at `outOffset`) and returns it. */
export function normalizeMnist(x: Float32Array, out: Float32Array = new Float32Array(x.length), outOffset = 0): Float32Array {
  if (outOffset + x.length > out.length) {
    throw new RangeError(`normalizeMnist: out has room for ${out.length - outOffset} values, need ${x.length}`);
  }
  const inv = 1 / MNIST_STD;
  for (let i = 0; i < x.length; i++) out[outOffset + i] = (x[i] - MNIST_MEAN) * inv;
  return out;
}

/** Centre of mass (x, y) in pixel-index coordinates, or null for an all-zero map. */
export function centerOfMass(img: Float32Array, width: number, height: number): { x: number; y: number } | null {
  let mass = 0;
  let mx = 0;
  let my = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = img[y * width + x];
      mass += v;
      mx += v * x;
      my += v * y;
    }
  }
  return mass > 0 ? { x: mx / mass, y: my / mass } : null;
}
