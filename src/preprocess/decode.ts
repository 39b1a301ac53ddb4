// Bytes -> RGBA. Only PNG, JPEG, WebP and GIF are accepted (sniffed from the bytes, not trusted
// from a content type; SVG and everything else is refused). The pixel count is checked before any
// pixel is decoded (decompression bombs). Small 8-bit PNGs (canvas exports) take the pure-JS path
// in png.ts; the rest go through sharp, which also shrinks large images to at most
// SHARP_MAX_SIDE on the long side while decoding (photos: EXIF orientation applied).
import sharp from 'sharp';
import { decodePngRows, readPngHeader, ImageDecodeError, type RgbaImage } from './png.ts';

export { ImageDecodeError } from './png.ts';

export type ImageFormat = 'png' | 'jpeg' | 'webp' | 'gif';

export class UnsupportedImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedImageError';
  }
}

export class ImageTooLargeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageTooLargeError';
  }
}

export interface DecodeOptions {
  /** Largest width*height accepted. */
  maxPixels: number;
}

export const DEFAULT_MAX_PIXELS = 25_000_000;
/** PNGs up to this many pixels are decoded without sharp (png.ts, or the native path). */
export const FAST_PNG_MAX_PIXELS = 1_000_000;
const SHARP_MAX_SIDE = 1024;
// Every image is decoded once: libvips' operation cache (50 MB by default) only kept decoded
// pixels of past requests alive, which the service's resident memory never gave back.
sharp.cache(false);

export function sniffFormat(buf: Uint8Array): ImageFormat | null {
  if (buf.length >= 8 && buf[0] === 0x89 && buf[1] === 0x50 && buf[2] === 0x4e && buf[3] === 0x47) return 'png';
  if (buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return 'jpeg';
  if (buf.length >= 6) {
    const head = String.fromCharCode(...buf.subarray(0, 6));
    if (head === 'GIF87a' || head === 'GIF89a') return 'gif';
  }
  if (buf.length >= 12) {
    const riff = String.fromCharCode(...buf.subarray(0, 4));
    const webp = String.fromCharCode(...buf.subarray(8, 12));
    if (riff === 'RIFF' && webp === 'WEBP') return 'webp';
  }
  return null;
}

export interface DecodedImage extends RgbaImage {
  format: ImageFormat;
}

export async function decodeImage(buf: Uint8Array, opts: DecodeOptions = { maxPixels: DEFAULT_MAX_PIXELS }): Promise<DecodedImage> {
  if (buf.length === 0) throw new ImageDecodeError('the image is empty (0 bytes)');
  const format = sniffFormat(buf);
  if (!format) {
    const text = Buffer.from(buf.subarray(0, 256)).toString('latin1').trimStart().toLowerCase();
    const hint = text.startsWith('<svg') || text.startsWith('<?xml') ? 'SVG is not accepted; ' : '';
    throw new UnsupportedImageError(`${hint}the bytes are not a PNG, JPEG, WebP or GIF image`);
  }
  if (format === 'png') {
    const h = readPngHeader(buf);
    if (h.width * h.height > opts.maxPixels) {
      throw new ImageTooLargeError(`image is ${h.width}x${h.height} = ${h.width * h.height} pixels; the limit is ${opts.maxPixels}`);
    }
    if (h.width * h.height <= FAST_PNG_MAX_PIXELS) {
      const img = decodePngRows(buf);
      if (img) return { ...img, format };
    }
  }
  try {
    const pipeline = sharp(buf, { limitInputPixels: opts.maxPixels, failOn: 'error' })
      .rotate()
      .resize({ width: SHARP_MAX_SIDE, height: SHARP_MAX_SIDE, fit: 'inside', withoutEnlargement: true })
      .ensureAlpha()
      .raw();
    const { data, info } = await pipeline.toBuffer({ resolveWithObject: true });
    if (info.channels !== 4) throw new ImageDecodeError(`decoder gave ${info.channels} channels, expected 4`);
    return {
      width: info.width,
      height: info.height,
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      format,
    };
  } catch (err) {
    if (err instanceof ImageDecodeError) throw err;
    const msg = (err as Error).message ?? String(err);
    if (/pixel limit/i.test(msg)) throw new ImageTooLargeError(`image exceeds the pixel limit of ${opts.maxPixels}`);
    throw new ImageDecodeError(`the ${format.toUpperCase()} image is corrupt or truncated (${msg.split('\n')[0]})`);
  }
}
