// The preprocessing pool: images preprocessed in a worker thread come back exactly as inline
// preprocessing makes them (frame, both PNGs, metadata), errors keep their class (so the route
// answers the same 4xx), concurrent jobs all complete, and close() ends the workers.
import t from 'tap';
import {
  preprocessImage,
  UnsupportedImageError,
  ImageTooLargeError,
  ImageDecodeError,
} from '../../src/preprocess/index.ts';
import { PreprocessPool } from '../../src/server/preprocess-pool.ts';
import { drawDigit, encode, SEVEN, ZERO } from '../preprocess/images.ts';

const canvas = (segments: typeof SEVEN) =>
  encode(drawDigit(segments, { width: 280, height: 280, box: { x: 70, y: 50, w: 140, h: 180 }, thickness: 18, transparent: true }), 280, 280, 'png');

t.test('a worker gives the same result as inline preprocessing', async (t) => {
  const pool = new PreprocessPool(1);
  t.teardown(() => pool.close());
  for (const png of [await canvas(SEVEN), await canvas(ZERO)]) {
    const inline = await preprocessImage(png);
    const viaWorker = await pool.run(png, 25_000_000, false);
    t.ok(viaWorker.frame instanceof Float32Array, 'frame is a Float32Array');
    t.same(Array.from(viaWorker.frame!), Array.from(inline.frame!), 'same 28x28 frame');
    t.ok(Buffer.isBuffer(viaWorker.inputPng) && Buffer.isBuffer(viaWorker.thumbnailPng), 'PNGs come back as Buffers');
    t.ok(viaWorker.inputPng!.equals(inline.inputPng!), 'same input PNG');
    t.ok(viaWorker.thumbnailPng.equals(inline.thumbnailPng), 'same thumbnail PNG');
    t.same([viaWorker.format, viaWorker.width, viaWorker.height, viaWorker.polarity], [inline.format, inline.width, inline.height, inline.polarity]);
  }
  t.equal(pool.offloaded, 2);
  t.equal(pool.inline, 0);
});

t.test('alone: preprocessed inline, no thread hop', async (t) => {
  const pool = new PreprocessPool(1);
  t.teardown(() => pool.close());
  const r = await pool.run(await canvas(SEVEN), 25_000_000, true);
  t.ok(r.frame);
  t.same([pool.inline, pool.offloaded], [1, 0]);
});

t.test('errors from a worker keep their class and message', async (t) => {
  const pool = new PreprocessPool(1);
  t.teardown(() => pool.close());
  const png = await canvas(SEVEN);
  await t.rejects(pool.run(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), 25_000_000, false), UnsupportedImageError);
  await t.rejects(pool.run(png, 1000, false), ImageTooLargeError);
  await t.rejects(pool.run(png.subarray(0, png.length - 40), 25_000_000, false), ImageDecodeError);
  const e = await pool.run(Buffer.alloc(0), 25_000_000, false).catch((err: Error) => err);
  t.ok(e instanceof ImageDecodeError && /empty/.test((e as Error).message), 'message kept');
});

t.test('concurrent jobs on two workers all complete; blank images give a null frame', async (t) => {
  const pool = new PreprocessPool(2);
  t.teardown(() => pool.close());
  const seven = await canvas(SEVEN);
  const blank = await encode(new Uint8Array(280 * 280 * 4), 280, 280, 'png');
  const results = await Promise.all(Array.from({ length: 24 }, (_, i) => pool.run(i % 3 === 2 ? blank : seven, 25_000_000, false)));
  t.equal(results.filter((r) => r.frame !== null).length, 16);
  t.equal(results.filter((r) => r.frame === null && r.inputPng === null).length, 8);
  t.equal(pool.offloaded, 24);
});

t.test('size 0 always runs inline; close() rejects nothing that finished', async (t) => {
  const pool = new PreprocessPool(0);
  const r = await pool.run(await canvas(ZERO), 25_000_000, false);
  t.ok(r.frame);
  t.same([pool.inline, pool.offloaded], [1, 0]);
  await pool.close();
});

t.test('large decodes run on the main thread, at most largeDecodes at once; canvases still go to the workers', async (t) => {
  const pool = new PreprocessPool(2, 1);
  t.teardown(() => pool.close());
  // Over FAST_PNG_MAX_PIXELS (1 MP), so sharp decodes it; and a JPEG, which sharp always decodes.
  const bigPng = await encode(drawDigit(SEVEN, { width: 1100, height: 1000, box: { x: 300, y: 200, w: 500, h: 600 }, thickness: 60, transparent: false }), 1100, 1000, 'png');
  const jpeg = await encode(drawDigit(ZERO, { width: 400, height: 400, box: { x: 100, y: 80, w: 200, h: 240 }, thickness: 30, transparent: false }), 400, 400, 'jpeg');
  const small = await canvas(SEVEN);
  const expected = [await preprocessImage(bigPng), await preprocessImage(jpeg)];
  const results = await Promise.all([bigPng, jpeg, bigPng, small, jpeg].map((b) => pool.run(b, 25_000_000, false)));
  for (const [i, which] of [[0, 0], [1, 1], [2, 0], [4, 1]]) {
    t.same(Array.from(results[i].frame!), Array.from(expected[which].frame!), `large image ${i}: the same frame as preprocessImage`);
  }
  t.ok(results[3].frame, 'the canvas too');
  t.same([pool.inline, pool.offloaded], [4, 1], 'the four large ones inline, the canvas in a worker');
  t.equal(pool.large!.peakWaiting, 3, 'one decoding, three waiting');
  t.equal(pool.largeWaiting, 0);
  // An error gives the slot back: the next large image still decodes.
  await t.rejects(pool.run(bigPng.subarray(0, bigPng.length - 100), 25_000_000, false), ImageDecodeError);
  t.ok((await pool.run(jpeg, 25_000_000, false)).frame, 'decoded after a failed one');
});

t.test('without largeDecodes (the CLI), large images go to the workers like any other', async (t) => {
  const pool = new PreprocessPool(1);
  t.teardown(() => pool.close());
  const jpeg = await encode(drawDigit(ZERO, { width: 400, height: 400, box: { x: 100, y: 80, w: 200, h: 240 }, thickness: 30, transparent: false }), 400, 400, 'jpeg');
  t.ok((await pool.run(jpeg, 25_000_000, false)).frame);
  t.same([pool.inline, pool.offloaded, pool.large], [0, 1, null]);
});
