// `inkling ood fit`: fits the "not a digit" detector of a model (src/model/ood.ts) and measures it.
//
//   fit      MNIST training digits (raw, and drawn on a canvas then preprocessed) against
//            non-digits drawn with the FIT_FONTS (seed 11);
//   threshold  the validation digits (raw and drawn), never seen by the fit, at --target-frr;
//   report   false rejection on the 10,000 MNIST test digits and on test digits drawn on the
//            canvas (with the held-out fonts for typed digits), rejection of non-digits drawn
//            with the HELD_OUT_FONTS and another seed, per kind.
// Writes ood.safetensors and ood.json next to the model's weights (the weights are not touched).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { noGrad, tidy } from '../../src/nn/autograd.ts';
import type { DeviceBuffer } from '../../src/nn/backend.ts';
import * as F from '../../src/nn/ops/index.ts';
import { Adam } from '../../src/nn/optim/adam.ts';
import { saveModule } from '../../src/nn/safetensors.ts';
import { Tensor } from '../../src/nn/tensor.ts';
import { normalizeMnist } from '../../src/preprocess/index.ts';
import { type LoadedModel, splitAtFlatten } from '../../src/model/runtime.ts';
import { createOodHead, OOD_FILE, OOD_FORMAT, OOD_WEIGHTS, type OodFile, verdicts } from '../../src/model/ood.ts';
import type { MnistSplits } from '../data/mnist.ts';
import { SampleRng } from '../rng.ts';
import { FIT_FONTS, HELD_OUT_FONTS } from './fonts.ts';
import { canvasDigits, type FrameSet, NON_DIGIT_KINDS, nonDigits } from './synthetic.ts';

export interface OodFitOptions {
  model: LoadedModel;
  data: MnistSplits;
  nonDigitCount: number;
  heldOutCount: number;
  /** MNIST training digits (raw) in the fit; as many again drawn on the canvas (at most nonDigitCount). */
  trainDigits: number;
  testLimit?: number;
  hidden: number;
  epochs: number;
  targetFrr: number;
  minConfidence: number;
  log: (s: string) => void;
}

export interface OodReport {
  file: OodFile;
  rates: Record<string, number>;
}

const PIX = 784;

/** u8 MNIST pixels → [0,1] frames. */
function rawFrames(pixels: Uint8Array, n: number): Float32Array {
  return Float32Array.from(pixels.subarray(0, n * PIX), (v) => v / 255);
}

