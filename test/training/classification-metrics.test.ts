import t from 'tap';
import { fitTemperature } from '../../training/calibration.ts';
import { classificationMetrics, expectedCalibrationError, meanNll, reliabilityBins } from '../../training/classification-metrics.ts';
import { SampleRng } from '../../training/rng.ts';

t.test('accuracy, confusion, precision and recall on a hand-made case', async (t) => {
  // 3 classes, 5 samples: labels 0 0 1 2 2; predictions 0 1 1 2 0.
  const logits = [
    5, 0, 0,
    0, 3, 0,
    0, 4, 1,
    0, 0, 2,
    6, 0, 1,
  ];
  const m = classificationMetrics(logits, [0, 0, 1, 2, 2], 3);
  t.equal(m.correct, 3);
  t.equal(m.accuracy, 0.6);
  t.same(m.confusion, [[1, 1, 0], [0, 1, 0], [1, 0, 1]]);
  t.same(m.precision, [0.5, 0.5, 1]);
  t.same(m.recall, [0.5, 1, 0.5]);
  t.same(Array.from(m.predictions), [0, 1, 1, 2, 0]);
  // NLL of the first sample: log(e^5 + 2) − 5.
  const nll0 = Math.log(Math.exp(5) + 2) - 5;
  t.ok(Math.abs(meanNll(logits.slice(0, 3), [0], 3) - nll0) < 1e-12);
  // A class never predicted has undefined precision.
  const none = classificationMetrics([1, 0, 1, 0], [0, 1], 2);
  t.ok(Number.isNaN(none.precision[1]));
  t.equal(none.recall[1], 0);
});

t.test('ECE with 15 bins on hand-made confidences', async (t) => {
  // Bin (0.8, 0.8667]: two samples at 0.85, one right → |0.5 − 0.85| · 2/4.
  // Bin (14/15, 1]: two samples at 1.0, both right → 0.
  const bins = reliabilityBins([0.85, 0.85, 1, 1], [1, 0, 1, 1], 15);
  t.equal(bins.length, 15);
  t.equal(bins[12].count, 2);
  t.equal(bins[14].count, 2);
  t.ok(Math.abs(expectedCalibrationError(bins) - 0.175) < 1e-12);
  // Edges: confidence exactly 1/15 falls in the first bin (bins are (lo, hi]).
  t.equal(reliabilityBins([1 / 15], [1], 15)[0].count, 1);
  // Perfect calibration: ECE 0.
  t.equal(expectedCalibrationError(reliabilityBins([0.5, 0.5], [1, 0], 15)), 0);
});

t.test('temperature fitting recovers a known T from synthetic logits', async (t) => {
  const rng = new SampleRng(42);
  const n = 20000;
  const classes = 10;
  const trueT = 2.5;
  const logits = new Float32Array(n * classes);
  const labels = new Int32Array(n);
  const p = new Float64Array(classes);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < classes; j++) logits[r * classes + j] = 3 * rng.normal();
    // Draw the label from softmax(logits / trueT): the logits are over-confident by trueT.
    let sum = 0;
    for (let j = 0; j < classes; j++) sum += (p[j] = Math.exp(logits[r * classes + j] / trueT));
    let u = rng.uniform() * sum;
    let y = 0;
    while (y < classes - 1 && (u -= p[y]) > 0) y++;
    labels[r] = y;
  }
  const fit = fitTemperature(logits, labels, classes);
  t.ok(Math.abs(fit.temperature - trueT) < 0.1, `fitted T ${fit.temperature}`);
  t.ok(fit.nllAfter < fit.nllBefore);
  const before = classificationMetrics(logits, labels, classes, 1);
  const after = classificationMetrics(logits, labels, classes, fit.temperature);
  t.ok(after.ece < before.ece / 3, `ECE ${before.ece} -> ${after.ece}`);
  t.equal(after.accuracy, before.accuracy, 'temperature never changes the argmax');
});
