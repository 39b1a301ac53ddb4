// Waiting for the GPU without blocking the event loop: the addon records a CUDA event after the
// copy (or, for a flush, after all enqueued work) and `poll` asks cudaEventQuery whether it has
// passed. We poll on setImmediate for the first few turns (a small readback is done within tens
// of microseconds) and then back off to timers, so a long wait costs almost no CPU.

import type { NativeCudaContext } from './native.ts';

const IMMEDIATE_POLLS = 64;

/** Resolves once event `id` has completed; rejects with the CUDA error if the work failed. */
export function waitForEvent(native: NativeCudaContext, id: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let polls = 0;
    const tick = (): void => {
      let done: boolean;
      try {
        done = native.poll(id);
      } catch (err) {
        reject(err);
        return;
      }
      if (done) {
        resolve();
        return;
      }
      polls++;
      if (polls < IMMEDIATE_POLLS) setImmediate(tick);
      else setTimeout(tick, polls < IMMEDIATE_POLLS + 200 ? 0 : 1);
    };
    tick();
  });
}
