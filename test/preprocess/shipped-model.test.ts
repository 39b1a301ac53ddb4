// End to end through the shipped model (models/): synthetic digits in every style the
// preprocessing handles are read correctly. Guards the contract between src/preprocess and the
// training pipeline (same framing and normalisation).
import t from 'tap';
import { loadModel } from '../../src/server/model.ts';
import { preprocessImage, normalizeMnist } from '../../src/preprocess/index.ts';
import { drawDigit, encode, SEVEN, ZERO, ONE, type Segment, type DrawOptions } from './images.ts';

const canvas = { width: 280, height: 280, box: { x: 70, y: 50, w: 140, h: 180 }, thickness: 18 };
const cases: [string, number, Segment[], DrawOptions, 'png' | 'jpeg'][] = [
  ['7 on a transparent canvas', 7, SEVEN, { ...canvas, transparent: true }, 'png'],
  ['0 on a transparent canvas', 0, ZERO, { ...canvas, transparent: true }, 'png'],
  ['1 on a transparent canvas', 1, ONE, { ...canvas, transparent: true }, 'png'],
  ['7 photographed on paper', 7, SEVEN, { width: 800, height: 600, box: { x: 300, y: 120, w: 220, h: 330 }, thickness: 16, paper: [205, 195, 175], ink: [60, 60, 75], gradient: 0.55, noise: 22 }, 'jpeg'],
  ['0 in a 4000x3000 JPEG', 0, ZERO, { width: 4000, height: 3000, box: { x: 2200, y: 600, w: 1000, h: 1600 }, thickness: 120 }, 'jpeg'],
  ['7 white on black', 7, SEVEN, { ...canvas, ink: [255, 255, 255], paper: [0, 0, 0] }, 'png'],
  ['0 in thick marker', 0, ZERO, { width: 280, height: 280, box: { x: 40, y: 20, w: 200, h: 240 }, thickness: 48 }, 'png'],
  ['7 in a 28x28 image', 7, SEVEN, { width: 28, height: 28, box: { x: 5, y: 4, w: 16, h: 20 }, thickness: 2.5 }, 'png'],
  ['1 in red pen', 1, ONE, { ...canvas, ink: [220, 30, 30] }, 'png'],
];

t.test('the shipped model reads synthetic digits after preprocessing', async (t) => {
  const model = await loadModel('models', 'cpu', 1, () => {});
  t.teardown(() => model.dispose());
  for (const [name, want, digit, opts, format] of cases) {
    const pre = await preprocessImage(await encode(drawDigit(digit, opts), opts.width, opts.height, format));
    t.ok(pre.frame, `${name}: a digit is found`);
    const probs = await model.predict(normalizeMnist(pre.frame!), 1);
    const got = probs.indexOf(Math.max(...probs));
    t.equal(got, want, `${name}: read as ${got} (p=${probs[got].toFixed(3)})`);
  }
});
