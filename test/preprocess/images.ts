// Synthetic test images: digit-like shapes drawn with anti-aliased strokes into RGBA buffers, with
// the variations the preprocessing must survive (size, offset, thickness, colours, transparency,
// gradient lighting, paper texture). Encoded with sharp.
import sharp from 'sharp';

export type Segment = [number, number, number, number]; // x0, y0, x1, y1 in the unit digit box

/** A "7": top bar and a diagonal. */
export const SEVEN: Segment[] = [
  [0.1, 0.05, 0.9, 0.05],
  [0.9, 0.05, 0.35, 0.95],
];
/** A "0" as a 16-gon ring (aspect 0.6). */
export const ZERO: Segment[] = Array.from({ length: 16 }, (_, i) => {
  const a0 = (i / 16) * 2 * Math.PI;
  const a1 = ((i + 1) / 16) * 2 * Math.PI;
  return [0.5 + 0.3 * Math.cos(a0), 0.5 + 0.45 * Math.sin(a0), 0.5 + 0.3 * Math.cos(a1), 0.5 + 0.45 * Math.sin(a1)] as Segment;
});
/** A "1": one vertical stroke. */
export const ONE: Segment[] = [[0.5, 0.02, 0.5, 0.98]];

export interface DrawOptions {
  width: number;
  height: number;
  /** Digit box in pixels. */
  box: { x: number; y: number; w: number; h: number };
  /** Stroke width in pixels. */
  thickness: number;
  ink?: [number, number, number];
  paper?: [number, number, number];
  /** Transparent background (paper ignored): strokes opaque on alpha 0. */
  transparent?: boolean;
  /** Multiply brightness from (1 - gradient) at the left to 1 at the right. */
  gradient?: number;
  /** Uniform noise amplitude (0..255) added to every channel (paper texture, sensor noise). */
  noise?: number;
  seed?: number;
}

function segDist(px: number, py: number, s: number[]): number {
  const [x0, y0, x1, y1] = s;
  const dx = x1 - x0;
  const dy = y1 - y0;
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((px - x0) * dx + (py - y0) * dy) / len2));
  return Math.hypot(px - (x0 + t * dx), py - (y0 + t * dy));
}

export function drawDigit(segments: Segment[], o: DrawOptions): Uint8Array {
  const { width, height, box, thickness } = o;
  const ink = o.ink ?? [0, 0, 0];
  const paper = o.paper ?? [255, 255, 255];
  const px = segments.map(([a, b, c, d]) => [box.x + a * box.w, box.y + b * box.h, box.x + c * box.w, box.y + d * box.h]);
  const out = new Uint8Array(width * height * 4);
  let seed = o.seed ?? 1;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const half = thickness / 2;
  const x0 = Math.max(0, Math.floor(box.x - half - 2));
  const x1 = Math.min(width, Math.ceil(box.x + box.w + half + 2));
  const y0 = Math.max(0, Math.floor(box.y - half - 2));
  const y1 = Math.min(height, Math.ceil(box.y + box.h + half + 2));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let cover = 0;
      if (x >= x0 && x < x1 && y >= y0 && y < y1) {
        let d = Infinity;
        for (const s of px) d = Math.min(d, segDist(x + 0.5, y + 0.5, s));
        cover = Math.max(0, Math.min(1, half - d + 0.5));
      }
      const i = (y * width + x) * 4;
      if (o.transparent) {
        out[i] = ink[0];
        out[i + 1] = ink[1];
        out[i + 2] = ink[2];
        out[i + 3] = Math.round(cover * 255);
        continue;
      }
      const light = o.gradient ? 1 - o.gradient * (1 - x / width) : 1;
      for (let c = 0; c < 3; c++) {
        let v = (paper[c] * (1 - cover) + ink[c] * cover) * light;
        if (o.noise) v += (rand() - 0.5) * 2 * o.noise;
        out[i + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
      out[i + 3] = 255;
    }
  }
  return out;
}

export async function encode(rgba: Uint8Array, width: number, height: number, format: 'png' | 'jpeg' | 'webp' | 'gif', quality = 80): Promise<Buffer> {
  const s = sharp(Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength), { raw: { width, height, channels: 4 } });
  if (format === 'png') return s.png().toBuffer();
  if (format === 'jpeg') return s.flatten({ background: '#ffffff' }).jpeg({ quality }).toBuffer();
  if (format === 'webp') return s.webp({ quality }).toBuffer();
  return s.gif().toBuffer();
}

/** Pearson correlation of two 28x28 frames. */
export function correlation(a: Float32Array, b: Float32Array): number {
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < a.length; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= a.length;
  mb /= b.length;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < a.length; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** Best correlation of a against b shifted by up to `maxShift` pixels (integer centring may round
 *  a half-pixel either way; this compares shapes). */
export function shiftedCorrelation(a: Float32Array, b: Float32Array, maxShift = 1): number {
  let best = -1;
  for (let dy = -maxShift; dy <= maxShift; dy++) {
    for (let dx = -maxShift; dx <= maxShift; dx++) {
      const s = new Float32Array(784);
      for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) {
        const sx = x - dx;
        const sy = y - dy;
        if (sx >= 0 && sx < 28 && sy >= 0 && sy < 28) s[y * 28 + x] = b[sy * 28 + sx];
      }
      best = Math.max(best, correlation(a, s));
    }
  }
  return best;
}
