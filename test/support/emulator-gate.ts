// The one gate of the emulator stages (test/cuda-emu/, test/metal-emu/): whether the emulated
// backend's addon loads here, and how a stage test that needs it reports its absence: a skip with
// the reason, or a failure when CI demands the emulator (requireVariable in the registry:
// INKLING_REQUIRE_CUDA_EMU=1, INKLING_REQUIRE_METAL_EMU=1).

import type { Test } from 'tap';
import { loadCudaEmuAddon } from '../../src/nn/backends/cuda/native.ts';
import { loadMetalEmuAddon } from '../../src/nn/backends/metal-emu/index.ts';
import { backendRequired, requireVariable } from '../../src/nn/backends/registry.ts';

export type EmulatedBackendName = 'cuda-emu' | 'metal-emu';

const loaders: Record<EmulatedBackendName, () => unknown> = {
  'cuda-emu': loadCudaEmuAddon,
  'metal-emu': loadMetalEmuAddon,
};

export interface EmulatorGate {
  readonly backend: EmulatedBackendName;
  /** The CI variable that makes a missing addon (or a failed program build) a failure. */
  readonly variable: string;
  readonly required: boolean;
  /** null when the addon loads; otherwise why not. */
  readonly unavailable: string | null;
  /** A top-level test that needs the addon: skipped (or failed, when required) without it. */
  test(t: Test, name: string, body: (t: Test) => Promise<void>): void;
  /** For tests that build their own programs instead of loading the addon (self-tests, sanitizer
   *  harnesses): the skip reason for a failed build, or false (run: the test then fails on the
   *  build when the emulator is required). */
  skipUnlessBuilt(built: boolean, why: string): string | false;
}

const gates = new Map<EmulatedBackendName, EmulatorGate>();

export function emulatorGate(backend: EmulatedBackendName): EmulatorGate {
  const known = gates.get(backend);
  if (known) return known;
  const variable = requireVariable(backend);
  const required = backendRequired(backend);
  let unavailable: string | null = null;
  try {
    loaders[backend]();
  } catch (err) {
    unavailable = err instanceof Error ? err.message : String(err);
  }
  const gate: EmulatorGate = {
    backend,
    variable,
    required,
    unavailable,
    test(t, name, body) {
      if (!unavailable) t.test(name, body);
      else if (required) {
        t.test(name, async (t) => {
          t.fail(`${variable}=1 but the ${backend} addon is unavailable: ${unavailable}`);
        });
      } else t.test(name, { skip: `the ${backend} addon is unavailable: ${unavailable}` }, async () => {});
    },
    skipUnlessBuilt(built, why) {
      return built || required ? false : why;
    },
  };
  gates.set(backend, gate);
  return gate;
}

/** Seconds since `t0` (performance.now()), for the timing lines every stage part prints. */
export function seconds(t0: number): string {
  return `${((performance.now() - t0) / 1000).toFixed(1)} s`;
}
