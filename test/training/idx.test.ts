import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeIdx, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, parseIdxImages, parseIdxLabels } from '../../training/data/idx.ts';
import { loadIdxPair } from '../../training/data/mnist.ts';

const pixels = Uint8Array.from({ length: 3 * 28 * 28 }, (_, i) => i % 256);
const goodImages = encodeIdx(IDX_IMAGES_MAGIC, [3, 28, 28], pixels);
const goodLabels = encodeIdx(IDX_LABELS_MAGIC, [3], Uint8Array.from([7, 0, 9]));

t.test('parses well-formed image and label files', async (t) => {
  const img = parseIdxImages(goodImages, 'imgs');
  t.same([img.count, img.rows, img.cols], [3, 28, 28]);
  t.equal(img.pixels.length, 3 * 784);
  t.equal(img.pixels[785], 785 % 256);
  const lab = parseIdxLabels(goodLabels, 'labs');
  t.same(Array.from(lab.labels), [7, 0, 9]);
});

t.test('rejects truncated, padded, swapped, gzipped and out-of-range files with the fix named', async (t) => {
  t.throws(() => parseIdxImages(goodImages.subarray(0, goodImages.length - 10), 'x.idx'), /x\.idx: is truncated: header says \[3, 28, 28\] = 2352 data bytes, file has 2342.*npm ci/);
  const padded = new Uint8Array(goodImages.length + 5);
  padded.set(goodImages);
  t.throws(() => parseIdxImages(padded, 'p'), /5 bytes after/);
  t.throws(() => parseIdxImages(goodLabels, 'l'), /magic 2049 \(that is a label file\), expected 2051.*swapped/);
  t.throws(() => parseIdxLabels(goodImages, 'i'), /magic 2051 \(that is an image file\), expected 2049/);
  t.throws(() => parseIdxImages(Uint8Array.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0]), 'g'), /gzip-compressed.*gunzip/);
  t.throws(() => parseIdxImages(new Uint8Array(3), 's'), /3 bytes, too short/);
  t.throws(() => parseIdxImages(Uint8Array.from([0, 0, 8, 3, 0, 0, 0, 1]), 'h'), /shorter than its 16-byte header/);
  t.throws(() => parseIdxLabels(encodeIdx(IDX_LABELS_MAGIC, [2], Uint8Array.from([3, 12])), 'r'), /label 1 is 12, outside 0\.\.9/);
});

t.test('loadIdxPair checks image size and count agreement, and names missing files', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'inkling-idx-'));
  writeFileSync(join(dir, 'img'), goodImages);
  writeFileSync(join(dir, 'lab'), goodLabels);
  writeFileSync(join(dir, 'lab2'), encodeIdx(IDX_LABELS_MAGIC, [2], Uint8Array.from([1, 2])));
  writeFileSync(join(dir, 'small'), encodeIdx(IDX_IMAGES_MAGIC, [3, 8, 8], new Uint8Array(192)));
  const set = loadIdxPair(join(dir, 'img'), join(dir, 'lab'));
  t.equal(set.count, 3);
  t.throws(() => loadIdxPair(join(dir, 'img'), join(dir, 'lab2')), /has 2 labels for 3 images/);
  t.throws(() => loadIdxPair(join(dir, 'small'), join(dir, 'lab')), /8x8 images, expected 28x28/);
  t.throws(() => loadIdxPair(join(dir, 'nope'), join(dir, 'lab')), /does not exist.*npm ci.*--data/);
});
