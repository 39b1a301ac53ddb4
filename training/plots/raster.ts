// Scene -> pixels -> PNG. A tiny rasteriser: rectangles, anti-aliased polylines and circles
// (coverage from the distance to the centre line), and the 5x7 bitmap font at integer scales.
import { encodePng } from '../../src/preprocess/png.ts';
import { fontScale, glyph, GLYPH_ADVANCE, GLYPH_HEIGHT, GLYPH_WIDTH, textWidth } from './font.ts';
import { parseColor, type Scene, type Shape } from './scene.ts';

export class Raster {
  readonly rgb: Uint8Array;

  constructor(readonly width: number, readonly height: number, background: [number, number, number] = [255, 255, 255]) {
    this.rgb = new Uint8Array(width * height * 3);
    for (let i = 0; i < width * height; i++) this.rgb.set(background, i * 3);
  }

  blend(x: number, y: number, c: [number, number, number], alpha: number): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height || alpha <= 0) return;
    const i = (y * this.width + x) * 3;
    const a = alpha > 1 ? 1 : alpha;
    for (let k = 0; k < 3; k++) this.rgb[i + k] = Math.round(this.rgb[i + k] + (c[k] - this.rgb[i + k]) * a);
  }

  fillRect(x: number, y: number, w: number, h: number, c: [number, number, number]): void {
    const x0 = Math.max(0, Math.round(x));
    const y0 = Math.max(0, Math.round(y));
    const x1 = Math.min(this.width, Math.round(x + w));
    const y1 = Math.min(this.height, Math.round(y + h));
    for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) this.blend(xx, yy, c, 1);
  }

  /** Anti-aliased polyline: coverage = clamp(width/2 + 0.5 − distance), max over segments. */
  polyline(points: [number, number][], c: [number, number, number], width: number): void {
    if (points.length < 2) return;
    const half = width / 2;
    let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    for (const [x, y] of points) {
      minX = Math.min(minX, x); maxX = Math.max(maxX, x);
      minY = Math.min(minY, y); maxY = Math.max(maxY, y);
    }
    const bx0 = Math.max(0, Math.floor(minX - half - 1));
    const by0 = Math.max(0, Math.floor(minY - half - 1));
    const bx1 = Math.min(this.width - 1, Math.ceil(maxX + half + 1));
    const by1 = Math.min(this.height - 1, Math.ceil(maxY + half + 1));
    if (bx1 < bx0 || by1 < by0) return;
    const bw = bx1 - bx0 + 1;
    const cover = new Float32Array(bw * (by1 - by0 + 1));
    for (let s = 0; s + 1 < points.length; s++) {
      const [ax, ay] = points[s];
      const [bx, by] = points[s + 1];
      const dx = bx - ax;
      const dy = by - ay;
      const len2 = dx * dx + dy * dy;
      const x0 = Math.max(bx0, Math.floor(Math.min(ax, bx) - half - 1));
      const x1 = Math.min(bx1, Math.ceil(Math.max(ax, bx) + half + 1));
      const y0 = Math.max(by0, Math.floor(Math.min(ay, by) - half - 1));
      const y1 = Math.min(by1, Math.ceil(Math.max(ay, by) + half + 1));
      for (let y = y0; y <= y1; y++) {
        for (let x = x0; x <= x1; x++) {
          const px = x + 0.5;
          const py = y + 0.5;
          let t = len2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / len2 : 0;
          t = t < 0 ? 0 : t > 1 ? 1 : t;
          const ex = ax + t * dx - px;
          const ey = ay + t * dy - py;
          const cov = half + 0.5 - Math.sqrt(ex * ex + ey * ey);
          const i = (y - by0) * bw + (x - bx0);
          if (cov > cover[i]) cover[i] = cov > 1 ? 1 : cov;
        }
      }
    }
    for (let y = by0; y <= by1; y++) for (let x = bx0; x <= bx1; x++) this.blend(x, y, c, cover[(y - by0) * bw + (x - bx0)]);
  }

  circle(cx: number, cy: number, r: number, c: [number, number, number]): void {
    for (let y = Math.floor(cy - r - 1); y <= Math.ceil(cy + r + 1); y++) {
      for (let x = Math.floor(cx - r - 1); x <= Math.ceil(cx + r + 1); x++) {
        const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
        this.blend(x, y, c, r + 0.5 - d);
      }
    }
  }

  /** Bitmap text; (x, y) is the anchor point, text vertically centred on y. */
  text(x: number, y: number, text: string, sizePx: number, c: [number, number, number], anchor: 'start' | 'middle' | 'end', vertical = false, bold = false): void {
    const s = fontScale(sizePx);
    const w = textWidth(text, sizePx);
    const along = anchor === 'start' ? 0 : anchor === 'middle' ? -w / 2 : -w;
    const across = -(GLYPH_HEIGHT * s) / 2;
    for (let k = 0; k < text.length; k++) {
      const g = glyph(text[k]);
      for (let gy = 0; gy < GLYPH_HEIGHT; gy++) {
        for (let gx = 0; gx < GLYPH_WIDTH; gx++) {
          if (!g[gy * GLYPH_WIDTH + gx]) continue;
          // Cell offsets in the text's own frame (u along the baseline, v down).
          const u = along + (k * GLYPH_ADVANCE + gx) * s;
          const v = across + gy * s;
          const extra = bold ? 1 : 0;
          for (let dv = 0; dv < s; dv++) {
            for (let du = 0; du < s + extra; du++) {
              // Vertical text reads bottom to top: u runs up the page, v runs right.
              const px = vertical ? x + v + dv : x + u + du;
              const py = vertical ? y - u - du : y + v + dv;
              this.blend(Math.round(px), Math.round(py), c, 1);
            }
          }
        }
      }
    }
  }

  /** Draws a grayscale image (values 0..1, 1 = white) scaled by an integer factor. */
  image(x: number, y: number, gray: Float32Array, w: number, h: number, scale: number): void {
    for (let j = 0; j < h * scale; j++) {
      for (let i = 0; i < w * scale; i++) {
        const v = Math.round(255 * Math.min(1, Math.max(0, gray[Math.floor(j / scale) * w + Math.floor(i / scale)])));
        this.blend(x + i, y + j, [v, v, v], 1);
      }
    }
  }

  /** The service's own RGB encoder (src/preprocess/png.ts): same pixels as pngjs, 10-40x faster
   *  on these plots and about the same size (src/preprocess/README.md, PNG code paths). */
  toPng(): Buffer {
    return encodePng(this.rgb, this.width, this.height, 3);
  }
}

