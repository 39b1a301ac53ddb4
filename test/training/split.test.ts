import t from 'tap';
import { loadMnist, TRAIN_SIZE, VALIDATION_SIZE, TEST_SIZE, IMAGE_PIXELS, splitTrainValidation } from '../../training/data/mnist.ts';

t.test('the real MNIST files split into 55,000 train / 5,000 validation, disjoint, test apart', async (t) => {
  const m = loadMnist();
  t.equal(m.train.count, TRAIN_SIZE);
  t.equal(m.validation.count, VALIDATION_SIZE);
  t.equal(m.test.count, TEST_SIZE);
  t.equal(m.train.pixels.length, TRAIN_SIZE * IMAGE_PIXELS);
  // Train and validation are adjacent, non-overlapping windows of the same file buffer.
  t.equal(m.train.pixels.buffer, m.validation.pixels.buffer);
  t.equal(m.train.pixels.byteOffset + m.train.pixels.byteLength, m.validation.pixels.byteOffset);
  t.equal(m.train.labels.byteOffset + m.train.labels.byteLength, m.validation.labels.byteOffset);
  t.not(m.test.pixels.buffer, m.train.pixels.buffer);
  // Canonical label counts (training/README.md, Data and split) add up across train + validation.
  const counts = new Array(10).fill(0);
  for (const set of [m.train, m.validation]) for (const l of set.labels) counts[l]++;
  t.same(counts, [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
  const testCounts = new Array(10).fill(0);
  for (const l of m.test.labels) testCounts[l]++;
  t.same(testCounts, [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  // Every class is in the validation split in a reasonable share.
  const val = new Array(10).fill(0);
  for (const l of m.validation.labels) val[l]++;
  t.ok(val.every((c) => c > 400 && c < 600), `validation class counts ${val}`);
});

t.test('the split refuses a training set of the wrong size', async (t) => {
  t.throws(() => splitTrainValidation({ count: 100, pixels: new Uint8Array(100 * 784), labels: new Uint8Array(100) }), /holds 100 images, expected 60000/);
});
