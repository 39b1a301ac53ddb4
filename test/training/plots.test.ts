import t from 'tap';
import { PNG } from 'pngjs';
import { confusionMatrixChart, niceTicks, trainingCurvesChart } from '../../training/plots/charts.ts';
import { contactSheetPng } from '../../training/plots/contact-sheet.ts';
import { Raster, sceneToPng } from '../../training/plots/raster.ts';
import { sceneToSvg } from '../../training/plots/svg.ts';
import { textWidth } from '../../training/plots/font.ts';

const history = [1, 2, 3].map((epoch) => ({ epoch, trainLoss: 1 / epoch, trainAccuracy: 0.9 + epoch / 100, valLoss: 1.1 / epoch, valAccuracy: 0.91 + epoch / 100, lrTrace: [0.001, 0.002] }));

t.test('nice ticks cover the range with round steps', async (t) => {
  t.same(niceTicks(0, 10, 5), [0, 2, 4, 6, 8, 10]);
  const ticks = niceTicks(0.013, 0.48, 5);
  t.ok(ticks[0] <= 0.013 && ticks[ticks.length - 1] >= 0.48, `${ticks}`);
  t.same(niceTicks(0, 11.9, 6), [0, 2, 4, 6, 8, 10, 12]);
});

t.test('charts render to well-formed SVG and PNG of the scene size', async (t) => {
  const curves = trainingCurvesChart(history, 'test run');
  const svg = sceneToSvg(curves);
  t.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="\d+" height="\d+"/);
  t.match(svg, /<text[^>]*>Accuracy \(%\)<\/text>/);
  t.equal((svg.match(/<polyline/g) ?? []).length > 5, true);
  const png = PNG.sync.read(sceneToPng(curves));
  t.equal(png.width, curves.width);
  t.equal(png.height, curves.height);
  // Coloured (non-gray) pixels exist: the data series were drawn.
  let coloured = 0;
  for (let i = 0; i < png.width * png.height; i++) {
    const [r, g, b] = [png.data[4 * i], png.data[4 * i + 1], png.data[4 * i + 2]];
    if (Math.max(r, g, b) - Math.min(r, g, b) > 60) coloured++;
  }
  t.ok(coloured > 500, `${coloured} coloured pixels`);
  const cm = confusionMatrixChart([[5, 1], [0, 7]], 'cm');
  t.match(sceneToSvg(cm), />7<\/text>/);
  t.ok(PNG.sync.read(sceneToPng(cm)).width === cm.width);
});

t.test('bitmap text draws ink inside its measured box', async (t) => {
  const r = new Raster(100, 30);
  r.text(10, 15, 'A1%', 16, [0, 0, 0], 'start');
  const w = textWidth('A1%', 16);
  let inside = 0;
  let outside = 0;
  for (let y = 0; y < 30; y++) for (let x = 0; x < 100; x++) {
    const dark = r.rgb[(y * 100 + x) * 3] < 128;
    if (!dark) continue;
    if (x >= 10 && x < 10 + w && y >= 15 - 7 && y < 15 + 7) inside++;
    else outside++;
  }
  t.ok(inside > 40, `${inside} ink pixels`);
  t.equal(outside, 0);
});

t.test('contact sheet: a grid of tiles with captions', async (t) => {
  const items = Array.from({ length: 20 }, (_, k) => ({ pixels: new Float32Array(784).fill(k % 2), label: 3, predicted: 5, confidence: 0.9, index: k }));
  const png = PNG.sync.read(contactSheetPng(items, 'sheet', 8));
  const png2 = PNG.sync.read(contactSheetPng(items.slice(0, 8), 'sheet', 8));
  t.equal(png.width, png2.width, 'columns fix the width');
  t.ok(png.height > 2.5 * (png2.height - 50), 'three rows are taller than one');
  const empty = PNG.sync.read(contactSheetPng([], 'none'));
  t.ok(empty.width > 0 && empty.height > 0);
});
