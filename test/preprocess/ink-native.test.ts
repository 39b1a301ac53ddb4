// The C++ ink map (native/cpu/preprocess/ink_map.cc) against the TypeScript reference
// (src/preprocess/ink.ts): the same bits for the ink map and the thumbnail, the same stroke count
// and polarity, on every kind of image the pipeline tests use plus random and odd-sized ones, with
// strided pixel rows as the PNG decoder hands them over. Without the cpu addon this is a skip
// (the service then runs the TypeScript), unless INKLING_REQUIRE_CPU=1 makes it a failure.
import t, { type Test } from 'tap';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { decodeImage, inkMapFromRgba, inkMapNative, inkMapFromPngNative, inkMapImplementation, preprocessImage, readPngHeader, encodePng } from '../../src/preprocess/index.ts';
import type { RgbaImage } from '../../src/preprocess/png.ts';
import { drawDigit, encode, SEVEN, ZERO, ONE, type Segment, type DrawOptions } from './images.ts';

const required = process.env.INKLING_REQUIRE_CPU === '1';
const nativeMissing = inkMapImplementation !== 'native' && process.env.INKLING_NATIVE_PREPROCESS !== '0';

function sameBits(a: Float32Array | Uint8Array, b: Float32Array | Uint8Array): number {
  const x = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  const y = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (x.length !== y.length) return -2;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

function compare(t: Test, img: RgbaImage, label: string): void {
  const ts = inkMapFromRgba(img);
  const cc = inkMapNative(img);
  t.equal(cc.width, ts.width, `${label}: width`);
  t.equal(cc.height, ts.height, `${label}: height`);
  t.equal(cc.strokePixels, ts.strokePixels, `${label}: stroke pixels`);
  t.equal(cc.polarity, ts.polarity, `${label}: polarity`);
  t.equal(sameBits(cc.ink, ts.ink), -1, `${label}: ink map bit for bit`);
  t.equal(sameBits(cc.thumbnail.rgb, ts.thumbnail.rgb), -1, `${label}: thumbnail byte for byte`);
}

const canvas = { width: 280, height: 280, box: { x: 70, y: 50, w: 140, h: 180 }, thickness: 18 };
const drawn: { name: string; digit: Segment[]; opts: DrawOptions; format?: 'png' | 'jpeg' | 'webp' | 'gif'; quality?: number }[] = [
  { name: 'transparent canvas, black strokes', digit: SEVEN, opts: { ...canvas, transparent: true } },
  { name: 'transparent canvas, white strokes', digit: ZERO, opts: { ...canvas, transparent: true, ink: [255, 255, 255] } },
  { name: 'tiny 28x28', digit: SEVEN, opts: { width: 28, height: 28, box: { x: 5, y: 4, w: 16, h: 20 }, thickness: 2.5 } },
  { name: 'large 1800x1200 JPEG', digit: ZERO, opts: { width: 1800, height: 1200, box: { x: 900, y: 200, w: 500, h: 800 }, thickness: 60 }, format: 'jpeg' },
  { name: 'off-centre', digit: SEVEN, opts: { width: 280, height: 280, box: { x: 8, y: 150, w: 70, h: 110 }, thickness: 8 } },
  { name: 'thick marker', digit: ZERO, opts: { width: 280, height: 280, box: { x: 40, y: 20, w: 200, h: 240 }, thickness: 48 } },
  { name: 'JPEG noise', digit: SEVEN, opts: { ...canvas, noise: 12 }, format: 'jpeg', quality: 25 },
  { name: 'photo of paper', digit: SEVEN, opts: { width: 800, height: 600, box: { x: 300, y: 120, w: 220, h: 330 }, thickness: 16, paper: [205, 195, 175], ink: [60, 60, 75], gradient: 0.55, noise: 22 }, format: 'jpeg', quality: 70 },
  { name: 'white on black', digit: ONE, opts: { ...canvas, ink: [255, 255, 255], paper: [0, 0, 0] } },
  { name: 'yellow chalk on green', digit: SEVEN, opts: { ...canvas, ink: [240, 230, 90], paper: [30, 70, 40], noise: 10 } },
  { name: 'blue pen on cream, WebP', digit: ZERO, opts: { ...canvas, ink: [30, 40, 160], paper: [250, 240, 210] }, format: 'webp' },
  { name: 'blank paper with noise', digit: [], opts: { ...canvas, noise: 30 } },
  { name: 'blank transparent canvas', digit: [], opts: { ...canvas, transparent: true } },
];

/** Random RGBA with a random row stride and offset (the decoder's strided views). */
function randomImage(seed: number): RgbaImage {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const width = 1 + Math.floor(rand() * (rand() < 0.3 ? 8 : 400));
  const height = 1 + Math.floor(rand() * (rand() < 0.3 ? 8 : 400));
  const stride = width * 4 + Math.floor(rand() * 5);
  const offset = Math.floor(rand() * 7);
  const data = new Uint8Array(offset + stride * height);
  const kind = Math.floor(rand() * 3);
  for (let i = 0; i < data.length; i++) {
    // 0: uniform noise; 1: mostly transparent with opaque blobs; 2: smooth gradient plus specks.
    const p = i >> 2;
    data[i] = kind === 0 ? (rand() * 256) | 0 : kind === 1 ? (i % 4 === 3 ? (rand() < 0.1 ? 255 : 0) : (rand() * 256) | 0) : ((p % 97) * 2 + (rand() < 0.02 ? 120 : 0)) & 255;
  }
  return { width, height, data, stride, offset };
}

t.test('native ink map', { skip: nativeMissing && !required ? 'the cpu addon is not built (npm run build:cpu): the service uses the TypeScript ink map' : false }, async (t) => {
  if (nativeMissing) {
    t.fail('INKLING_REQUIRE_CPU=1 but the native ink map is unavailable');
    return;
  }
  t.test('drawn digits in every format', async (t) => {
    for (const c of drawn) {
      const bytes = await encode(drawDigit(c.digit, c.opts), c.opts.width, c.opts.height, c.format ?? 'png', c.quality ?? 80);
      compare(t, await decodeImage(bytes), c.name);
    }
  });
  t.test('random images, odd sizes, strided rows', async (t) => {
    for (let seed = 1; seed <= 40; seed++) compare(t, randomImage(seed), `random #${seed}`);
  });
  t.test('PNG bytes straight to the ink map: every colour type, filters, split IDAT', async (t) => {
    const rgba = drawDigit(SEVEN, { ...canvas, transparent: true });
    const raw = sharp(Buffer.from(rgba), { raw: { width: 280, height: 280, channels: 4 } });
    const opaque = drawDigit(ZERO, { ...canvas, ink: [30, 40, 160], paper: [250, 240, 210], noise: 8 });
    const rawOpaque = sharp(Buffer.from(opaque), { raw: { width: 280, height: 280, channels: 4 } });
    const pngs: [string, Buffer][] = [
      ['RGBA (canvas export)', await raw.clone().png({ adaptiveFiltering: true }).toBuffer()],
      ['RGBA, no filters', await raw.clone().png({ adaptiveFiltering: false, compressionLevel: 1 }).toBuffer()],
      ['RGB', await rawOpaque.clone().removeAlpha().png({ adaptiveFiltering: true }).toBuffer()],
      ['grey', await rawOpaque.clone().toColourspace('b-w').png({ adaptiveFiltering: true }).toBuffer()],
      ['grey + alpha', await raw.clone().toColourspace('b-w').png({ adaptiveFiltering: true }).toBuffer()],
      ['palette with tRNS', await raw.clone().png({ palette: true }).toBuffer()],
      ['palette, opaque', await rawOpaque.clone().removeAlpha().png({ palette: true }).toBuffer()],
      ['28x28 grey (our encoder)', encodePng(Uint8Array.from({ length: 784 }, (_, i) => ((i * 37) % 251 > 200 ? 0 : 255)), 28, 28, 1)],
    ];
    pngs.push(['RGBA, IDAT split in 97-byte chunks', splitIdat(pngs[0][1], 97)]);
    for (const [name, png] of pngs) {
      const h = readPngHeader(png);
      t.equal(h.bitDepth, 8, `${name}: 8-bit`);
      const fused = inkMapFromPngNative(png, h.width, h.height);
      if (!fused) {
        t.fail(`${name}: the native PNG path declined it`);
        continue;
      }
      const ts = inkMapFromRgba(await decodeImage(png));
      t.equal(fused.strokePixels, ts.strokePixels, `${name}: stroke pixels`);
      t.equal(fused.polarity, ts.polarity, `${name}: polarity`);
      t.equal(sameBits(fused.ink, ts.ink), -1, `${name}: ink map bit for bit`);
      t.equal(sameBits(fused.thumbnail.rgb, ts.thumbnail.rgb), -1, `${name}: thumbnail byte for byte`);
    }
  });
  t.test('PNGs the native path declines go the TypeScript way (same answers, same errors)', async (t) => {
    const good = await sharp(Buffer.from(drawDigit(SEVEN, { ...canvas, transparent: true })), { raw: { width: 280, height: 280, channels: 4 } }).png().toBuffer();
    const { width, height } = readPngHeader(good);
    const idat = good.indexOf('IDAT') - 4;
    const truncated = good.subarray(0, idat + 40);
    const badAdler = Buffer.from(good);
    badAdler[idat + 8 + badAdler.readUInt32BE(idat) - 1] ^= 0xff; // last byte of the zlib stream
    const sixteenBit = await sharp(Buffer.from(drawDigit(SEVEN, canvas)), { raw: { width: 280, height: 280, channels: 4 } }).toColourspace('rgb16').png().toBuffer();
    const extraRow = pngWithRaw(281, 280);
    for (const [name, png] of [['truncated', truncated], ['bad adler32', badAdler], ['16-bit', sixteenBit], ['more pixel data than rows', extraRow]] as const) {
      t.equal(inkMapFromPngNative(png, width, height), null, `${name}: declined`);
      const viaTs = await preprocessImage(png).then(() => 'decoded', (e: Error) => e.name);
      t.ok(viaTs === 'decoded' ? name === '16-bit' : viaTs === 'ImageDecodeError', `${name}: preprocessImage gives ${viaTs}`);
    }
  });
  t.test('bad calls throw instead of reading out of bounds', async (t) => {
    const img = randomImage(3);
    const needed = img.offset! + (img.height - 1) * img.stride! + img.width * 4;
    t.throws(() => inkMapNative({ ...img, data: img.data.subarray(0, needed - 1) }), /shorter than the image/);
    t.throws(() => inkMapNative({ ...img, stride: 1 }), /geometry/);
  });
});

/** The same PNG with its image data spread over IDAT chunks of `size` bytes. */
function splitIdat(png: Buffer, size: number): Buffer {
  const parts: Buffer[] = [png.subarray(0, 8)];
  const data: Buffer[] = [];
  let pos = 8;
  let tail: Buffer[] = [];
  while (pos < png.length) {
    const len = png.readUInt32BE(pos);
    const type = png.toString('latin1', pos + 4, pos + 8);
    const whole = png.subarray(pos, pos + 12 + len);
    if (type === 'IDAT') data.push(png.subarray(pos + 8, pos + 8 + len));
    else if (data.length === 0) parts.push(whole);
    else tail.push(whole);
    pos += 12 + len;
  }
  const all = Buffer.concat(data);
  for (let i = 0; i < all.length; i += size) parts.push(pngChunk('IDAT', all.subarray(i, i + size)));
  return Buffer.concat([...parts, ...tail]);
}

function pngChunk(type: string, body: Buffer): Buffer {
  const out = Buffer.alloc(12 + body.length);
  out.writeUInt32BE(body.length, 0);
  out.write(type, 4, 'latin1');
  body.copy(out, 8);
  out.writeUInt32BE(zlib.crc32(out.subarray(4, 8 + body.length)), 8 + body.length);
  return out;
}

/** A 280-wide grey PNG whose IHDR says 280 rows but whose data holds `rows`. */
function pngWithRaw(rows: number, declared: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(280, 0);
  ihdr.writeUInt32BE(declared, 4);
  ihdr[8] = 8;
  ihdr[9] = 0;
  const raw = Buffer.alloc(rows * 281, 0);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr), pngChunk('IDAT', zlib.deflateSync(raw)), pngChunk('IEND', Buffer.alloc(0))]);
}
