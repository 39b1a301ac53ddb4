// The ink map on the request path: inkMapFromRgba (ink.ts) computed by the cpu addon's C++ copy
// (native/cpu/preprocess/ink_map.cc) when the addon is built, else by the TypeScript itself.
// The C++ gives the same bits (test/preprocess/ink-native.test.ts) in about a tenth of the time:
// most of a prediction's CPU was this map (~0.5 ms per canvas image in TypeScript here).
// INKLING_NATIVE_PREPROCESS=0 forces the TypeScript (comparisons, debugging).
import { loadCpuAddon } from '../nn/backends/cpu/addon.ts';
import type { RgbaImage } from './png.ts';
import { inkMapFromRgba, workingSize, type InkMapResult } from './ink.ts';

type NativeInkMap = (
  rgba: Uint8Array, width: number, height: number, stride: number, offset: number,
  ink: Float32Array, thumbnail: Uint8Array, info: Int32Array,
) => void;

function loadNative(): NativeInkMap | null {
  if (process.env.INKLING_NATIVE_PREPROCESS === '0') return null;
  try {
    const addon = loadCpuAddon() as unknown as { inkMap?: NativeInkMap };
    return typeof addon.inkMap === 'function' ? addon.inkMap : null; // an older build lacks it
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
  native(img.data, img.width, img.height, img.stride ?? img.width * 4, img.offset ?? 0, ink, rgb, info);
  return { ink, width, height, strokePixels: info[0], polarity: info[1] ? 'light' : 'dark', thumbnail: { rgb, width, height } };
}

export function inkMap(img: RgbaImage): InkMapResult {
  return native ? inkMapNative(img) : inkMapFromRgba(img);
}
