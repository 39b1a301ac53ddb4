import t from 'tap';
import { Augmenter } from '../../training/augment/augmenter.ts';
import { AUGMENT_NONE, AUGMENT_PRESETS, isIdentity } from '../../training/augment/config.ts';
import { changeThickness } from '../../training/augment/morphology.ts';
import { inverseAffine, IDENTITY_AFFINE, warpBilinear } from '../../training/augment/warp.ts';
import { allocBatch, Batcher } from '../../training/data/batcher.ts';
import { loadMnist, sliceSet } from '../../training/data/mnist.ts';
import { centerOfMass } from '../../src/preprocess/frame.ts';

const mnist = loadMnist();
const small = sliceSet(mnist.train, 0, 256);

function augmentOne(config = AUGMENT_PRESETS.default, seed = 1, index = 3, epoch = 0): Float32Array {
  const out = new Float32Array(784);
  new Augmenter(config, seed).apply(small.pixels, index, epoch, out, 0);
  return out;
}

t.test('zero strength is the identity, exactly', async (t) => {
  t.ok(isIdentity(AUGMENT_NONE));
  const expected = Float32Array.from(small.pixels.subarray(3 * 784, 4 * 784), (v) => v / 255);
  t.same(augmentOne(AUGMENT_NONE), expected);
  // Probabilities 1 but strengths 0, no framing: the warp path itself must be exact.
  const zero = { ...AUGMENT_NONE, affineP: 1, thicknessP: 1, elasticP: 1 };
  t.ok(isIdentity(zero));
  const dst = new Float32Array(784);
  warpBilinear(small.pixels, 3 * 784, 28, dst, 28, inverseAffine({ ...IDENTITY_AFFINE }, 0, 1, 0, 0, 0), null);
  t.same(dst, expected);
});

t.test('shapes and ranges hold for every preset, and framing keeps the MNIST frame', async (t) => {
  for (const name of ['light', 'default', 'strong']) {
    const aug = new Augmenter(AUGMENT_PRESETS[name], 7);
    const out = new Float32Array(784 * 4 + 5).fill(-9);
    for (let i = 0; i < 64; i++) {
      aug.apply(small.pixels, i, 2, out, 784 * 2);
      const slot = out.subarray(784 * 2, 784 * 3);
      let min = Infinity, max = -Infinity;
      for (const v of slot) { min = Math.min(min, v); max = Math.max(max, v); }
      if (!(min >= 0 && max <= 1 && max > 0.5)) t.fail(`${name} sample ${i}: range ${min}..${max}`);
      const com = centerOfMass(slot, 28, 28)!;
      if (Math.hypot(com.x - 14, com.y - 14) > 1.2) t.fail(`${name} sample ${i}: centre of mass ${com.x},${com.y}`);
    }
    // Writes only its slot.
    t.equal(out[784 * 2 - 1], -9, `${name}: nothing before the slot`);
    t.equal(out[784 * 3], -9, `${name}: nothing after the slot`);
  }
});

t.test('deterministic by (seed, epoch, index); different seeds or epochs differ', async (t) => {
  t.same(augmentOne(undefined, 5, 10, 1), augmentOne(undefined, 5, 10, 1));
  t.notSame(augmentOne(undefined, 5, 10, 1), augmentOne(undefined, 6, 10, 1));
  t.notSame(augmentOne(undefined, 5, 10, 1), augmentOne(undefined, 5, 10, 2));
  // Independent of batch order: a batch of a shuffled epoch equals per-sample results.
  const aug = new Augmenter(AUGMENT_PRESETS.default, 9);
  const b = new Batcher(small, { batchSize: 16, shuffle: true, seed: 9, dropLast: true, augmenter: aug });
  const buf = allocBatch(16);
  b.startEpoch(3);
  b.fill(2, buf);
  const idx = b.indicesOf(2);
  const one = new Float32Array(784);
  new Augmenter(AUGMENT_PRESETS.default, 9).apply(small.pixels, idx[5], 3, one, 0);
  const expected = Float32Array.from(one, (v) => (v - 0.1307) / 0.3081);
  const got = buf.images.subarray(5 * 784, 6 * 784);
  let maxDiff = 0;
  for (let i = 0; i < 784; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - expected[i]));
  t.ok(maxDiff < 1e-5, `batch slot equals the sample's own augmentation (max diff ${maxDiff})`);
  t.equal(buf.labels[5], small.labels[idx[5]]);
});

t.test('rotation turns a horizontal bar vertical; dilation thickens, erosion thins', async (t) => {
  const bar = new Uint8Array(784);
  for (let x = 6; x < 22; x++) bar[14 * 28 + x] = 255;
  const dst = new Float32Array(784);
  warpBilinear(bar, 0, 28, dst, 28, inverseAffine({ ...IDENTITY_AFFINE }, Math.PI / 2, 1, 0, 0, 0), null);
  let vertical = 0;
  for (let y = 6; y < 22; y++) vertical += dst[y * 28 + 14] + dst[y * 28 + 13];
  t.ok(vertical > 12, `ink along the vertical through the centre (${vertical.toFixed(2)})`);
  t.ok(dst[14 * 28 + 6] < 0.01, 'the old horizontal extent is empty');

  const img = Float32Array.from(bar, (v) => v / 255);
  const scratch = new Float32Array(784);
  const mass = (a: Float32Array) => a.reduce((s, v) => s + v, 0);
  const thick = img.slice();
  changeThickness(thick, scratch, 28, 1);
  t.equal(mass(thick), 16 * 3 + 2, 'radius 1 cross dilation: three rows plus two end pixels');
  const half = img.slice();
  changeThickness(half, scratch, 28, 0.5);
  t.equal(mass(half), 16 + 0.5 * (16 * 2 + 2));
  const thin = thick.slice();
  changeThickness(thin, scratch, 28, -1);
  t.ok(mass(thin) < mass(thick) && mass(thin) >= 14, `erosion undoes most of a dilation (${mass(thin)})`);
});

t.test('batches: preallocated buffers, normalised values, shuffled and dropLast sizes', async (t) => {
  const b = new Batcher(small, { batchSize: 100, shuffle: true, seed: 1, dropLast: true });
  t.equal(b.batchesPerEpoch, 2);
  const ev = new Batcher(small, { batchSize: 100, shuffle: false, seed: 1, dropLast: false });
  t.equal(ev.batchesPerEpoch, 3);
  const buf = allocBatch(100);
  const images = buf.images;
  ev.fill(2, buf);
  t.equal(buf.size, 56);
  t.equal(buf.images, images, 'the same buffer is refilled');
  t.equal(buf.labels[0], small.labels[200]);
  t.ok(Math.abs(buf.images[0] - (0 - 0.1307) / 0.3081) < 1e-6);
  // A shuffled epoch covers each sample once across its batches (plus the dropped remainder).
  b.startEpoch(0);
  const seen = new Set<number>();
  for (let k = 0; k < 2; k++) for (const i of b.indicesOf(k)) seen.add(i);
  t.equal(seen.size, 200);
  const first = Array.from(b.indicesOf(0));
  b.startEpoch(1);
  t.notSame(Array.from(b.indicesOf(0)), first, 'each epoch reshuffles');
  b.startEpoch(0);
  t.same(Array.from(b.indicesOf(0)), first, 'and epoch 0 again is the same order');
  t.throws(() => new Batcher(small, { batchSize: 1000, shuffle: true, seed: 1, dropLast: true }), /larger than the 256 samples/);
});
