// Feedback data sets: the labelled predictions users corrected, as written by
// `inkling feedback export` and read by `inkling train --finetune MODEL --feedback DATASET`.
// Two layouts, both 28x28 MNIST-style frames (light digit on black, what the model saw):
//   png  DIR/labels.csv (file,label[,predicted,model_version,created_at]) + DIR/images/*.png;
//        images that are not 28x28 frames go through the service's preprocessing, so a folder
//        of ordinary photos or scans with a labels.csv works too;
//   idx  DIR/feedback-images-idx3-ubyte + DIR/feedback-labels-idx1-ubyte (MNIST's format).
// The held-out part (for the card's before/after figures) is chosen by a hash of each sample's
// file name or index, so it stays the same when rows are added.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { decodeImage, encodePng, preprocessImage } from '../../src/preprocess/index.ts';
import { encodeIdx, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC } from './idx.ts';
import { type DigitSet, IMAGE_PIXELS, loadIdxPair } from './mnist.ts';

export const FEEDBACK_IMAGES = 'feedback-images-idx3-ubyte';
export const FEEDBACK_LABELS = 'feedback-labels-idx1-ubyte';
export const LABELS_CSV = 'labels.csv';

export interface FeedbackSample {
  /** A stable id (the prediction's id): names the PNG and picks the holdout. */
  id: string;
  label: number;
  /** 28x28 u8, light digit on black. */
  pixels: Uint8Array;
  predicted?: number | null;
  modelVersion?: string | null;
  createdAt?: string | null;
}

export interface FeedbackSet extends DigitSet {
  ids: string[];
}

export function writeFeedbackDataset(dir: string, samples: FeedbackSample[], format: 'png' | 'idx'): string[] {
  mkdirSync(dir, { recursive: true });
  if (format === 'idx') {
    const pixels = new Uint8Array(samples.length * IMAGE_PIXELS);
    samples.forEach((s, i) => pixels.set(s.pixels, i * IMAGE_PIXELS));
    writeFileSync(join(dir, FEEDBACK_IMAGES), encodeIdx(IDX_IMAGES_MAGIC, [samples.length, 28, 28], pixels));
    writeFileSync(join(dir, FEEDBACK_LABELS), encodeIdx(IDX_LABELS_MAGIC, [samples.length], Uint8Array.from(samples, (s) => s.label)));
    return [FEEDBACK_IMAGES, FEEDBACK_LABELS];
  }
  mkdirSync(join(dir, 'images'), { recursive: true });
  const rows = ['file,label,predicted,model_version,created_at'];
  for (const s of samples) {
    const file = `images/${s.id}.png`;
    writeFileSync(join(dir, file), encodePng(s.pixels, 28, 28, 1));
    rows.push([file, s.label, s.predicted ?? '', s.modelVersion ?? '', s.createdAt ?? ''].join(','));
  }
  writeFileSync(join(dir, LABELS_CSV), `${rows.join('\n')}\n`);
  return [LABELS_CSV, `images/ (${samples.length} PNGs)`];
}

async function framePixels(bytes: Uint8Array, file: string): Promise<Uint8Array> {
  const img = await decodeImage(bytes);
  if (img.width === 28 && img.height === 28) {
    const stride = img.stride ?? 112;
    const off = img.offset ?? 0;
    const out = new Uint8Array(784);
    for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) out[y * 28 + x] = img.data[off + y * stride + x * 4];
    return out;
  }
  const pre = await preprocessImage(bytes);
  if (!pre.frame) throw new Error(`${file}: no digit found (the image looks blank)`);
  return Uint8Array.from(pre.frame, (v) => Math.round(v * 255));
}

/** Reads a feedback data set folder (either layout). */
export async function readFeedbackDataset(dir: string): Promise<FeedbackSet> {
  if (!existsSync(dir)) throw new Error(`feedback data set ${dir} does not exist; write one with \`inkling feedback export --out ${dir}\``);
  if (existsSync(join(dir, FEEDBACK_IMAGES))) {
    const set = loadIdxPair(join(dir, FEEDBACK_IMAGES), join(dir, FEEDBACK_LABELS));
    return { ...set, ids: Array.from({ length: set.count }, (_, i) => String(i)) };
  }
  const csvPath = join(dir, LABELS_CSV);
  if (!existsSync(csvPath)) {
    throw new Error(`${dir} holds neither ${LABELS_CSV} (+ images) nor ${FEEDBACK_IMAGES}/${FEEDBACK_LABELS}; write one with \`inkling feedback export --out ${dir}\` (found: ${readdirSync(dir).slice(0, 5).join(', ') || 'nothing'})`);
  }
  const lines = readFileSync(csvPath, 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = lines.shift()?.split(',').map((h) => h.trim()) ?? [];
  const fi = header.indexOf('file');
  const li = header.indexOf('label');
  if (fi < 0 || li < 0) throw new Error(`${csvPath}: the header must name the columns file and label (got: ${header.join(',')})`);
  const pixels = new Uint8Array(lines.length * IMAGE_PIXELS);
  const labels = new Uint8Array(lines.length);
  const ids: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const cols = lines[i].split(',');
    const file = cols[fi];
    const label = Number(cols[li]);
    if (!Number.isInteger(label) || label < 0 || label > 9) throw new Error(`${csvPath} line ${i + 2}: label must be 0..9, got "${cols[li]}"`);
    const path = join(dir, file);
    if (!existsSync(path)) throw new Error(`${csvPath} line ${i + 2}: ${path} does not exist`);
    pixels.set(await framePixels(readFileSync(path), path), i * IMAGE_PIXELS);
    labels[i] = label;
    ids.push(file);
  }
  return { count: lines.length, pixels, labels, ids };
}

/** Deterministic split by a hash of each id: about `fraction` of the samples are held out. */
export function splitFeedback(set: FeedbackSet, fraction: number): { train: DigitSet; holdout: DigitSet } {
  const pick = (want: boolean): DigitSet => {
    const idx: number[] = [];
    set.ids.forEach((id, i) => {
      const h = createHash('sha256').update(id).digest().readUInt32BE(0) / 2 ** 32;
      if ((h < fraction) === want) idx.push(i);
    });
    const pixels = new Uint8Array(idx.length * IMAGE_PIXELS);
    idx.forEach((k, j) => pixels.set(set.pixels.subarray(k * IMAGE_PIXELS, (k + 1) * IMAGE_PIXELS), j * IMAGE_PIXELS));
    return { count: idx.length, pixels, labels: Uint8Array.from(idx, (k) => set.labels[k]) };
  };
  return { train: pick(false), holdout: pick(true) };
}

/** `copies` of `extra` appended to `base` (replay: base is MNIST, extra the feedback). */
export function concatSets(base: DigitSet, extra: DigitSet, copies: number): DigitSet {
  const count = base.count + extra.count * copies;
  const pixels = new Uint8Array(count * IMAGE_PIXELS);
  const labels = new Uint8Array(count);
  pixels.set(base.pixels.subarray(0, base.count * IMAGE_PIXELS));
  labels.set(base.labels.subarray(0, base.count));
  for (let c = 0; c < copies; c++) {
    const at = base.count + c * extra.count;
    pixels.set(extra.pixels.subarray(0, extra.count * IMAGE_PIXELS), at * IMAGE_PIXELS);
    labels.set(extra.labels.subarray(0, extra.count), at);
  }
  return { count, pixels, labels };
}
