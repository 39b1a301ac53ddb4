// From a decoded RGBA image to a clean ink map (ink high, background 0), plus the thumbnail.
//
// 1. Working resolution: images with a long side over WORK_MAX are area-averaged down by an
//    integer factor (premultiplied RGBA, so transparent pixels do not bleed their colour); a
//    280x280 canvas becomes 94x94. The 28x28 result only needs the digit's crop at >= 20 px.
//    The composited working image doubles as the stored thumbnail.
// 2. Transparency: canvas exports are transparent with opaque strokes. Composite over white when
//    the visible pixels are dark on average, over black when they are light, so the strokes
//    always contrast with what replaces the transparency.
// 3. Polarity: the background level is the median luminance of the border ring; whichever side of
//    it holds more far-off mass (darker or lighter) is the ink. The ink signal is 1 − min(R,G,B)
//    for dark ink (a red or yellow pen is dark in some channel) or max(R,G,B) for light ink.
// 4. Uneven lighting (photos of paper): the background signal is a robust quadratic surface fit
//    (ink excluded as outliers; follows gradients and vignetting up to the edges); ink is the
//    signal above it relative to the headroom left, (s − bg) / max(0.35, 1 − bg) (the floor keeps
//    noise on bright paper from being amplified). The fit's residual sigma sets a noise floor
//    (4 sigma) under the threshold.
// 5. Noise: Otsu's threshold (clamped to [max(0.2, noise floor), 0.6]) gives the stroke mask; 8-connected components
//    under 5% of the largest are dropped (specks, JPEG ringing, paper texture); pixels next to a
//    kept stroke keep their grey value (anti-aliasing); the rest is 0. When the largest component
//    is itself a speck, there is no digit (strokePixels 0). Values are divided by the
//    median stroke value and clipped at 1, so stroke cores saturate like MNIST's.
import type { RgbaImage } from './png.ts';
import { fitBackground, otsuThreshold, connectedComponents, median01 } from './ink-ops.ts';

/** Long side of the working image, which is also the stored thumbnail (at most 128 px). */
export const WORK_MAX = 128;

// Scratch buffers reused across calls (the working image is at most WORK_MAX² pixels, and
// inkMapFromRgba is synchronous, so one set per process is safe). They spare ~0.5 MB of
// allocation per image, which at a thousand images a second is most of the GC work. Only the
// returned arrays (the ink map, the thumbnail) are fresh.
const MAX_N = WORK_MAX * WORK_MAX;
const scratch = {
  px: new Float32Array(MAX_N * 4),
  rgb: new Float32Array(MAX_N * 3),
  ring: new Float32Array(MAX_N),
  signal: new Float32Array(MAX_N),
  ink: new Float32Array(MAX_N),
  mask: new Uint8Array(MAX_N),
  keep: new Uint8Array(MAX_N),
  strokes: new Float32Array(MAX_N),
  grown: new Uint8Array(MAX_N),
  labels: new Int32Array(MAX_N),
  stack: new Int32Array(MAX_N),
};

export interface InkMapResult {
  ink: Float32Array;
  width: number;
  height: number;
  /** Number of pixels in the kept strokes (0 means nothing that looks like ink). */
  strokePixels: number;
  /** 'dark' ink on a light background or 'light' ink on a dark one. */
  polarity: 'dark' | 'light';
  /** The composited working image as RGB bytes, at most WORK_MAX on the long side. */
  thumbnail: { rgb: Uint8Array; width: number; height: number };
}

const ZERO_ROW = Buffer.alloc(4096 * 4);

/** Premultiplied float RGBA at the working resolution: k x k block averages with the smallest
 *  integer k that brings the long side to WORK_MAX or below (exact area averaging, one pass; edge
 *  blocks that stick out average only the pixels they hold). */
/** The working size of a width x height image: k x k blocks, long side at most WORK_MAX. */
export function workingSize(width: number, height: number): { k: number; width: number; height: number } {
  const k = Math.max(1, Math.ceil(Math.max(width, height) / WORK_MAX));
  return { k, width: Math.ceil(width / k), height: Math.ceil(height / k) };
}

