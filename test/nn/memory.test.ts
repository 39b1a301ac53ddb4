// Lifetime: 1,000 training steps of a small conv net allocate nothing that survives a step (the
// body is memory-run.ts). Run on every backend that is available here; an emulated backend is a
// skip naming the CI stage that runs this test on it.

import t from 'tap';
import { createBackend, emulatorSkipReason, probeBackend, registeredBackendNames } from '../../src/nn/backends/registry.ts';
import { memoryGrowth, stepsFor } from './memory-run.ts';

for (const name of registeredBackendNames()) {
  const STEPS = stepsFor(name);
  const title = `${name}: ${STEPS} training steps leave buffers and RSS where they were`;
  const emulated = emulatorSkipReason(name);
  const probe = emulated ? null : await probeBackend(name);
  const skip = emulated ?? (probe && !probe.available ? `${name} is not available here: ${probe.reason}` : false);
  t.test(title, { skip }, async (t) => {
    const be = await createBackend(name);
    await memoryGrowth(t, name, be, STEPS);
    be.dispose();
  });
}
