// The cuda backend: the shared device wrapper (../device/device-backend.ts: validation, one native
// launcher per kernel, asynchronous readback) over native/cuda's addon, plus what only CUDA has.
//
// Beyond the Backend contract it offers CUDA-graph capture of a whole training step (additive and
// optional: see `GraphCapableBackend` and native/cuda/README.md, "CUDA graphs").

import type { Backend } from '../../backend.ts';
import { DeviceKernelBackend } from '../device/device-backend.ts';
import type { CudaDeviceInfo, NativeCudaContext } from './native.ts';
import type { GemmVariantName } from './params.ts';

/** CUDA-graph capture of one training step; see native/cuda/README.md. */
export interface GraphCapableBackend extends Backend {
  /** Starts capturing: kernels are recorded, not run. Inputs must live in buffers allocated before. */
  beginCapture(): void;
  /** Ends the capture, instantiates the graph and runs it once (the captured step's results exist). */
  endCapture(): void;
  /** Drops a capture that failed midway (the stream returns to eager mode). */
  abortCapture(): void;
  /** Runs the captured step again: Adam's t and dropout's step advance by one per replay; `lr`
   *  replaces the captured learning rate of every optimizer update when given. */
  replay(opts?: { lr?: number }): void;
  /** Destroys the graph and hands its memory pool back. */
  releaseGraph(): void;
  readonly capturing: boolean;
  readonly hasGraph: boolean;
}

export function isGraphCapable(backend: Backend): backend is GraphCapableBackend {
  const b = backend as Partial<GraphCapableBackend>;
  return typeof b.beginCapture === 'function' && typeof b.replay === 'function';
}

export class CudaBackend extends DeviceKernelBackend<NativeCudaContext> implements GraphCapableBackend {
  readonly device: string;
  readonly info: CudaDeviceInfo;
  private capturingNow = false;
  private graph = false;
  private gemm: GemmVariantName;

  /** `name` is 'cuda', or 'cuda-emu' when `native` comes from the emulator build. */
  constructor(native: NativeCudaContext, readonly name: 'cuda' | 'cuda-emu' = 'cuda') {
    super(native);
    this.info = native.info();
    this.gemm = this.info.gemm;
    const gb = (this.info.totalMemory / 2 ** 30).toFixed(0);
    this.device = `${this.info.name} (sm_${this.info.computeCapability.replace('.', '')}, ${this.info.smCount} SMs, ${gb} GiB, gemm ${this.info.gemm})`;
  }

  /** Bytes the caching allocator holds from the driver (live buffers, scratch and cached blocks). */
  reservedBytes(): number {
    return this.ctx('reservedBytes').reservedBytes();
  }

  /** Switches the GEMM behind matmul and conv: 'simt' (fp32) or 'tf32' (tensor cores). */
  setGemmVariant(variant: GemmVariantName): void {
    this.ctx('setGemmVariant').setGemm(variant === 'tf32' ? 1 : 0);
    this.gemm = variant;
  }

  /** The arithmetic of matmul and the convolutions: 'tf32' rounds their operands to TF32. */
  get gemmPrecision(): 'fp32' | 'tf32' {
    return this.gemm === 'tf32' ? 'tf32' : 'fp32';
  }

  // ---- graphs ----
  get capturing(): boolean {
    return this.capturingNow;
  }
  get hasGraph(): boolean {
    return this.graph;
  }
  beginCapture(): void {
    this.ctx('beginCapture').beginCapture();
    this.graph = false;
    this.capturingNow = true;
  }
  endCapture(): void {
    const native = this.ctx('endCapture');
    this.capturingNow = false;
    native.endCapture();
    this.graph = true;
  }
  abortCapture(): void {
    this.ctx('abortCapture').abortCapture();
    this.capturingNow = false;
    this.graph = false;
  }
  replay(opts: { lr?: number } = {}): void {
    if (opts.lr !== undefined && !Number.isFinite(opts.lr)) throw new Error(`replay: lr must be a finite number, got ${opts.lr}`);
    this.ctx('replay').replay(opts.lr);
  }
  releaseGraph(): void {
    this.ctx('releaseGraph').releaseGraph();
    this.graph = false;
  }
}