function toWorking(img: RgbaImage): { px: Float32Array; width: number; height: number } {
  const { k, width, height } = workingSize(img.width, img.height);
  const px = scratch.px.subarray(0, width * height * 4);
  px.fill(0);
  const d = img.data;
  const inv = 1 / 255;
  const inv2 = inv * inv;
  // Sum each k-pixel run of a row in locals (integers), then add the run to its output pixel
  // once: one read-modify-write per k pixels instead of per pixel.
  const srcW = img.width;
  const rowStride = img.stride ?? srcW * 4;
  const rowOffset = img.offset ?? 0;
  // Rows that are all zero bytes (transparent black: most rows of a canvas export) add nothing:
  // one native memcmp per row skips them instead of a JS loop over every pixel.
  const rowBytes = srcW * 4;
  const zeros = rowBytes <= ZERO_ROW.length ? ZERO_ROW : null;
  const buf = Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  for (let y = 0; y < img.height; y++) {
    const orow = Math.floor(y / k) * width * 4;
    let s = rowOffset + y * rowStride;
    if (zeros && buf.compare(zeros, 0, rowBytes, s, s + rowBytes) === 0) continue;
    for (let bx = 0; bx < width; bx++) {
      const xEnd = Math.min(srcW, (bx + 1) * k);
      let sr = 0;
      let sg = 0;
      let sb = 0;
      let sa = 0;
      for (let x = bx * k; x < xEnd; x++, s += 4) {
        const a = d[s + 3];
        if (a === 0) continue; // fully transparent (most of a canvas): contributes nothing
        sr += d[s] * a;
        sg += d[s + 1] * a;
        sb += d[s + 2] * a;
        sa += a;
      }
      if (sa !== 0) {
        const o = orow + bx * 4;
        px[o] += sr * inv2;
        px[o + 1] += sg * inv2;
        px[o + 2] += sb * inv2;
        px[o + 3] += sa * inv;
      }
    }
  }
  if (k > 1) {
    for (let by = 0; by < height; by++) {
      const rows = Math.min(k, img.height - by * k);
      for (let bx = 0; bx < width; bx++) {
        const norm = 1 / (rows * Math.min(k, img.width - bx * k));
        const o = (by * width + bx) * 4;
        px[o] *= norm;
        px[o + 1] *= norm;
        px[o + 2] *= norm;
        px[o + 3] *= norm;
      }
    }
  }
  return { px, width, height };
}

/** The reference implementation (TypeScript). The service calls `inkMap` (ink-native.ts), which is
 *  this same computation in C++ when the cpu addon is built, bit for bit. */
