// The one place backends are listed. A backend folder `./<name>/index.ts` exports a factory
// `create<Name>Backend(opts?): Promise<Backend>` that throws (with the fix in its message) when the
// backend cannot run here: the addon is not built, no GPU adapter, no CUDA driver...
//
// Adding a backend is ONE line in `loaders` below, e.g.
//   cpu: () => import('./cpu/index.ts').then((m) => m.createCpuBackend),
// The import is dynamic so that a backend whose module fails to load (a missing native addon)
// never breaks the others.

import type { Backend } from '../backend.ts';

export type BackendName = 'ref' | 'cpu' | 'webgpu' | 'cuda' | 'cuda-emu' | 'metal' | 'metal-emu';

/** Every backend name the project knows, in the order they are tried and reported. */
export const backendNames: readonly BackendName[] = ['ref', 'cpu', 'webgpu', 'cuda', 'cuda-emu', 'metal', 'metal-emu'];

/** Backends that run a GPU's kernels on an emulator: for verification, far too slow for `npm test`.
 *  Each names the CI stage that runs its conformance table, training and memory tests; anything
 *  that iterates the registry in `npm test` reports them as skipped with this reason. */
export const emulatedBackends: Readonly<Partial<Record<BackendName, { stage: string }>>> = {
  'cuda-emu': { stage: 'npm run test:cuda-emu' },
  'metal-emu': { stage: 'npm run test:metal-emu' },
};

/** Why `npm test` does not run `name`, or null when it is not an emulated backend. */
export function emulatorSkipReason(name: BackendName): string | null {
  const e = emulatedBackends[name];
  return e ? `emulated backend: too slow for npm test, covered by the CI stage \`${e.stage}\`` : null;
}

/** The environment variable that makes a missing backend a failure instead of a skip in the tests
 *  (CI sets them): INKLING_REQUIRE_ and the name upper-cased with `-` → `_`, so that the name is a
 *  valid variable (cuda-emu → INKLING_REQUIRE_CUDA_EMU, metal-emu → INKLING_REQUIRE_METAL_EMU). */
export function requireVariable(name: BackendName): string {
  return `INKLING_REQUIRE_${name.toUpperCase().replace(/-/g, '_')}`;
}

/** Whether the environment demands `name` (its requireVariable is `1`). */
export function backendRequired(name: BackendName): boolean {
  return process.env[requireVariable(name)] === '1';
}

/** Options every factory understands (a factory may accept more of its own). */
export interface BackendOptions {
  /** Host threads for CPU kernels (default: the cores; INKLING_THREADS overrides in cpu). */
  threads?: number;
}

export type BackendFactory = (opts?: BackendOptions) => Promise<Backend>;

const loaders: Partial<Record<BackendName, () => Promise<BackendFactory>>> = {
  ref: () => import('./ref/index.ts').then((m) => m.createRefBackend),
  cpu: () => import('./cpu/index.ts').then((m) => m.createCpuBackend),
  webgpu: () => import('./webgpu/index.ts').then((m) => m.createWebgpuBackend),
  cuda: () => import('./cuda/index.ts').then((m) => m.createCudaBackend),
  'cuda-emu': () => import('./cuda-emu/index.ts').then((m) => m.createCudaEmuBackend),
  metal: () => import('./metal/index.ts').then((m) => m.createMetalBackend),
  'metal-emu': () => import('./metal-emu/index.ts').then((m) => m.createMetalEmuBackend),
};

export type BackendProbe = { available: true } | { available: false; reason: string };

export function isBackendName(name: string): name is BackendName {
  return (backendNames as readonly string[]).includes(name);
}

/** The backends registered in this checkout (present in `loaders`), whether or not they can run here. */
export function registeredBackendNames(): BackendName[] {
  return backendNames.filter((name) => loaders[name] !== undefined);
}

function unknownName(name: string): Error {
  return new Error(`unknown backend "${name}"; known backends: ${backendNames.join(', ')}`);
}

/** Creates a backend, or throws an Error saying why it is unavailable and how to fix it. */
export async function createBackend(name: BackendName, opts?: BackendOptions): Promise<Backend> {
  if (!isBackendName(name)) throw unknownName(name);
  const load = loaders[name];
  if (!load) {
    throw new Error(`backend "${name}" is not part of this checkout yet (no entry in src/nn/backends/registry.ts)`);
  }
  let factory: BackendFactory;
  try {
    factory = await load();
  } catch (err) {
    throw new Error(`backend "${name}" failed to load: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return factory(opts);
}

const probes = new Map<BackendName, Promise<BackendProbe>>();

/** Whether `name` can run here, with the reason when not. Creates and disposes it once per process
 *  (the answer is cached: a GPU adapter or an addon does not appear mid-run). */
export function probeBackend(name: BackendName): Promise<BackendProbe> {
  if (!isBackendName(name)) return Promise.resolve({ available: false, reason: unknownName(name).message });
  let probe = probes.get(name);
  if (!probe) {
    probe = createBackend(name).then(
      (backend): BackendProbe => {
        backend.dispose();
        return { available: true };
      },
      (err: unknown): BackendProbe => ({ available: false, reason: err instanceof Error ? err.message : String(err) }),
    );
    probes.set(name, probe);
  }
  return probe;
}
