// Whether the emulator build (inkling_cuda_emu.node) can run here, and how a stage test that needs
// it reports its absence: a skip with the reason, or a failure when CI demands the emulator
// (INKLING_REQUIRE_CUDA_EMU=1).

import type { Test } from 'tap';
import { loadCudaEmuAddon } from '../../src/nn/backends/cuda/native.ts';

export const emuRequired = process.env.INKLING_REQUIRE_CUDA_EMU === '1';

function unavailableReason(): string | null {
  try {
    loadCudaEmuAddon();
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

export const emuUnavailable = unavailableReason();

/** A top-level test that needs the emulator addon: skipped (or failed, when required) without it. */
export function emuTest(t: Test, name: string, body: (t: Test) => Promise<void>): void {
  if (!emuUnavailable) {
    t.test(name, body);
  } else if (emuRequired) {
    t.test(name, async (t) => {
      t.fail(`INKLING_REQUIRE_CUDA_EMU=1 but the emulator addon is unavailable: ${emuUnavailable}`);
    });
  } else {
    t.test(name, { skip: `the cuda-emu addon is unavailable: ${emuUnavailable}` }, async () => {});
  }
}

/** Seconds since `t0` (performance.now()), for the timing lines every stage part prints. */
export function seconds(t0: number): string {
  return `${((performance.now() - t0) / 1000).toFixed(1)} s`;
}
