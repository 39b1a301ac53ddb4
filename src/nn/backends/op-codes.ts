// The numbers that name the elementwise ops across the language boundary: the one definition.
// Every native and shader table repeats them (native/cpu/kernels.h, native/cuda/kernels.h,
// native/metal/elementwise.metal, webgpu/kernels/elementwise.wgsl) because C++, MSL and WGSL cannot
// import TypeScript; test/nn/op-codes.test.ts parses each of them and fails when one drifts from
// this file.

import type { BinaryOp, UnaryOp } from '../backend.ts';

export const unaryCodes: Readonly<Record<UnaryOp, number>> = { neg: 0, exp: 1, log: 2, sqrt: 3, abs: 4, relu: 5 };
export const binaryCodes: Readonly<Record<BinaryOp, number>> = { add: 0, sub: 1, mul: 2, div: 3, max: 4 };

export function unaryCode(op: UnaryOp): number {
  const code = Object.hasOwn(unaryCodes, op) ? unaryCodes[op] : undefined;
  if (code === undefined) throw new Error(`unary: unknown op "${String(op)}" (known: ${Object.keys(unaryCodes).join(', ')})`);
  return code;
}

export function binaryCode(op: BinaryOp): number {
  const code = Object.hasOwn(binaryCodes, op) ? binaryCodes[op] : undefined;
  if (code === undefined) throw new Error(`binary: unknown op "${String(op)}" (known: ${Object.keys(binaryCodes).join(', ')})`);
  return code;
}
