// Waiting for the GPU without blocking the event loop: the addon records a completion marker after
// the copy (or, for a flush, after all enqueued work) — a CUDA event (cudaEventQuery), a Metal
// command buffer's status — and `poll` asks whether it has passed. We poll on setImmediate for the first few turns (a small readback is done within tens
// of microseconds) and then back off to timers, so a long wait costs almost no CPU.

import type { NativeDeviceContext } from './native-context.ts';

const IMMEDIATE_POLLS = 64;

/** Resolves once event `id` has completed; rejects with the CUDA error if the work failed. */
export function waitForEvent(native: Pick<NativeDeviceContext, 'poll'>, id: number): Promise<void> {
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
