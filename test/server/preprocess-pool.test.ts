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
