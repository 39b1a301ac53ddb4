// The whole preprocessing path used by the service: bytes -> decoded RGBA -> clean ink map ->
// MNIST 28x28 frame, with the PNGs the service stores (the 28x28 input and a thumbnail) and the
// time each stage took. `frame` is null when the image holds no digit.
import { decodeImage, type DecodeOptions, type ImageFormat } from './decode.ts';
import { inkMap as computeInkMap } from './ink-native.ts';
import { frameDigit, isBlank, FRAME_SIZE } from './frame.ts';
import { encodePng } from './png.ts';

export * from './frame.ts';
export { decodeImage, sniffFormat, UnsupportedImageError, ImageTooLargeError, ImageDecodeError, DEFAULT_MAX_PIXELS } from './decode.ts';
export { inkMapFromRgba } from './ink.ts';
export { inkMap, inkMapNative, inkMapImplementation } from './ink-native.ts';
export { encodePng, decodePngFast } from './png.ts';

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
  const img = await decodeImage(buf, opts);
  const t1 = performance.now();
  const inkMap = computeInkMap(img);
  const blank = inkMap.strokePixels === 0 || isBlank(inkMap.ink, inkMap.width, inkMap.height);
  const frame = blank ? null : frameDigit(inkMap.ink, inkMap.width, inkMap.height);
  const inputPng = frame ? frameToPng(frame) : null;
  const th = inkMap.thumbnail;
  const thumbnailPng = encodePng(th.rgb, th.width, th.height, 3);
  const t2 = performance.now();
  return {
    frame,
    inputPng,
    thumbnailPng,
    format: img.format,
    width: img.width,
    height: img.height,
    polarity: inkMap.polarity,
    decodeMs: t1 - t0,
    preprocessMs: t2 - t1,
  };
}
