// `inkling predict`'s pipeline: files → bytes → 28x28 frames → batched inference → one record per
// file, in the input order. While the model runs on one batch, the next batch's files are read and
// preprocessed (in worker threads when --workers > 0), so on two cores both stay busy.
//
// Input modes:
//   image  the service's preprocessing (src/preprocess: decode, ink map, MNIST framing), for any
//          photo, scan or canvas export;
//   mnist  the file already IS a 28x28 MNIST-style frame (light digit on black): pixels / 255, as
//          `inkling eval` reads MNIST, so an MNIST image gets exactly eval's answer;
//   auto   (default) mnist for 28x28 grayscale images with a dark border, image for the rest.
import { readFile } from 'node:fs/promises';
import { decodeImage, normalizeMnist, preprocessImage, readPngHeader, sniffFormat, DEFAULT_MAX_PIXELS } from '../preprocess/index.ts';
import type { PreprocessPool } from '../server/preprocess-pool.ts';
import type { LoadedModel } from '../model/runtime.ts';

export type InputMode = 'auto' | 'image' | 'mnist';
export const INPUT_MODES: InputMode[] = ['auto', 'image', 'mnist'];

export interface PredictRecord {
  file: string;
  model: string;
  digit?: number;
  confidence?: number;
  top?: { digit: number; probability: number }[];
  uncertain?: boolean;
  reason?: string | null;
  input?: 'image' | 'mnist';
  error?: string;
}

export interface PredictOptions {
  batch: number;
  topK: number;
  mode: InputMode;
  maxPixels?: number;
  /** Preprocessing threads (null: inline on the main thread). */
  pool?: PreprocessPool | null;
}

type Prepared = { file: string; frame: Float32Array; input: 'image' | 'mnist' } | { file: string; error: string };

/** A 28x28 grayscale image with a dark border: already an MNIST-style frame. */
function looksLikeMnist(bytes: Uint8Array): boolean {
  if (sniffFormat(bytes) !== 'png') return false;
  try {
    const h = readPngHeader(bytes);
    return h.width === 28 && h.height === 28;
  } catch {
    return false;
  }
}

async function mnistFrame(bytes: Uint8Array, file: string, strict: boolean): Promise<Float32Array | null> {
  const img = await decodeImage(bytes, { maxPixels: DEFAULT_MAX_PIXELS });
  if (img.width !== 28 || img.height !== 28) {
    if (strict) throw new Error(`${file} is ${img.width}x${img.height}; --input mnist needs 28x28 frames (use --input image for other images)`);
    return null;
  }
  const stride = img.stride ?? 112;
  const off = img.offset ?? 0;
  const frame = new Float32Array(784);
  let border = 0;
  let gray = true;
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      const i = off + y * stride + x * 4;
      const [r, g, b, a] = [img.data[i], img.data[i + 1], img.data[i + 2], img.data[i + 3]];
      if (r !== g || g !== b || a !== 255) gray = false;
      frame[y * 28 + x] = r / 255;
      if (y === 0 || y === 27 || x === 0 || x === 27) border += r;
    }
  }
  if (strict) return frame;
  // MNIST frames: gray, opaque, a black border (the digit sits in the central 20x20)
  return gray && border / 108 < 0.1 * 255 ? frame : null;
}

async function prepare(file: string, opts: PredictOptions): Promise<Prepared> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return { file, error: err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a folder' : err.message };
  }
  try {
    if (opts.mode === 'mnist' || (opts.mode === 'auto' && looksLikeMnist(bytes))) {
      const frame = await mnistFrame(bytes, file, opts.mode === 'mnist');
      if (frame) return { file, frame, input: 'mnist' };
    }
    const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
    const pre = opts.pool ? await opts.pool.run(bytes, maxPixels, false) : await preprocessImage(bytes, { maxPixels });
    if (!pre.frame) return { file, error: 'no digit found: the image looks blank (no ink that stands out from the background)' };
    return { file, frame: pre.frame, input: 'image' };
  } catch (e) {
    return { file, error: (e as Error).message };
  }
}

function prepareBatch(files: string[], opts: PredictOptions): Promise<Prepared[]> {
  return Promise.all(files.map((f) => prepare(f, opts)));
}

/** One record per file, in order; failures are records with `error`. */
export async function* predictFiles(model: LoadedModel, files: string[], opts: PredictOptions): AsyncGenerator<PredictRecord> {
  const version = model.identity.version;
  const chunks: string[][] = [];
  for (let i = 0; i < files.length; i += opts.batch) chunks.push(files.slice(i, i + opts.batch));
  let next = chunks.length > 0 ? prepareBatch(chunks[0], opts) : null;
  for (let c = 0; c < chunks.length; c++) {
    const prepared = await next!;
    next = c + 1 < chunks.length ? prepareBatch(chunks[c + 1], opts) : null;
    const ok = prepared.filter((p): p is Extract<Prepared, { frame: Float32Array }> => 'frame' in p);
    const x = new Float32Array(ok.length * 784);
    ok.forEach((p, i) => normalizeMnist(p.frame, x, i * 784));
    const out = ok.length > 0 ? await model.infer(x, ok.length) : null;
    let k = 0;
    for (const p of prepared) {
      if ('error' in p) {
        yield { file: p.file, model: version, error: p.error };
        continue;
      }
      const probs = out!.probabilities.subarray(k * 10, k * 10 + 10);
      const order = Array.from({ length: 10 }, (_, d) => d).sort((a, b) => probs[b] - probs[a]);
      const verdict = out!.ood?.[k] ?? null;
      yield {
        file: p.file,
        model: version,
        digit: order[0],
        confidence: probs[order[0]],
        top: order.slice(0, opts.topK).map((d) => ({ digit: d, probability: probs[d] })),
        uncertain: verdict?.uncertain ?? false,
        reason: verdict?.reason ?? null,
        input: p.input,
      };
      k++;
    }
  }
}
