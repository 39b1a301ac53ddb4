// Synthetic inputs for the "not a digit" detector (src/model/ood.ts), all drawn on a 280x280
// canvas like the web UI's and sent through the service's own preprocessing (preprocessImage:
// ink map, framing), so the detector sees exactly what the model sees at serving time:
//   - letters rendered from fonts (handwriting and typed faces, fonts.ts), leaving out the letters
//     that ARE digits when written by hand (O o D Q → 0, I l i j → 1, Z z → 2, S s → 5, b G → 6,
//     T → 7, B → 8, g q → 9);
//   - typed numbers of 2-4 digits ("42"), and handwritten ones: 2-3 MNIST training digits side by
//     side;
//   - scribbles: 1-3 random cubic Bézier strokes with a round pen;
// and, as the digits the detector must keep, MNIST digits drawn on the canvas (upscaled, black
// on white) and single digits typed in the same fonts.
import sharp from 'sharp';
import { encodePng, preprocessImage } from '../../src/preprocess/index.ts';
import { SampleRng } from '../rng.ts';
import { fontFile, type FontFace } from './fonts.ts';

export const CANVAS = 280;
export const LETTERS = 'ACEFHKLMNPRUVWXYacdefhkmnprtuvwxy';

export type NonDigitKind = 'letter' | 'typed-number' | 'handwritten-number' | 'scribble';
export const NON_DIGIT_KINDS: NonDigitKind[] = ['letter', 'typed-number', 'handwritten-number', 'scribble'];

/** A canvas of ink coverage in [0, 1] (1 = ink), row-major. */
export interface Canvas {
  width: number;
  height: number;
  ink: Float32Array;
}

export function blankCanvas(width = CANVAS, height = CANVAS): Canvas {
  return { width, height, ink: new Float32Array(width * height) };
}

