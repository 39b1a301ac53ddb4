// The load generators' request body: a canvas-like 280x280 RGBA PNG, a "7" in black strokes on
// transparency, as a browser's canvas.toBlob exports it (bench:api, test:deploy).
import sharp from 'sharp';

export function canvasPng(): Promise<Buffer> {
  const w = 280;
  const h = 280;
  const rgba = Buffer.alloc(w * h * 4);
  const segs = [[80, 60, 200, 60], [200, 60, 120, 230]];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let d = Infinity;
      for (const [x0, y0, x1, y1] of segs) {
        const dx = x1 - x0;
        const dy = y1 - y0;
        const tt = Math.max(0, Math.min(1, ((x - x0) * dx + (y - y0) * dy) / (dx * dx + dy * dy)));
        d = Math.min(d, Math.hypot(x - x0 - tt * dx, y - y0 - tt * dy));
      }
      rgba[(y * w + x) * 4 + 3] = Math.round(Math.max(0, Math.min(1, 9 - d + 0.5)) * 255);
    }
  }
  return sharp(rgba, { raw: { width: w, height: h, channels: 4 } }).png().toBuffer();
}
