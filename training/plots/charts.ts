// The charts `inkling train` / `inkling eval` write: training curves (loss, accuracy, learning
// rate per epoch), the confusion matrix, and the reliability diagram. Each returns a Scene; see
// render.ts for the SVG + PNG files.
import type { ReliabilityBin } from '../classification-metrics.ts';
import { textWidth } from './font.ts';
import { mixColor, type Scene, type Shape } from './scene.ts';

export interface EpochPoint {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  valLoss: number;
  valAccuracy: number;
  /** Learning rate sampled evenly through the epoch (at fractions 0, 1/k, …). */
  lrTrace: number[];
}

const INK = '#222222';
const GRID = '#dddddd';
const TRAIN = '#1f77b4';
const VAL = '#d62728';
const LR = '#2ca02c';

/** About `count` round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) {
    const pad = Math.abs(lo) * 0.1 || 1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  // Cover [lo, hi] entirely: the outer ticks are the axis ends.
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  const ticks: number[] = [];
  for (let i = first; i <= last; i++) ticks.push(Math.abs(i * step) < step * 1e-9 ? 0 : i * step);
  return ticks;
}

function formatTick(v: number, step: number): string {
  if (v === 0) return '0';
  // Small scales (learning rates) read best as 2.5e-4, with every tick in the same notation.
  if (step < 5e-3 || Math.abs(v) >= 1e5) return v.toExponential(1).replace('.0e', 'e');
  let decimals = Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
  // A step like 2.5 needs one more digit than its magnitude says.
  if (Math.abs(step * 10 ** decimals - Math.round(step * 10 ** decimals)) > 1e-6) decimals++;
  return v.toFixed(decimals);
}

interface Series {
  name: string;
  color: string;
  points: [number, number][];
  dash?: boolean;
}

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

type LegendPlace = 'auto' | 'none';

function linePanel(shapes: Shape[], box: Box, title: string, xLabel: string, series: Series[], legend: LegendPlace = 'auto'): void {
  const all = series.flatMap((s) => s.points).filter(([, y]) => Number.isFinite(y));
  const xs = all.map(([x]) => x);
  const ys = all.map(([, y]) => y);
  const xTicks = niceTicks(Math.min(0, ...xs), Math.max(1, ...xs), 6);
  const yTicks = niceTicks(Math.min(...ys), Math.max(...ys), 5);
  const [x0, x1] = [xTicks[0], xTicks[xTicks.length - 1]];
  const [y0, y1] = [yTicks[0], yTicks[yTicks.length - 1]];
  const px = (x: number) => box.x + ((x - x0) / (x1 - x0 || 1)) * box.w;
  const py = (y: number) => box.y + box.h - ((y - y0) / (y1 - y0 || 1)) * box.h;
  shapes.push({ kind: 'text', x: box.x + box.w / 2, y: box.y - 22, text: title, size: 16, fill: INK, anchor: 'middle', bold: true });
  const yStep = yTicks.length > 1 ? yTicks[1] - yTicks[0] : 1;
  for (const t of yTicks) {
    shapes.push({ kind: 'line', points: [[box.x, py(t)], [box.x + box.w, py(t)]], stroke: GRID, width: 1 });
    shapes.push({ kind: 'text', x: box.x - 6, y: py(t), text: formatTick(t, yStep), size: 12, fill: INK, anchor: 'end' });
  }
  const xStep = xTicks.length > 1 ? xTicks[1] - xTicks[0] : 1;
  for (const t of xTicks) {
    shapes.push({ kind: 'line', points: [[px(t), box.y + box.h], [px(t), box.y + box.h + 4]], stroke: INK, width: 1 });
    shapes.push({ kind: 'text', x: px(t), y: box.y + box.h + 14, text: formatTick(t, xStep), size: 12, fill: INK, anchor: 'middle' });
  }
  shapes.push({ kind: 'text', x: box.x + box.w / 2, y: box.y + box.h + 34, text: xLabel, size: 13, fill: INK, anchor: 'middle' });
  shapes.push({ kind: 'rect', x: box.x, y: box.y, w: box.w, h: box.h, stroke: INK, strokeWidth: 1 });
  const drawn: [number, number][] = [];
  for (const s of series) {
    const pts = s.points.filter(([, y]) => Number.isFinite(y)).map(([x, y]) => [px(x), py(y)] as [number, number]);
    if (pts.length > 1) shapes.push({ kind: 'line', points: pts, stroke: s.color, width: 2, dash: s.dash });
    if (pts.length < 30) for (const [x, y] of pts) shapes.push({ kind: 'circle', x, y, r: 3, fill: s.color });
    // Sample the polyline densely: the legend goes where the fewest samples fall.
    for (let i = 0; i + 1 < pts.length; i++) {
      for (let k = 0; k < 16; k++) drawn.push([pts[i][0] + ((pts[i + 1][0] - pts[i][0]) * k) / 16, pts[i][1] + ((pts[i + 1][1] - pts[i][1]) * k) / 16]);
    }
    if (pts.length) drawn.push(pts[pts.length - 1]);
  }
  if (legend === 'none') return;
  // Legend on a white card inside the panel, in the corner the data leaves free.
  const legendW = 40 + Math.max(...series.map((s) => textWidth(s.name, 12)));
  const legendH = 8 + series.length * 18;
  const corners: [number, number][] = [
    [box.x + box.w - legendW - 8, box.y + 8],
    [box.x + box.w - legendW - 8, box.y + box.h - legendH - 8],
    [box.x + 8, box.y + 8],
    [box.x + 8, box.y + box.h - legendH - 8],
  ];
  const covered = ([cx, cy]: [number, number]) => drawn.filter(([x, y]) => x >= cx - 6 && x <= cx + legendW + 6 && y >= cy - 6 && y <= cy + legendH + 6).length;
  const [lx0, ly0] = corners.reduce((best, c) => (covered(c) < covered(best) ? c : best));
  shapes.push({ kind: 'rect', x: lx0, y: ly0, w: legendW, h: legendH, fill: '#ffffff', stroke: '#999999', strokeWidth: 1 });
  series.forEach((s, i) => {
    const ly = ly0 + 13 + i * 18;
    const lx = lx0 + 6;
    shapes.push({ kind: 'line', points: [[lx, ly], [lx + 22, ly]], stroke: s.color, width: 2, dash: s.dash });
    shapes.push({ kind: 'text', x: lx + 28, y: ly, text: s.name, size: 12, fill: INK, anchor: 'start' });
  });
}

/** Loss, accuracy and learning rate against epoch, three panels side by side. */
export function trainingCurvesChart(history: EpochPoint[], title: string): Scene {
  const shapes: Shape[] = [];
  const panelW = 330;
  const panelH = 250;
  const top = 80;
  const lefts = [80, 80 + panelW + 90, 80 + 2 * (panelW + 90)];
  shapes.push({ kind: 'text', x: (lefts[2] + panelW) / 2 + 20, y: 24, text: title, size: 18, fill: INK, anchor: 'middle', bold: true });
  const ep = (h: EpochPoint) => h.epoch;
  linePanel(shapes, { x: lefts[0], y: top, w: panelW, h: panelH }, 'Loss', 'epoch', [
    { name: 'train', color: TRAIN, points: history.map((h) => [ep(h), h.trainLoss]) },
    { name: 'validation', color: VAL, points: history.map((h) => [ep(h), h.valLoss]), dash: true },
  ]);
  linePanel(shapes, { x: lefts[1], y: top, w: panelW, h: panelH }, 'Accuracy (%)', 'epoch', [
    { name: 'train', color: TRAIN, points: history.map((h) => [ep(h), 100 * h.trainAccuracy]) },
    { name: 'validation', color: VAL, points: history.map((h) => [ep(h), 100 * h.valAccuracy]), dash: true },
  ]);
  const lrPoints: [number, number][] = history.flatMap((h) => h.lrTrace.map((lr, i) => [h.epoch - 1 + i / h.lrTrace.length, lr] as [number, number]));
  linePanel(shapes, { x: lefts[2], y: top, w: panelW, h: panelH }, 'Learning rate', 'epoch', [{ name: 'lr', color: LR, points: lrPoints }], 'none');
  return { width: lefts[2] + panelW + 30, height: top + panelH + 60, background: '#ffffff', shapes };
}

