// Pure argument checks and encodings of the device backends' wrapper (device-backend.ts; no addon
// needed, so they are tested without a GPU in test/cuda/). Shape and length checks are the shared
// ones of ../validate.ts; these add what only the native side needs: 32-bit limits, the fill bit
// pattern and the dropout threshold. The op codes (../op-codes.ts) are re-exported for the tests.

import { checkFillValue } from '../validate.ts';

export { binaryCode, binaryCodes, unaryCode, unaryCodes } from '../op-codes.ts';
export { isRelu } from '../validate.ts';

/** The kernels index with 32-bit ints: GEMM rows, columns and depth must stay below 2^31. */
export function requireInt32Extent(kernel: string, what: string, value: number): void {
  if (value > 0x7fffffff) {
    throw new Error(`${kernel}: ${what} = ${value} exceeds the device kernels' 32-bit index range; split the batch`);
  }
}

export { dropoutKeepScale, dropoutKeepThreshold } from '../../dropout-rng.ts';

/** fill() writes 32-bit patterns: the float32 bits of `value`, or the int32 for i32 buffers. */
export function fillBits(dtype: 'f32' | 'i32', value: number): number {
  checkFillValue(dtype, value);
  if (dtype === 'i32') return value >>> 0;
  return new Uint32Array(new Float32Array([value]).buffer)[0];
}
