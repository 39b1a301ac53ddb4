// A test hook every backend implements: a buffer placed inside a larger allocation of the same
// device memory, with `guard` elements before and after it. The conformance harness fills the
// guards with sentinels, runs a kernel on the inner buffer and checks that the sentinels are
// intact, so a kernel that writes past either end of any buffer fails its case on every backend
// (in the way of ggml's test-backend-ops sentinels). Sentinels also sit where a kernel would read
// past an input, so such a read poisons the result.
//
// The inner buffer is an ordinary buffer of the backend (kernels take it like any other); the
// region is one too (upload and download work on it). Free the buffer first, then the region.

import type { Backend, DeviceBuffer, DType } from '../backend.ts';

export interface GuardedAllocation<D extends DType> {
  /** `length` elements, what a kernel is given. */
  readonly buffer: DeviceBuffer<D>;
  /** guard + length + guard elements of the same memory; `buffer` starts at element `guard`. */
  readonly region: DeviceBuffer<D>;
  readonly guard: number;
}

export interface GuardedAllocator {
  allocGuarded<D extends DType>(length: number, dtype: D, guard: number): GuardedAllocation<D>;
}

export function hasGuardedAlloc(backend: Backend): backend is Backend & GuardedAllocator {
  return typeof (backend as Partial<GuardedAllocator>).allocGuarded === 'function';
}

/** Guard elements the conformance harness uses: 64 × 4 bytes keeps an inner buffer 256-byte
 *  aligned (WebGPU's storage-binding offset alignment, cudaMalloc's alignment). */
export const CONFORMANCE_GUARD = 64;

export function checkGuardArgs(kernel: string, length: number, guard: number): void {
  if (!Number.isInteger(length) || length < 0) throw new Error(`${kernel}: length must be a non-negative integer, got ${length}`);
  if (!Number.isInteger(guard) || guard < 1) throw new Error(`${kernel}: guard must be a positive integer, got ${guard}`);
}
