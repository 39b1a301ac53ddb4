// A small PNG codec for the request path. sharp costs ~1.4 ms per call in pipeline set-up and
// pngjs ~2 ms for a 280x280 canvas PNG (measured here, see README); this decoder reads the
// common case (8-bit, not interlaced) with one zlib inflate and a row unfilter in well under a
// millisecond. Anything else (16-bit, 1/2/4-bit, interlaced, tRNS colour keys) returns null and
// the caller uses sharp. The encoder writes 8-bit grayscale or RGB PNGs (the 28x28 model input and
// the thumbnails).
import zlib from 'node:zlib';

export class ImageDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageDecodeError';
  }
}

export interface RgbaImage {
  width: number;
  height: number;
  /** RGBA, not premultiplied: row y starts at offset + y*stride (compact when both are absent:
   *  offset 0, stride width*4). */
  data: Uint8Array;
  /** Bytes from one row to the next (default width*4). */
  stride?: number;
  /** Byte where row 0 starts (default 0). */
  offset?: number;
}

export interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  interlace: number;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export function isPng(buf: Uint8Array): boolean {
  return buf.length >= 8 && Buffer.from(buf.buffer, buf.byteOffset, 8).equals(SIGNATURE);
}

/** Reads the IHDR chunk only: lets the caller refuse a decompression bomb before inflating it. */
export function readPngHeader(buf: Uint8Array): PngHeader {
  if (!isPng(buf) || buf.length < 33) throw new ImageDecodeError('not a PNG (bad signature or truncated header)');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (String.fromCharCode(buf[12], buf[13], buf[14], buf[15]) !== 'IHDR') throw new ImageDecodeError('PNG without IHDR');
  return {
    width: dv.getUint32(16),
    height: dv.getUint32(20),
    bitDepth: buf[24],
    colorType: buf[25],
    interlace: buf[28],
  };
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** Decodes 8-bit non-interlaced PNGs to compact RGBA; returns null for the variants left to sharp.
 *  Throws ImageDecodeError on corrupt or truncated data. */
export function decodePngFast(buf: Uint8Array): RgbaImage | null {
  const img = decodePngRows(buf);
  if (!img || img.stride === undefined) return img;
  const out = new Uint8Array(img.width * img.height * 4);
  for (let y = 0; y < img.height; y++) {
    const start = (img.offset ?? 0) + y * img.stride;
    out.set(img.data.subarray(start, start + img.width * 4), y * img.width * 4);
  }
  return { width: img.width, height: img.height, data: out };
}

/** Like decodePngFast, but an RGBA PNG comes back as a strided view of the inflated rows (each
 *  row is preceded by its filter byte), which saves a copy of the whole image on the request
 *  path. */
export function decodePngRows(buf: Uint8Array): RgbaImage | null {
  const h = readPngHeader(buf);
  const channels = CHANNELS[h.colorType];
  if (channels === undefined) throw new ImageDecodeError(`PNG colour type ${h.colorType} is invalid`);
  if (h.bitDepth !== 8 || h.interlace !== 0) return null;
  if (h.width === 0 || h.height === 0) throw new ImageDecodeError('PNG has zero width or height');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const idat: Uint8Array[] = [];
  let palette: Uint8Array | null = null;
  let paletteAlpha: Uint8Array | null = null;
  let pos = 8;
  let sawEnd = false;
  while (pos + 8 <= buf.length) {
    const len = dv.getUint32(pos);
    const type = String.fromCharCode(buf[pos + 4], buf[pos + 5], buf[pos + 6], buf[pos + 7]);
    const start = pos + 8;
    if (start + len + 4 > buf.length) throw new ImageDecodeError(`PNG truncated inside the ${type} chunk`);
    const body = buf.subarray(start, start + len);
    if (type === 'IDAT') idat.push(body);
    else if (type === 'PLTE') palette = body;
    else if (type === 'tRNS') {
      if (h.colorType === 3) paletteAlpha = body;
      else return null; // colour-key transparency: rare, leave it to sharp
    } else if (type === 'IEND') {
      sawEnd = true;
      break;
    }
    pos = start + len + 4; // skip the CRC: zlib's adler32 already guards the pixel data
  }
  if (!sawEnd) throw new ImageDecodeError('PNG truncated (no IEND chunk)');
  if (idat.length === 0) throw new ImageDecodeError('PNG has no image data');
  if (h.colorType === 3 && !palette) throw new ImageDecodeError('palette PNG without PLTE');

  const stride = h.width * channels;
  const expected = (stride + 1) * h.height;
  let raw: Buffer;
  try {
    // chunkSize past the expected size: zlib writes one output chunk, which it returns as is
    // (the default 16 KB chunks are concatenated afterwards: a second copy of every pixel).
    raw = zlib.inflateSync(idat.length === 1 ? idat[0] : Buffer.concat(idat), { maxOutputLength: expected + 1, chunkSize: Math.max(64, expected + 1) });
  } catch (err) {
    throw new ImageDecodeError(`PNG image data is corrupt (${(err as Error).message})`);
  }
  if (raw.length !== expected) throw new ImageDecodeError(`PNG image data has ${raw.length} bytes, expected ${expected}`);

  // Unfilter in place (filters: 0 none, 1 sub, 2 up, 3 average, 4 Paeth; bpp = channels).
  const bpp = channels;
  for (let y = 0; y < h.height; y++) {
    const f = raw[y * (stride + 1)];
    const row = y * (stride + 1) + 1;
    const prev = row - (stride + 1);
    const hasPrev = y > 0;
    switch (f) {
      case 0:
        break;
      case 1:
        for (let i = bpp; i < stride; i++) raw[row + i] = (raw[row + i] + raw[row + i - bpp]) & 255;
        break;
      case 2:
        if (hasPrev) for (let i = 0; i < stride; i++) raw[row + i] = (raw[row + i] + raw[prev + i]) & 255;
        break;
      case 3:
        for (let i = 0; i < stride; i++) {
          const left = i >= bpp ? raw[row + i - bpp] : 0;
          const up = hasPrev ? raw[prev + i] : 0;
          raw[row + i] = (raw[row + i] + ((left + up) >> 1)) & 255;
        }
        break;
      case 4:
        for (let i = 0; i < stride; i++) {
          const a = i >= bpp ? raw[row + i - bpp] : 0;
          const b = hasPrev ? raw[prev + i] : 0;
          const c = hasPrev && i >= bpp ? raw[prev + i - bpp] : 0;
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          const pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          raw[row + i] = (raw[row + i] + pred) & 255;
        }
        break;
      default:
        throw new ImageDecodeError(`PNG row ${y} has unknown filter type ${f}`);
    }
  }

  if (h.colorType === 6) return { width: h.width, height: h.height, data: raw, stride: stride + 1, offset: 1 };
  const n = h.width * h.height;
  const out = new Uint8Array(n * 4);
  for (let y = 0; y < h.height; y++) {
    let s = y * (stride + 1) + 1;
    let d = y * h.width * 4;
    for (let x = 0; x < h.width; x++, d += 4) {
      switch (h.colorType) {
        case 6:
          out[d] = raw[s];
          out[d + 1] = raw[s + 1];
          out[d + 2] = raw[s + 2];
          out[d + 3] = raw[s + 3];
          s += 4;
          break;
        case 2:
          out[d] = raw[s];
          out[d + 1] = raw[s + 1];
          out[d + 2] = raw[s + 2];
          out[d + 3] = 255;
          s += 3;
          break;
        case 0:
          out[d] = out[d + 1] = out[d + 2] = raw[s];
          out[d + 3] = 255;
          s += 1;
          break;
        case 4:
          out[d] = out[d + 1] = out[d + 2] = raw[s];
          out[d + 3] = raw[s + 1];
          s += 2;
          break;
        case 3: {
          const idx = raw[s++];
          if (idx * 3 + 2 >= palette!.length) throw new ImageDecodeError(`PNG palette index ${idx} out of range`);
          out[d] = palette![idx * 3];
          out[d + 1] = palette![idx * 3 + 1];
          out[d + 2] = palette![idx * 3 + 2];
          out[d + 3] = paletteAlpha && idx < paletteAlpha.length ? paletteAlpha[idx] : 255;
          break;
        }
      }
    }
  }
  return { width: h.width, height: h.height, data: out };
}

// CRC-32 (PNG chunk checksums), table-driven.
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array, start: number, end: number): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ bytes[i]) & 255] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, body: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + body.length);
  out.writeUInt32BE(body.length, 0);
  out.write(type, 4, 'ascii');
  out.set(body, 8);
  out.writeUInt32BE(crc32(out, 4, 8 + body.length), 8 + body.length);
  return out;
}

/** Encodes 8-bit gray (channels 1) or RGB (channels 3) pixels as a PNG (filter "none" + fast
 *  deflate: these images are tiny, speed matters more than bytes). */
export function encodePng(pixels: Uint8Array, width: number, height: number, channels: 1 | 3): Buffer {
  if (pixels.length !== width * height * channels) {
    throw new RangeError(`encodePng: ${pixels.length} bytes for ${width}x${height}x${channels}`);
  }
  const stride = width * channels;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = channels === 1 ? 0 : 2;
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw, { level: 3 })),
    chunk('IEND', new Uint8Array(0)),
  ]);
}
