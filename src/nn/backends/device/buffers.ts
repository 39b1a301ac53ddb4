// Buffers of the device backends (cuda, metal and their emulators): a device address inside a
// handle (a CUDA pointer, or a Metal buffer id and byte offset). Handles are checked on every use
// (right backend, not freed, right dtype), like the ref backend's, so lifetime bugs in the tensor
// layer surface as clear errors instead of reads of recycled device memory.

import type { DeviceBuffer, DType } from '../../backend.ts';
import type { DevicePtr } from './native-context.ts';

export class DeviceHandleBuffer<D extends DType = DType> implements DeviceBuffer<D> {
  /** 0 once freed. */
  ptr: DevicePtr;
  /** `view`: a guarded buffer's window into its region (../guarded-alloc.ts): freeing it frees nothing. */
  constructor(
    readonly owner: { readonly name: string },
    readonly length: number,
    readonly dtype: D,
    ptr: DevicePtr,
    readonly view = false,
  ) {
    this.ptr = ptr;
  }
}

/** The device pointer behind `buf` after checking it belongs to `owner`, is live and has `dtype`. */
export function devicePtr(owner: { readonly name: string }, kernel: string, name: string, buf: DeviceBuffer, dtype?: DType): DevicePtr {
  if (!(buf instanceof DeviceHandleBuffer) || buf.owner !== owner) {
    throw new Error(`${kernel}: ${name} is not a buffer of this ${owner.name} backend (buffers cannot cross backends)`);
  }
  if (dtype && buf.dtype !== dtype) throw new Error(`${kernel}: ${name} must be ${dtype}, got ${buf.dtype}`);
  if (buf.ptr === 0) throw new Error(`${kernel}: ${name} was used after free`);
  return buf.ptr;
}

/** Byte address of element `offset` (all dtypes are 4 bytes wide; Metal handles keep the byte
 *  offset in their low 32 bits, so this is the same addition). */
export function elementAddress(ptr: DevicePtr, offset: number): DevicePtr {
  return ptr + offset * 4;
}
