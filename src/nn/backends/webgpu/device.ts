// Finding a WebGPU adapter through Dawn (npm `webgpu`) and opening one device per process.
//
// Why one device per process: pipelines belong to a device, and lavapipe (Mesa's CPU Vulkan)
// takes seconds to compile a large shader. Sharing the device lets every backend instance in a
// process (tests create many) share one pipeline cache. Each backend still owns its buffers.
//
// Why we hold `gpu`: the object returned by `create()` owns Dawn's instance; if it is garbage
// collected while a device from it is alive, Node segfaults inside Dawn (README.md, Running it).
import { create, globals } from 'webgpu';

export interface GpuContext {
  /** Dawn's instance; held for the life of the process on purpose (see above). */
  readonly gpu: GPU;
  readonly adapter: GPUAdapter;
  readonly device: GPUDevice;
  /** "llvmpipe (LLVM 19.1.7, 256 bits) (vulkan, mesa, Mesa 25.0.x)" or the GPU's name. */
  readonly description: string;
  readonly hasTimestamps: boolean;
  readonly hasF16: boolean;
  /** Validation or out-of-memory errors reported by Dawn since the last check. */
  readonly errors: string[];
}

export const NO_ADAPTER_HELP =
  'WebGPU: no adapter available (navigator.gpu.requestAdapter() returned null). ' +
  'Install a GPU driver with Vulkan support (Linux), or on a CPU-only Debian 12 machine Mesa\'s ' +
  'lavapipe from bookworm-backports (Debian 12\'s own Mesa 22.3 is refused by Dawn), as root:\n' +
  "  sed -i 's/^Suites: bookworm bookworm-updates$/& bookworm-backports/' /etc/apt/sources.list.d/debian.sources\n" +
  '  apt-get update && apt-get install -y -t bookworm-backports mesa-vulkan-drivers && apt-get install -y libvulkan1\n' +
  'or choose another backend (--backend cpu or ref).';

let contextPromise: Promise<GpuContext> | null = null;

/** The process-wide WebGPU device; the first call opens it. `flags` are Dawn toggles such as
 *  `backend=vulkan` and only matter on the first call. */
export function getGpuContext(flags: string[] = []): Promise<GpuContext> {
  if (!contextPromise) {
    contextPromise = openContext(flags);
    // A failed attempt (no adapter) must not poison later attempts after the user fixes it.
    contextPromise.catch(() => { contextPromise = null; });
  }
  return contextPromise;
}

function describe(adapter: GPUAdapter): string {
  const info = adapter.info;
  const parts = [info.description || info.device || 'unknown adapter'];
  const extra = [info.vendor, info.architecture].filter((s) => s && s.length > 0);
  if (extra.length) parts.push(`(${extra.join(', ')})`);
  return parts.join(' ');
}

/** Opens a new context without the process-wide cache (tests of the failure path use it). */
export async function openContext(flags: string[]): Promise<GpuContext> {
  // Dawn's globals (GPUBufferUsage, GPUMapMode, …) are not on globalThis in Node by default.
  Object.assign(globalThis, globals);
  const gpu = create(flags);
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (err) {
    // Dawn throws instead of returning null when flags filter every adapter out.
    throw new Error(`${NO_ADAPTER_HELP}\nDawn said: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  if (!adapter) throw new Error(NO_ADAPTER_HELP);

  // Ask for everything the adapter offers: the defaults cap workgroups at 256 invocations and
  // storage bindings at 128 MiB, which is less than real GPUs (and lavapipe) can do.
  const requiredLimits: Record<string, number> = {};
  for (const key in adapter.limits) {
    const value = (adapter.limits as unknown as Record<string, unknown>)[key];
    if (typeof value === 'number') requiredLimits[key] = value;
  }
  const wanted: GPUFeatureName[] = ['timestamp-query', 'shader-f16'];
  const requiredFeatures = wanted.filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });

  const errors: string[] = [];
  device.onuncapturederror = (ev: GPUUncapturedErrorEvent) => {
    errors.push(ev.error.message);
  };
  device.lost.then((info) => {
    if (info.reason !== 'destroyed') errors.push(`WebGPU device lost: ${info.message}`);
  });
  return {
    gpu,
    adapter,
    device,
    description: describe(adapter),
    hasTimestamps: device.features.has('timestamp-query'),
    hasF16: device.features.has('shader-f16'),
    errors,
  };
}
