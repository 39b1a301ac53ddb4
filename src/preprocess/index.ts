// The whole preprocessing path used by the service: bytes -> decoded RGBA -> clean ink map ->
// MNIST 28x28 frame, with the PNGs the service stores (the 28x28 input and a thumbnail) and the
// time each stage took. `frame` is null when the image holds no digit.
import { decodeImage, sniffFormat, DEFAULT_MAX_PIXELS, FAST_PNG_MAX_PIXELS, type DecodeOptions, type ImageFormat } from './decode.ts';
import { inkMap as computeInkMap, inkMapFromPngNative } from './ink-native.ts';
import type { InkMapResult } from './ink.ts';
import { frameDigit, isBlank, FRAME_SIZE } from './frame.ts';
import { encodePng, readPngHeader } from './png.ts';

export * from './frame.ts';
export { decodeImage, sniffFormat, UnsupportedImageError, ImageTooLargeError, ImageDecodeError, DEFAULT_MAX_PIXELS } from './decode.ts';
export { inkMapFromRgba } from './ink.ts';
export { inkMap, inkMapNative, inkMapFromPngNative, inkMapImplementation } from './ink-native.ts';
export { encodePng, decodePngFast, readPngHeader } from './png.ts';

export interface PreprocessResult {
  /** 28x28 in [0,1] (before MNIST normalisation), or null when there is no digit. */
  frame: Float32Array | null;
  /** The frame as a grayscale PNG (what the model saw); null with frame. */
  inputPng: Buffer | null;
  /** The composited original, at most 128 px, RGB PNG. */
  thumbnailPng: Buffer;
  format: ImageFormat;
  /** Decoded size (images over 1024 px are shrunk while decoding). */
  width: number;
  height: number;
  polarity: 'dark' | 'light';
  decodeMs: number;
  preprocessMs: number;
}

export function frameToPng(frame: Float32Array): Buffer {
  const bytes = new Uint8Array(FRAME_SIZE * FRAME_SIZE);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.round(frame[i] * 255);
  return encodePng(bytes, FRAME_SIZE, FRAME_SIZE, 1);
}

export async function preprocessImage(buf: Uint8Array, opts?: DecodeOptions): Promise<PreprocessResult> {
  const t0 = performance.now();
  let inkMap: InkMapResult;
  let format: ImageFormat;
  let width: number;
  let height: number;
  let decodeMs: number;
  // Canvas exports (small 8-bit PNGs) go straight from bytes to the ink map in C++; everything
  // else, and every PNG that path declines, is decoded first.
  const png = fastPngSize(buf, opts?.maxPixels ?? DEFAULT_MAX_PIXELS);
  const fused = png ? inkMapFromPngNative(buf, png.width, png.height, true) : null;
  if (fused && png) {
    inkMap = fused;
    format = 'png';
    ({ width, height } = png);
    decodeMs = fused.decodeMs;
  } else {
    const img = await decodeImage(buf, opts);
    decodeMs = performance.now() - t0;
    inkMap = computeInkMap(img);
    ({ format, width, height } = img);
  }
  const t1 = t0 + decodeMs;
  const blank = inkMap.strokePixels === 0 || isBlank(inkMap.ink, inkMap.width, inkMap.height);
  const frame = blank ? null : frameDigit(inkMap.ink, inkMap.width, inkMap.height);
  const inputPng = frame ? frameToPng(frame) : null;
  const th = inkMap.thumbnail;
  const thumbnailPng = encodePng(th.rgb, th.width, th.height, 3);
  const t2 = performance.now();
  return { frame, inputPng, thumbnailPng, format, width, height, polarity: inkMap.polarity, decodeMs, preprocessMs: t2 - t1 };
}

/** Whether these bytes go through the full decoder (sharp): anything but a PNG of at most
 *  FAST_PNG_MAX_PIXELS. Its memory grows with the image, not the upload (two 82 KB PNGs of 25
 *  megapixels decoded at once took +61 MB of resident memory here), unlike the canvas path's;
 *  the service bounds how many run at once (preprocess-pool.ts). Reads the header only. */
export function needsFullDecoder(buf: Uint8Array): boolean {
  return fastPngSize(buf, FAST_PNG_MAX_PIXELS) === null;
}

/** The size of a PNG the fast paths decode (8-bit subset checked later), or null: not a PNG, an
 *  unreadable header, or over the pixel limits (decodeImage then reports or handles it). */
function fastPngSize(buf: Uint8Array, maxPixels: number): { width: number; height: number } | null {
  if (sniffFormat(buf) !== 'png') return null;
  try {
    const h = readPngHeader(buf);
    const pixels = h.width * h.height;
    return pixels > 0 && pixels <= maxPixels && pixels <= FAST_PNG_MAX_PIXELS ? { width: h.width, height: h.height } : null;
  } catch {
    return null;
  }
}