/** Splits a polyline into dashes of `on` pixels separated by `off`. */
function dashes(points: [number, number][], on = 6, off = 4): [number, number][][] {
  const out: [number, number][][] = [];
  let current: [number, number][] = [];
  let phase = 0; // distance into the current on+off period
  for (let s = 0; s + 1 < points.length; s++) {
    const [ax, ay] = points[s];
    const [bx, by] = points[s + 1];
    const len = Math.hypot(bx - ax, by - ay);
    let pos = 0;
    while (pos < len) {
      const drawing = phase < on;
      const step = Math.min(len - pos, drawing ? on - phase : on + off - phase);
      const p0: [number, number] = [ax + ((bx - ax) * pos) / len, ay + ((by - ay) * pos) / len];
      const p1: [number, number] = [ax + ((bx - ax) * (pos + step)) / len, ay + ((by - ay) * (pos + step)) / len];
      if (drawing) {
        if (current.length === 0) current.push(p0);
        current.push(p1);
      } else if (current.length) {
        out.push(current);
        current = [];
      }
      pos += step;
      phase = (phase + step) % (on + off);
    }
  }
  if (current.length) out.push(current);
  return out;
}

function drawShape(r: Raster, s: Shape): void {
  switch (s.kind) {
    case 'rect':
      if (s.fill) r.fillRect(s.x, s.y, s.w, s.h, parseColor(s.fill));
      if (s.stroke) {
        const c = parseColor(s.stroke);
        const sw = s.strokeWidth ?? 1;
        r.polyline([[s.x, s.y], [s.x + s.w, s.y], [s.x + s.w, s.y + s.h], [s.x, s.y + s.h], [s.x, s.y]], c, sw);
      }
      return;
    case 'line': {
      const c = parseColor(s.stroke);
      if (s.dash) for (const d of dashes(s.points)) r.polyline(d, c, s.width);
      else r.polyline(s.points, c, s.width);
      return;
    }
    case 'circle':
      r.circle(s.x, s.y, s.r, parseColor(s.fill));
      return;
    case 'text':
      r.text(s.x, s.y, s.text, s.size, parseColor(s.fill), s.anchor, s.vertical, s.bold);
      return;
  }
}

export function sceneToPng(scene: Scene): Buffer {
  const r = new Raster(scene.width, scene.height, parseColor(scene.background));
  for (const s of scene.shapes) drawShape(r, s);
  return r.toPng();
}
