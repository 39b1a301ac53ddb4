// Buffers of the cuda backend: a device pointer inside a handle. Handles are checked on every use
// (right backend, not freed, right dtype), like the ref backend's, so lifetime bugs in the tensor
// layer surface as clear errors instead of reads of recycled device memory.

import type { DeviceBuffer, DType } from '../../backend.ts';
import type { DevicePtr } from './native.ts';

export class CudaBuffer<D extends DType = DType> implements DeviceBuffer<D> {
  /** 0 once freed. */
  ptr: DevicePtr;
  /** `view`: a guarded buffer's window into its region (../guarded-alloc.ts): freeing it frees nothing. */
  constructor(
    readonly owner: object,
    readonly length: number,
    readonly dtype: D,
    ptr: DevicePtr,
    readonly view = false,
  ) {
    this.ptr = ptr;
  }
}

/** The device pointer behind `buf` after checking it belongs to `owner`, is live and has `dtype`. */
export function devicePtr(owner: object, kernel: string, name: string, buf: DeviceBuffer, dtype?: DType): DevicePtr {
  if (!(buf instanceof CudaBuffer) || buf.owner !== owner) {
    throw new Error(`${kernel}: ${name} is not a buffer of this cuda backend (buffers cannot cross backends)`);
  }
  if (dtype && buf.dtype !== dtype) throw new Error(`${kernel}: ${name} must be ${dtype}, got ${buf.dtype}`);
  if (buf.ptr === 0) throw new Error(`${kernel}: ${name} was used after free`);
  return buf.ptr;
}

/** Byte address of element `offset` (all dtypes are 4 bytes wide). */
export function elementAddress(ptr: DevicePtr, offset: number): DevicePtr {
  return ptr + offset * 4;
}
