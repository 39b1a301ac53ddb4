// Pure argument checks and encodings of the device backends' wrapper (device-backend.ts; no addon
// needed, so they are tested without a GPU in test/cuda/). Shape and length checks are the shared
// ones of ../validate.ts; these add what only the native side needs: enum codes (native/cuda's
// UnaryOp/BinaryOp and native/metal's EltArgs.op use the same numbers), 32-bit limits, and the
// dropout threshold.

import type { Activation, BinaryOp, UnaryOp } from '../../backend.ts';

export const unaryCodes: Record<UnaryOp, number> = { neg: 0, exp: 1, log: 2, sqrt: 3, abs: 4, relu: 5 };
export const binaryCodes: Record<BinaryOp, number> = { add: 0, sub: 1, mul: 2, div: 3, max: 4 };

export function unaryCode(op: UnaryOp): number {
  const code = unaryCodes[op];
  if (code === undefined) throw new Error(`unary: unknown op "${String(op)}" (known: ${Object.keys(unaryCodes).join(', ')})`);
  return code;
}

export function binaryCode(op: BinaryOp): number {
  const code = binaryCodes[op];
  if (code === undefined) throw new Error(`binary: unknown op "${String(op)}" (known: ${Object.keys(binaryCodes).join(', ')})`);
  return code;
}

export function isRelu(kernel: string, activation: Activation | undefined): boolean {
  if (activation === undefined || activation === 'none') return false;
  if (activation === 'relu') return true;
  throw new Error(`${kernel}: activation must be 'none' or 'relu', got ${String(activation)}`);
}

/** The kernels index with 32-bit ints: GEMM rows, columns and depth must stay below 2^31. */
export function requireInt32Extent(kernel: string, what: string, value: number): void {
  if (value > 0x7fffffff) {
    throw new Error(`${kernel}: ${what} = ${value} exceeds the device kernels' 32-bit index range; split the batch`);
  }
}

export { dropoutKeepScale, dropoutKeepThreshold } from '../../dropout-rng.ts';

/** fill() writes 32-bit patterns: the float32 bits of `value`, or the int32 for i32 buffers. */
export function fillBits(dtype: 'f32' | 'i32', value: number): number {
  if (dtype === 'i32') {
    if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) {
      throw new Error(`fill: ${value} is not a valid i32 value`);
    }
    return value >>> 0;
  }
  if (typeof value !== 'number') throw new Error(`fill: ${String(value)} is not a valid f32 value`);
  return new Uint32Array(new Float32Array([value]).buffer)[0];
}