export async function fitOod(o: OodFitOptions): Promise<OodReport> {
  const { model, data, log } = o;
  const be = model.backend;
  const split = splitAtFlatten(be, model.module);
  if (!split) throw new Error(`${model.card.architecture} has no flatten layer for the detector to read`);
  const t0 = performance.now();

  /** Convolutional features and probabilities of [0,1] frames. */
  async function run(frames: Float32Array, n: number): Promise<{ f: Float32Array; p: Float32Array; width: number }> {
    let width = 0;
    const fs: Float32Array[] = [];
    const ps: Float32Array[] = [];
    for (let i = 0; i < n; i += 500) {
      const m = Math.min(500, n - i);
      const x = new Float32Array(m * PIX);
      for (let k = 0; k < m; k++) normalizeMnist(frames.subarray((i + k) * PIX, (i + k + 1) * PIX), x, k * PIX);
      const r = await model.features(x, m);
      width = r.width;
      fs.push(r.features);
      ps.push(Float32Array.from(r.logits)); // softmax below
    }
    const f = new Float32Array(n * width);
    const p = new Float32Array(n * 10);
    let at = 0;
    fs.forEach((a, k) => {
      f.set(a, at * width);
      p.set(ps[k], at * 10);
      at += a.length / width;
    });
    const T = model.card.temperature;
    for (let r = 0; r < n; r++) {
      let max = -Infinity;
      for (let c = 0; c < 10; c++) max = Math.max(max, p[r * 10 + c] / T);
      let s = 0;
      for (let c = 0; c < 10; c++) s += p[r * 10 + c] = Math.exp(p[r * 10 + c] / T - max);
      for (let c = 0; c < 10; c++) p[r * 10 + c] /= s;
    }
    return { f, p, width };
  }

  const drawnCount = Math.min(o.trainDigits, o.nonDigitCount);
  log(`drawing ${o.nonDigitCount} non-digits (fit fonts) and ${drawnCount} canvas digits for the fit...`);
  const ndFit = await nonDigits({ count: o.nonDigitCount, fonts: FIT_FONTS, seed: 11, digitPixels: data.train.pixels, digitCount: data.train.count });
  const trCanvas = await canvasDigits({ pixels: data.train.pixels, labels: data.train.labels, count: drawnCount, seed: 6, fonts: FIT_FONTS });
  log(`drawing ${o.heldOutCount} held-out non-digits and digits for the threshold and the report...`);
  const ndHeld = await nonDigits({ count: o.heldOutCount, fonts: HELD_OUT_FONTS, seed: 2, digitPixels: data.train.pixels, digitCount: data.train.count });
  const valCanvas = await canvasDigits({ pixels: data.validation.pixels, labels: data.validation.labels, count: o.heldOutCount, seed: 3, fonts: FIT_FONTS });
  const testCanvas = await canvasDigits({ pixels: data.test.pixels, labels: data.test.labels, count: o.heldOutCount, seed: 4, fonts: HELD_OUT_FONTS });
  const testN = Math.min(o.testLimit ?? data.test.count, data.test.count);
  const trainN = Math.min(o.trainDigits, data.train.count);
  log(`drawn in ${((performance.now() - t0) / 1000).toFixed(0)} s; computing features...`);

  const S = {
    ndFit: await run(ndFit.frames, ndFit.count),
    trRaw: await run(rawFrames(data.train.pixels, trainN), trainN),
    trCanvas: await run(trCanvas.frames, trCanvas.count),
    ndHeld: await run(ndHeld.frames, ndHeld.count),
    valRaw: await run(rawFrames(data.validation.pixels, data.validation.count), data.validation.count),
    valCanvas: await run(valCanvas.frames, valCanvas.count),
    testRaw: await run(rawFrames(data.test.pixels, testN), testN),
    testCanvas: await run(testCanvas.frames, testCanvas.count),
  };
  const width = S.ndFit.width;

  // Fit: balanced batches (half non-digits), softmax cross-entropy over {digit, non-digit}.
  const head = createOodHead(be, width, o.hidden, 5);
  const opt = new Adam(head.parameters(), { lr: 1e-3, weightDecay: 0 });
  const pos = S.ndFit;
  const negs = [S.trRaw, S.trCanvas];
  const negCount = negs.reduce((s, q) => s + q.f.length / width, 0);
  const B = 128;
  const xb = Tensor.empty(be, [B, width]);
  const yb = Tensor.empty(be, [B], 'i32');
  const hx = new Float32Array(B * width);
  const hy = new Int32Array(B);
  const rng = new SampleRng(9);
  const posCount = pos.f.length / width;
  const steps = Math.max(1, Math.floor((posCount + negCount) / B));
  const t1 = performance.now();
  head.train();
  for (let ep = 0; ep < o.epochs; ep++) {
    for (let s = 0; s < steps; s++) {
      for (let k = 0; k < B; k++) {
        let src: Float32Array;
        let row: number;
        if (k % 2 === 0) {
          src = pos.f;
          row = rng.int(posCount);
          hy[k] = 1;
        } else {
          let r = rng.int(negCount);
          let q = 0;
          while (r >= negs[q].f.length / width) r -= negs[q++].f.length / width;
          src = negs[q].f;
          row = r;
          hy[k] = 0;
        }
        hx.set(src.subarray(row * width, (row + 1) * width), k * width);
      }
      be.upload(xb.buffer as DeviceBuffer<'f32'>, hx);
      be.upload(yb.buffer as DeviceBuffer<'i32'>, hy);
      tidy(() => {
        opt.zeroGrad();
        F.softmaxCrossEntropy(head.forward(xb), yb).backward();
        opt.step();
      });
    }
  }
  head.eval();
  xb.dispose();
  yb.dispose();
  opt.dispose();
  log(`fitted ${o.epochs} epochs of ${steps} steps in ${((performance.now() - t1) / 1000).toFixed(1)} s`);

  async function headOut(s: { f: Float32Array }): Promise<Float32Array> {
    const n = s.f.length / width;
    const out = new Float32Array(n * 2);
    for (let i = 0; i < n; i += 500) {
      const m = Math.min(500, n - i);
      const t = noGrad(() => tidy(() => head.forward(Tensor.fromArray(be, s.f.subarray(i * width, (i + m) * width), [m, width]))));
      out.set((await t.toArray()) as Float32Array, i * 2);
      t.dispose();
    }
    return out;
  }
  const outs: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(S)) outs[k] = await headOut(v);
  const scoreOf = (k: string) => Array.from({ length: outs[k].length / 2 }, (_, r) => outs[k][2 * r + 1] - outs[k][2 * r]);

  // Threshold on the validation digits (raw and drawn), counting both reasons: the digits already
  // uncertain for low confidence use up part of targetFrr, the detector may reject the rest.
  const valRows = (['valRaw', 'valCanvas'] as const).flatMap((k) => {
    const sc = scoreOf(k);
    return sc.map((score, r) => ({ score, top: Math.max(...S[k].p.subarray(r * 10, r * 10 + 10)) }));
  });
  const lowConfidence = valRows.filter((v) => v.top < o.minConfidence).length;
  const budget = Math.max(0, Math.floor(o.targetFrr * valRows.length) - lowConfidence);
  const rest = valRows.filter((v) => v.top >= o.minConfidence).map((v) => v.score).sort((a, b) => b - a);
  const threshold = rest[Math.min(budget, rest.length - 1)];
  const rule = { threshold, minConfidence: o.minConfidence };
  const rejected = (k: keyof typeof S, idx?: number[]) => {
    const v = verdicts(rule, outs[k], S[k].p, S[k].p.length / 10);
    const pick = idx ?? v.map((_, i) => i);
    return pick.filter((i) => v[i].uncertain).length / Math.max(1, pick.length);
  };
  const byKind = (set: FrameSet, k: keyof typeof S) =>
    Object.fromEntries(NON_DIGIT_KINDS.map((kind) => [kind, rejected(k, set.kinds.map((q, i) => (q === kind ? i : -1)).filter((i) => i >= 0))]));
  const rates: Record<string, number> = {
    falseRejectionMnistTest: rejected('testRaw'),
    falseRejectionDrawnTestDigits: rejected('testCanvas'),
    falseRejectionValidation: rejected('valRaw'),
    rejectionHeldOutNonDigits: rejected('ndHeld'),
    rejectionFitNonDigits: rejected('ndFit'),
    ...Object.fromEntries(Object.entries(byKind(ndHeld, 'ndHeld')).map(([k, v]) => [`rejectionHeldOut.${k}`, v])),
  };
  const file: OodFile = {
    format: OOD_FORMAT,
    method: `MLP ${width}->${o.hidden}->2 on the flatten features, fitted on MNIST training digits vs synthetic non-digits; threshold for at most ${(100 * o.targetFrr).toFixed(2)}% of the validation digits (raw and drawn) uncertain for either reason`,
    featureLayer: 'flatten',
    featureWidth: width,
    hidden: o.hidden,
    weights: OOD_WEIGHTS,
    threshold,
    minConfidence: o.minConfidence,
    fit: {
      model: model.identity.version,
      fitSet: { nonDigits: posCount, mnistTrainDigits: trainN, drawnTrainDigits: trCanvas.count, fonts: FIT_FONTS.map((f) => f.family), seed: 11 },
      thresholdSet: { validationDigits: data.validation.count, drawnValidationDigits: valCanvas.count, targetFalseRejection: o.targetFrr },
      report: { mnistTestDigits: testN, drawnTestDigits: testCanvas.count, heldOutNonDigits: ndHeld.count, heldOutFonts: HELD_OUT_FONTS.map((f) => f.family), seed: 2 },
      rates,
      epochs: o.epochs,
      seconds: Math.round((performance.now() - t0) / 1000),
      created: new Date().toISOString(),
    },
  };
  await saveModule(head, join(model.dir, OOD_WEIGHTS), { format: 'pt', detector: 'inkling-ood' });
  writeFileSync(join(model.dir, OOD_FILE), `${JSON.stringify(file, null, 2)}\n`);
  head.dispose();
  return { file, rates };
}
