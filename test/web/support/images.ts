// PNG files for the upload tests, made here (no fixtures to keep in sync).
import { PNG } from 'pngjs';

/** A white 280x280 image with a black upright "1" (a thick slightly slanted bar), or blank. */
export function digitOnePng(options: { blank?: boolean } = {}): Buffer {
  const size = 280;
  const png = new PNG({ width: size, height: size });
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      // Bar centre moves 20 px to the right from bottom to top; 26 px wide; rows 50..230.
      const centre = 140 + ((140 - y) / 180) * 20;
      const ink = !options.blank && y >= 50 && y <= 230 && Math.abs(x - centre) <= 13;
      const i = (y * size + x) * 4;
      const v = ink ? 0 : 255;
      png.data[i] = v;
      png.data[i + 1] = v;
      png.data[i + 2] = v;
      png.data[i + 3] = 255;
    }
  }
  return PNG.sync.write(png);
}
