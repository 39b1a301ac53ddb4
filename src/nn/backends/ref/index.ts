// The ref backend: plain TypeScript, the oracle every other backend is checked against.
// The kernel math is exported as functions over Float32Array | Float64Array so that the gradient
// checks can run it in float64.

import type { Backend } from '../../backend.ts';
import { RefBackend } from './ref-backend.ts';

export { RefBackend };
export * as refKernels from './kernels.ts';
export type { Num } from './numeric.ts';

export async function createRefBackend(): Promise<Backend> {
  return new RefBackend();
}
