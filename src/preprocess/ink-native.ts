// The ink map on the request path: inkMapFromRgba (ink.ts) computed by the cpu addon's C++ copy
// (native/cpu/preprocess/ink_map.cc) when the addon is built, else by the TypeScript itself.
// The C++ gives the same bits (test/preprocess/ink-native.test.ts) in under half the time (0.48
// vs 0.22 ms for a 280x280 canvas here): most of a prediction's CPU was this map.
// INKLING_NATIVE_PREPROCESS=0 forces the TypeScript (comparisons, debugging).
import { loadCpuAddon } from '../nn/backends/cpu/addon.ts';
import type { RgbaImage } from './png.ts';
import { inkMapFromRgba, workingSize, WORK_MAX, type InkMapResult } from './ink.ts';

interface NativePreprocess {
  inkMap(rgba: Uint8Array, width: number, height: number, stride: number, offset: number,
    ink: Float32Array, thumbnail: Uint8Array, info: Int32Array): void;
  inkMapFromPng(png: Uint8Array, ink: Float32Array, thumbnail: Uint8Array, info: Float64Array): boolean;
}

function loadNative(): NativePreprocess | null {
  if (process.env.INKLING_NATIVE_PREPROCESS === '0') return null;
  try {
    const addon = loadCpuAddon() as unknown as Partial<NativePreprocess>;
    // An addon built before these functions existed lacks them: the TypeScript then does it all.
    if (typeof addon.inkMap !== 'function' || typeof addon.inkMapFromPng !== 'function') return null;
    return addon as NativePreprocess;
  } catch {
    return null; // no addon here: the TypeScript does the same work
  }
}

const native = loadNative();

/** Which implementation `inkMap` runs ('native' or 'typescript'), for logs and benchmarks. */
export const inkMapImplementation: 'native' | 'typescript' = native ? 'native' : 'typescript';

/** The C++ ink map; throws when the addon is not available (tests compare it with the TS). */
export function inkMapNative(img: RgbaImage): InkMapResult {
  if (!native) throw new Error('the native ink map needs the cpu addon (npm run build:cpu)');
  const { width, height } = workingSize(img.width, img.height);
  const n = width * height;
  const ink = new Float32Array(n);
  const rgb = new Uint8Array(n * 3);
  const info = new Int32Array(2);
  native.inkMap(img.data, img.width, img.height, img.stride ?? img.width * 4, img.offset ?? 0, ink, rgb, info);
  return { ink, width, height, strokePixels: info[0], polarity: info[1] ? 'light' : 'dark', thumbnail: { rgb, width, height } };
}

export function inkMap(img: RgbaImage): InkMapResult {
  return native ? inkMapNative(img) : inkMapFromRgba(img);
}

export interface PngInkMap extends InkMapResult {
  /** Inflating the PNG and building the working image (there is no separate decoded image). */
  decodeMs: number;
}

/** PNG bytes straight to the ink map in C++ (native/cpu/preprocess/png_ink_map.cc), for PNGs in
 *  the subset png.ts decodes itself; null when the addon is missing or the PNG must take the
 *  TypeScript path (other variants, and every corrupt file: that path reports the error).
 *  The caller checks the pixel limits first. With `reuse`, the ink map and thumbnail are views of
 *  module scratch that the next call overwrites: for callers that are done with them before they
 *  yield (preprocessImage), sparing two allocations per image. */
export function inkMapFromPngNative(png: Uint8Array, width: number, height: number, reuse = false): PngInkMap | null {
  if (!native) return null;
  const work = workingSize(width, height);
  const n = work.width * work.height;
  const ink = reuse ? scratch.ink.subarray(0, n) : new Float32Array(n);
  const rgb = reuse ? scratch.rgb.subarray(0, n * 3) : new Uint8Array(n * 3);
  if (!native.inkMapFromPng(png, ink, rgb, scratch.info)) return null;
  const [strokePixels, light, decodeMs] = scratch.info;
  return { ink, width: work.width, height: work.height, strokePixels, polarity: light ? 'light' : 'dark', thumbnail: { rgb, width: work.width, height: work.height }, decodeMs };
}

const scratch = {
  ink: new Float32Array(WORK_MAX * WORK_MAX),
  rgb: new Uint8Array(WORK_MAX * WORK_MAX * 3),
  info: new Float64Array(3),
};
