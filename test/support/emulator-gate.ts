// How a stage test that needs an emulator addon reports its absence: a skip with the reason, or a
// failure when CI demands the emulator (INKLING_REQUIRE_<NAME>=1, e.g. INKLING_REQUIRE_METAL_EMU).
// One gate for every emulated backend's stage (test/metal-emu/, and cuda-emu's when it lands).

import type { Test } from 'tap';

export interface EmulatorGate {
  readonly required: boolean;
  /** null when the addon loads; otherwise why not. */
  readonly unavailable: string | null;
  /** A top-level test that needs the addon: skipped (or failed, when required) without it. */
  test(t: Test, name: string, body: (t: Test) => Promise<void>): void;
}

export function emulatorGate(backend: string, load: () => unknown): EmulatorGate {
  const variable = `INKLING_REQUIRE_${backend.toUpperCase().replace(/-/g, '_')}`;
  const required = process.env[variable] === '1';
  let unavailable: string | null = null;
  try {
    load();
  } catch (err) {
    unavailable = err instanceof Error ? err.message : String(err);
  }
  return {
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
  };
}

/** Seconds since `t0` (performance.now()), for the timing lines every stage part prints. */
export function seconds(t0: number): string {
  return `${((performance.now() - t0) / 1000).toFixed(1)} s`;
}