/** A 10x10 heat map of counts, rows = true class, columns = predicted class. */
export function confusionMatrixChart(confusion: number[][], title: string): Scene {
  const k = confusion.length;
  const cell = 48;
  const left = 90;
  const top = 90;
  const shapes: Shape[] = [];
  const rowTotals = confusion.map((r) => r.reduce((a, b) => a + b, 0));
  let maxOff = 1;
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) if (i !== j) maxOff = Math.max(maxOff, confusion[i][j]);
  shapes.push({ kind: 'text', x: left + (k * cell) / 2, y: 24, text: title, size: 18, fill: INK, anchor: 'middle', bold: true });
  shapes.push({ kind: 'text', x: left + (k * cell) / 2, y: top - 40, text: 'predicted', size: 14, fill: INK, anchor: 'middle' });
  shapes.push({ kind: 'text', x: left - 52, y: top + (k * cell) / 2, text: 'true', size: 14, fill: INK, anchor: 'middle', vertical: true });
  for (let i = 0; i < k; i++) {
    shapes.push({ kind: 'text', x: left + i * cell + cell / 2, y: top - 14, text: String(i), size: 14, fill: INK, anchor: 'middle', bold: true });
    shapes.push({ kind: 'text', x: left - 14, y: top + i * cell + cell / 2, text: String(i), size: 14, fill: INK, anchor: 'middle', bold: true });
    for (let j = 0; j < k; j++) {
      const v = confusion[i][j];
      let fill: string;
      if (i === j) fill = mixColor('#ffffff', '#2b7bba', rowTotals[i] ? Math.min(1, v / rowTotals[i]) * 0.85 : 0);
      else fill = v === 0 ? '#ffffff' : mixColor('#fde0dc', '#c62828', Math.log1p(v) / Math.log1p(maxOff));
      shapes.push({ kind: 'rect', x: left + j * cell, y: top + i * cell, w: cell, h: cell, fill, stroke: '#bbbbbb', strokeWidth: 1 });
      if (v > 0) {
        const dark = i === j || Math.log1p(v) / Math.log1p(maxOff) > 0.5;
        shapes.push({ kind: 'text', x: left + j * cell + cell / 2, y: top + i * cell + cell / 2, text: String(v), size: 13, fill: dark ? '#ffffff' : INK, anchor: 'middle' });
      }
    }
  }
  return { width: left + k * cell + 30, height: top + k * cell + 30, background: '#ffffff', shapes };
}

/** Accuracy against confidence per bin, with the diagonal of perfect calibration. */
export function reliabilityChart(bins: ReliabilityBin[], title: string, binsAfter?: ReliabilityBin[]): Scene {
  const shapes: Shape[] = [];
  const box = { x: 80, y: 70, w: 420, h: 320 };
  linePanel(shapes, box, title, 'confidence', [
    { name: 'ideal', color: '#888888', points: [[0, 0], [1, 1]], dash: true },
    { name: 'T = 1', color: TRAIN, points: bins.filter((b) => b.count > 0).map((b) => [b.confidence, b.accuracy]) },
    ...(binsAfter ? [{ name: 'fitted T', color: VAL, points: binsAfter.filter((b) => b.count > 0).map((b) => [b.confidence, b.accuracy] as [number, number]) }] : []),
  ]);
  shapes.push({ kind: 'text', x: 30, y: box.y + box.h / 2, text: 'accuracy', size: 13, fill: INK, anchor: 'middle', vertical: true });
  return { width: box.x + box.w + 30, height: box.y + box.h + 60, background: '#ffffff', shapes };
}
