// The metal backend: the shared device wrapper (../device/device-backend.ts: validation, one
// native launcher per kernel, asynchronous readback) over native/metal's addon. The same class runs
// over the emulator's addon as `metal-emu` (the Metal kernels compiled as C++ on Linux).

import { DeviceKernelBackend } from '../device/device-backend.ts';
import type { MetalDeviceInfo, MetalGemmName, NativeMetalContext } from './native.ts';

export class MetalBackend extends DeviceKernelBackend<NativeMetalContext> {
  readonly name: string;
  readonly device: string;
  readonly info: MetalDeviceInfo;

  constructor(native: NativeMetalContext, name = 'metal') {
    super(native);
    this.name = name;
    this.info = native.info();
    const gb = (this.info.workingSetBytes / 2 ** 30).toFixed(0);
    const memory = this.info.unifiedMemory ? `unified memory, ${gb} GiB working set` : `${gb} GiB working set`;
    this.device = `${this.info.name} (${memory}, gemm ${this.info.gemm})`;
  }

  /** Switches the GEMM behind matmul: 'simdgroup' (our simdgroup_matrix kernel) or 'mps'
   *  (MPSMatrixMultiplication; convolutions keep our implicit GEMM). */
  setGemm(gemm: MetalGemmName): void {
    this.ctx('setGemm').setGemm(gemm === 'mps' ? 1 : 0);
  }
}
