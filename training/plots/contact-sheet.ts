// The misclassified test images as one PNG: each tile is the 28x28 input (white ink on black,
// as the model saw it) scaled 2x, captioned "true→predicted" with the confidence below.
import { fontScale, GLYPH_HEIGHT } from './font.ts';
import { Raster } from './raster.ts';

export interface SheetItem {
  /** 784 values in 0..1. */
  pixels: Float32Array;
  label: number;
  predicted: number;
  confidence: number;
  /** Test-set index, shown in the caption. */
  index: number;
}

export function contactSheetPng(items: SheetItem[], title: string, columns = 16, zoom = 2): Buffer {
  const side = 28 * zoom;
  const captionSize = 8 * zoom;
  const lineH = GLYPH_HEIGHT * fontScale(captionSize) + 4;
  const tileW = Math.max(side, 6 * 6 * fontScale(captionSize)) + 10;
  const tileH = side + 3 * lineH + 10;
  const header = 40;
  const cols = Math.max(1, Math.min(columns, items.length || 1));
  const rows = Math.max(1, Math.ceil(items.length / cols));
  const r = new Raster(cols * tileW + 10, header + rows * tileH + 10);
  r.text(10, 20, title, 16, [34, 34, 34], 'start');
  if (items.length === 0) r.text(10, header + 20, 'no misclassified images', 16, [34, 34, 34], 'start');
  items.forEach((it, k) => {
    const x = 10 + (k % cols) * tileW;
    const y = header + Math.floor(k / cols) * tileH;
    const ox = x + Math.floor((tileW - 10 - side) / 2);
    r.image(ox, y, it.pixels, 28, 28, zoom);
    const cx = x + (tileW - 10) / 2;
    r.text(cx, y + side + lineH / 2 + 2, `${it.label}→${it.predicted}`, captionSize, [198, 40, 40], 'middle');
    r.text(cx, y + side + lineH * 1.5 + 2, `${Math.round(it.confidence * 100)}%`, captionSize, [80, 80, 80], 'middle');
    r.text(cx, y + side + lineH * 2.5 + 2, `#${it.index}`, captionSize, [140, 140, 140], 'middle');
  });
  return r.toPng();
}