/** Black ink on white paper, as PNG bytes (what a browser canvas export looks like). */
export function canvasPng(c: Canvas): Buffer {
  const rgb = new Uint8Array(c.width * c.height * 3);
  for (let i = 0; i < c.ink.length; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = Math.round(255 * (1 - Math.min(1, c.ink[i])));
  return encodePng(rgb, c.width, c.height, 3);
}

/** The 28x28 frame (in [0, 1]) the service would feed the model, or null (blank). */
export async function frameOf(c: Canvas): Promise<Float32Array | null> {
  return (await preprocessImage(canvasPng(c))).frame;
}

/** Pastes `src` (w x h coverage) into the canvas at (x, y), scaled by `scale` (bilinear), max-blended. */
export function paste(c: Canvas, src: Float32Array, w: number, h: number, x: number, y: number, scale: number): void {
  const dw = Math.round(w * scale);
  const dh = Math.round(h * scale);
  for (let dy = 0; dy < dh; dy++) {
    const ty = y + dy;
    if (ty < 0 || ty >= c.height) continue;
    const sy = Math.min(h - 1, Math.max(0, (dy + 0.5) / scale - 0.5));
    const y0 = Math.floor(sy);
    const y1 = Math.min(h - 1, y0 + 1);
    const fy = sy - y0;
    for (let dx = 0; dx < dw; dx++) {
      const tx = x + dx;
      if (tx < 0 || tx >= c.width) continue;
      const sx = Math.min(w - 1, Math.max(0, (dx + 0.5) / scale - 0.5));
      const x0 = Math.floor(sx);
      const x1 = Math.min(w - 1, x0 + 1);
      const fx = sx - x0;
      const v = (src[y0 * w + x0] * (1 - fx) + src[y0 * w + x1] * fx) * (1 - fy) + (src[y1 * w + x0] * (1 - fx) + src[y1 * w + x1] * fx) * fy;
      const i = ty * c.width + tx;
      if (v > c.ink[i]) c.ink[i] = v;
    }
  }
}

/** Text in a font as coverage (white-on-black render from sharp's Pango, first channel). */
export async function renderText(text: string, face: FontFace, dpi: number): Promise<{ ink: Float32Array; width: number; height: number }> {
  const { data, info } = await sharp({ text: { text, font: face.family, fontfile: fontFile(face), dpi } })
    .extractChannel(0)
    .raw()
    .toBuffer({ resolveWithObject: true });
  const ink = new Float32Array(info.width * info.height);
  for (let i = 0; i < ink.length; i++) ink[i] = data[i] / 255;
  return { ink, width: info.width, height: info.height };
}

/** Places a rendered text on the canvas at a random size (long side 35-85% of it) and position. */
export function placeRandomly(c: Canvas, src: { ink: Float32Array; width: number; height: number }, rng: SampleRng): void {
  const long = Math.max(src.width, src.height);
  const scale = (rng.range(0.35, 0.85) * c.width) / long;
  const w = Math.round(src.width * scale);
  const h = Math.round(src.height * scale);
  paste(c, src.ink, src.width, src.height, rng.int(Math.max(1, c.width - w)), rng.int(Math.max(1, c.height - h)), scale);
}

/** A round-pen stroke along a cubic Bézier. */
export function strokeBezier(c: Canvas, p: number[], thickness: number): void {
  const pts: [number, number][] = [];
  const steps = 64;
  for (let s = 0; s <= steps; s++) {
    const t = s / steps;
    const a = (1 - t) ** 3;
    const b = 3 * (1 - t) ** 2 * t;
    const d = 3 * (1 - t) * t * t;
    const e = t ** 3;
    pts.push([a * p[0] + b * p[2] + d * p[4] + e * p[6], a * p[1] + b * p[3] + d * p[5] + e * p[7]]);
  }
  const half = thickness / 2;
  for (let k = 0; k + 1 < pts.length; k++) {
    const [x0, y0] = pts[k];
    const [x1, y1] = pts[k + 1];
    const minX = Math.max(0, Math.floor(Math.min(x0, x1) - half - 1));
    const maxX = Math.min(c.width - 1, Math.ceil(Math.max(x0, x1) + half + 1));
    const minY = Math.max(0, Math.floor(Math.min(y0, y1) - half - 1));
    const maxY = Math.min(c.height - 1, Math.ceil(Math.max(y0, y1) + half + 1));
    const dx = x1 - x0;
    const dy = y1 - y0;
    const len2 = dx * dx + dy * dy || 1;
    for (let y = minY; y <= maxY; y++) {
      for (let x = minX; x <= maxX; x++) {
        const px = x + 0.5;
        const py = y + 0.5;
        const t = Math.max(0, Math.min(1, ((px - x0) * dx + (py - y0) * dy) / len2));
        const dist = Math.hypot(px - (x0 + t * dx), py - (y0 + t * dy));
        const cover = Math.max(0, Math.min(1, half - dist + 0.5));
        const i = y * c.width + x;
        if (cover > c.ink[i]) c.ink[i] = cover;
      }
    }
  }
}

export function drawScribble(rng: SampleRng): Canvas {
  const c = blankCanvas();
  const strokes = 1 + rng.int(3);
  const thickness = rng.range(8, 24);
  const m = 30;
  for (let s = 0; s < strokes; s++) {
    const p = Array.from({ length: 8 }, () => rng.range(m, CANVAS - m));
    strokeBezier(c, p, thickness);
  }
  return c;
}

/** MNIST digits (28x28 u8 each) side by side with small random gaps and baselines. */
export function drawHandwrittenNumber(digits: Uint8Array[], rng: SampleRng): Canvas {
  const c = blankCanvas();
  const scale = (CANVAS * rng.range(0.7, 0.95)) / (digits.length * 20 + (digits.length - 1) * 2);
  const totalW = Math.round(digits.length * 22 * scale);
  let x = Math.round((CANVAS - totalW) / 2) + rng.int(20) - 10;
  const yBase = Math.round(CANVAS / 2 - 14 * scale);
  for (const d of digits) {
    const f = Float32Array.from(d, (v) => v / 255);
    // MNIST digits sit in a 20 px box inside 28: overlap the empty margins.
    paste(c, f, 28, 28, x - Math.round(4 * scale), yBase + Math.round(rng.range(-3, 3) * scale), scale);
    x += Math.round(rng.range(18, 23) * scale);
  }
  return c;
}

/** One MNIST digit drawn on the canvas at a random size and place, as a user would draw it. */
export function drawMnistDigit(pixels: Uint8Array, rng: SampleRng): Canvas {
  const c = blankCanvas();
  const f = Float32Array.from(pixels, (v) => v / 255);
  const scale = rng.range(4, 9.5);
  const size = Math.round(28 * scale);
  paste(c, f, 28, 28, rng.int(Math.max(1, CANVAS - size + 40)) - 20, rng.int(Math.max(1, CANVAS - size + 40)) - 20, scale);
  return c;
}

export interface NonDigitOptions {
  count: number;
  fonts: FontFace[];
  seed: number;
  /** MNIST digits (28x28 u8 each, concatenated) for handwritten numbers. */
  digitPixels: Uint8Array;
  digitCount: number;
}

export interface FrameSet {
  count: number;
  /** count x 784 in [0, 1]. */
  frames: Float32Array;
  kinds: string[];
  /** What each sample shows, e.g. the letter or number. */
  texts: string[];
}

/** `count` non-digits, the four kinds in turn, drawn from `seed`. Samples the preprocessing
 *  finds blank are redrawn. */
export async function nonDigits(opts: NonDigitOptions): Promise<FrameSet> {
  const rng = new SampleRng(opts.seed);
  const frames = new Float32Array(opts.count * 784);
  const kinds: string[] = [];
  const texts: string[] = [];
  for (let i = 0; i < opts.count; ) {
    const kind = NON_DIGIT_KINDS[i % NON_DIGIT_KINDS.length];
    let canvas: Canvas;
    let text = '';
    if (kind === 'letter' || kind === 'typed-number') {
      const face = opts.fonts[rng.int(opts.fonts.length)];
      if (kind === 'letter') text = LETTERS[rng.int(LETTERS.length)];
      else text = Array.from({ length: 2 + rng.int(3) }, () => String(rng.int(10))).join('');
      canvas = blankCanvas();
      placeRandomly(canvas, await renderText(text, face, 300), rng);
      text = `${text} (${face.family})`;
    } else if (kind === 'handwritten-number') {
      const n = 2 + rng.int(2);
      const digits = Array.from({ length: n }, () => {
        const k = rng.int(opts.digitCount);
        return opts.digitPixels.subarray(k * 784, (k + 1) * 784);
      });
      canvas = drawHandwrittenNumber(digits, rng);
    } else {
      canvas = drawScribble(rng);
    }
    const frame = await frameOf(canvas);
    if (!frame) continue;
    frames.set(frame, i * 784);
    kinds.push(kind);
    texts.push(text);
    i++;
  }
  return { count: opts.count, frames, kinds, texts };
}

/** Digits through the same canvas and preprocessing: MNIST digits drawn on the canvas, and
 *  (one in `typedEvery`) a single digit typed in one of the fonts. Labels are returned too. */
export async function canvasDigits(opts: { pixels: Uint8Array; labels: Uint8Array; count: number; seed: number; fonts: FontFace[]; typedEvery?: number }): Promise<FrameSet & { labels: Uint8Array }> {
  const rng = new SampleRng(opts.seed);
  const frames = new Float32Array(opts.count * 784);
  const labels = new Uint8Array(opts.count);
  const kinds: string[] = [];
  const texts: string[] = [];
  const typedEvery = opts.typedEvery ?? 10;
  let src = 0;
  for (let i = 0; i < opts.count; ) {
    let canvas: Canvas;
    let label: number;
    let kind: string;
    if (opts.fonts.length > 0 && i % typedEvery === typedEvery - 1) {
      label = rng.int(10);
      const face = opts.fonts[rng.int(opts.fonts.length)];
      canvas = blankCanvas();
      placeRandomly(canvas, await renderText(String(label), face, 300), rng);
      kind = `typed digit (${face.family})`;
    } else {
      const k = src++ % (opts.pixels.length / 784);
      label = opts.labels[k];
      canvas = drawMnistDigit(opts.pixels.subarray(k * 784, (k + 1) * 784), rng);
      kind = 'drawn MNIST digit';
    }
    const frame = await frameOf(canvas);
    if (!frame) continue;
    frames.set(frame, i * 784);
    labels[i] = label;
    kinds.push(kind);
    texts.push(String(label));
    i++;
  }
  return { count: opts.count, frames, labels, kinds, texts };
}
