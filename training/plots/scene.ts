// A chart as a flat list of drawing primitives, rendered by two back ends: SVG (svg.ts) and a
// small anti-aliased rasteriser to PNG (raster.ts). Charts are built once (charts.ts) and both
// files come from the same scene, so they always agree. Coordinates are pixels, origin top left.

export type Color = string; // '#rrggbb'

export type Shape =
  | { kind: 'rect'; x: number; y: number; w: number; h: number; fill?: Color; stroke?: Color; strokeWidth?: number }
  | { kind: 'line'; points: [number, number][]; stroke: Color; width: number; dash?: boolean }
  | {
      kind: 'text';
      x: number;
      y: number;
      text: string;
      size: number;
      fill: Color;
      /** Horizontal alignment at x; text is vertically centred on y. */
      anchor: 'start' | 'middle' | 'end';
      /** Rotate 90° counter-clockwise about (x, y) (y-axis titles). */
      vertical?: boolean;
      bold?: boolean;
    }
  | { kind: 'circle'; x: number; y: number; r: number; fill: Color };

export interface Scene {
  width: number;
  height: number;
  background: Color;
  shapes: Shape[];
}

export function parseColor(c: Color): [number, number, number] {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(c);
  if (!m) throw new Error(`colour ${c} is not #rrggbb`);
  return [parseInt(m[1], 16), parseInt(m[2], 16), parseInt(m[3], 16)];
}

/** Linear blend of two colours, t in [0, 1]. */
export function mixColor(a: Color, b: Color, t: number): Color {
  const ca = parseColor(a);
  const cb = parseColor(b);
  const hex = (i: number) => Math.round(ca[i] + (cb[i] - ca[i]) * t).toString(16).padStart(2, '0');
  return `#${hex(0)}${hex(1)}${hex(2)}`;
}