export function inkMapFromRgba(img: RgbaImage): InkMapResult {
  const { px, width, height } = toWorking(img);
  const n = width * height;

  // 2. Composite over a contrasting colour where there is transparency.
  let alphaSum = 0;
  let lumAlpha = 0;
  let minAlpha = 1;
  for (let j = 0; j < n * 4; j += 4) {
    const a = px[j + 3];
    alphaSum += a;
    if (a < minAlpha) minAlpha = a;
    lumAlpha += 0.299 * px[j] + 0.587 * px[j + 1] + 0.114 * px[j + 2]; // premultiplied: = lum·a
  }
  const transparent = minAlpha < 0.999;
  const under = transparent && alphaSum > 0 && lumAlpha / alphaSum > 0.5 ? 0 : 1;

  // 3. Polarity: the border ring's median luminance is the background level (composited on the
  //    fly for the ring only, so the full passes below can use it).
  const ring = Math.max(1, Math.round(0.04 * Math.min(width, height)));
  const ringVals = scratch.ring.subarray(0, n);
  let ringCount = 0;
  for (let y = 0; y < height; y++) {
    const inner = y >= ring && y < height - ring;
    for (let x = 0; x < width; x += inner && x === ring - 1 && width - 2 * ring + 1 > 1 ? width - 2 * ring + 1 : 1) {
      const j = (y * width + x) * 4;
      const rest = (1 - px[j + 3]) * under;
      ringVals[ringCount++] = 0.299 * (px[j] + rest) + 0.587 * (px[j + 1] + rest) + 0.114 * (px[j + 2] + rest);
    }
  }
  const bgLum = median01(ringVals, ringCount);

  // One pass: composite, and the mass darker / lighter than the background.
  const rgb = scratch.rgb.subarray(0, n * 3);
  let darkMass = 0;
  let lightMass = 0;
  for (let i = 0, j = 0, c = 0; i < n; i++, j += 4, c += 3) {
    const rest = (1 - px[j + 3]) * under;
    const r = px[j] + rest;
    const g = px[j + 1] + rest;
    const b = px[j + 2] + rest;
    rgb[c] = r;
    rgb[c + 1] = g;
    rgb[c + 2] = b;
    const dlt = 0.299 * r + 0.587 * g + 0.114 * b - bgLum;
    if (dlt < -0.1) darkMass -= dlt;
    else if (dlt > 0.1) lightMass += dlt;
  }
  const polarity: 'dark' | 'light' = darkMass >= lightMass ? 'dark' : 'light';

  const signal = scratch.signal.subarray(0, n);
  if (polarity === 'dark') {
    for (let i = 0, j = 0; i < n; i++, j += 3) {
      const r = rgb[j], g = rgb[j + 1], b = rgb[j + 2];
      signal[i] = 1 - (r < g ? (r < b ? r : b) : g < b ? g : b);
    }
  } else {
    for (let i = 0, j = 0; i < n; i++, j += 3) {
      const r = rgb[j], g = rgb[j + 1], b = rgb[j + 2];
      signal[i] = r > g ? (r > b ? r : b) : g > b ? g : b;
    }
  }

  // 4. Local background under the strokes. Skipped when the background came from transparency
  //    (a canvas): the composited background is then exactly 0 signal.
  let ink = signal;
  let noiseFloor = 0;
  if (!transparent) {
    const { bg, sigma } = fitBackground(signal, width, height);
    ink = scratch.ink.subarray(0, n);
    let headroom = 0;
    for (let i = 0; i < n; i++) {
      const room = Math.max(0.35, 1 - bg[i]);
      headroom += room;
      const v = (signal[i] - bg[i]) / room;
      ink[i] = v > 0 ? (v < 1 ? v : 1) : 0;
    }
    noiseFloor = (4 * sigma) / (headroom / n);
  }

  // 5. Threshold, drop specks, keep anti-aliased edges, normalise stroke level.
  const threshold = Math.min(0.6, Math.max(0.2, noiseFloor, otsuThreshold(ink)));
  const mask = scratch.mask.subarray(0, n);
  for (let i = 0; i < n; i++) mask[i] = ink[i] > threshold ? 1 : 0;
  const { labels, areas } = connectedComponents(mask, width, height, scratch.labels, scratch.stack);
  let largest = 0;
  let largestLabel = 0;
  for (let k = 0; k < areas.length; k++) {
    if (areas[k] > largest) {
      largest = areas[k];
      largestLabel = k + 1;
    }
  }
  // No digit when even the largest stroke is a speck: under max(10 px, 0.15% of the image) or
  // spanning under 8% of the long side (paper texture and sensor noise make many such specks).
  let span = 0;
  if (largestLabel) {
    let x0 = width, x1 = -1, y0 = height, y1 = -1;
    for (let i = 0; i < n; i++) {
      if (labels[i] !== largestLabel) continue;
      const x = i % width;
      const y = (i - x) / width;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
    span = Math.max(x1 - x0 + 1, y1 - y0 + 1);
  }
  const isDigit = largest >= Math.max(10, 0.0015 * n) && span >= 0.08 * Math.max(width, height);
  const keepArea = isDigit ? Math.max(2, 0.05 * largest) : Infinity;
  const keep = scratch.keep.subarray(0, n);
  keep.fill(0);
  const strokeVals = scratch.strokes.subarray(0, n);
  let strokePixels = 0;
  for (let i = 0; i < n; i++) {
    const l = labels[i];
    if (l && areas[l - 1] >= keepArea) {
      keep[i] = 1;
      strokeVals[strokePixels++] = ink[i];
    }
  }
  const out = new Float32Array(n);
  if (strokePixels > 0) {
    // Grow the kept strokes by one pixel (3x3 dilation, separable) to keep anti-aliased edges.
    const grownRows = scratch.grown.subarray(0, n);
    for (let y = 0; y < height; y++) {
      const row = y * width;
      for (let x = 0; x < width; x++) {
        const i = row + x;
        grownRows[i] = keep[i] | (x > 0 ? keep[i - 1] : 0) | (x + 1 < width ? keep[i + 1] : 0);
      }
    }
    const level = Math.max(threshold, median01(strokeVals, strokePixels));
    const inv = 1 / level;
    const edgeFloor = threshold / 3;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = y * width + x;
        const v = ink[i];
        if (keep[i] || (v > edgeFloor && (grownRows[i] | (y > 0 ? grownRows[i - width] : 0) | (y + 1 < height ? grownRows[i + width] : 0)))) {
          const w = v * inv;
          out[i] = w < 1 ? w : 1;
        }
      }
    }
  }

  const thumb = new Uint8Array(n * 3);
  for (let i = 0; i < n * 3; i++) {
    const v = rgb[i];
    thumb[i] = v <= 0 ? 0 : v >= 1 ? 255 : (v * 255 + 0.5) | 0;
  }

  return { ink: out, width, height, strokePixels, polarity, thumbnail: { rgb: thumb, width, height } };
}
