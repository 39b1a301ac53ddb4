// The opt-in for training loops: wrap one training step so that, on a backend with CUDA-graph
// capture, it runs eagerly for a few warm-up calls, is then captured once, and is replayed (one
// graph launch) on every later call. On any other backend it simply calls the step.
//
// The step must read its inputs from tensors that live across calls (upload each new batch into
// the same input and label tensors before calling run()), must not read anything back, and must
// keep the same shapes: a graph replays the addresses and shapes it captured. The warm-up creates
// lazily allocated state (Adam's m and v are allocated and zeroed on the first optimizer step)
// outside the graph, so that zeroing is not replayed. See native/cuda/README.md, "CUDA graphs".

import type { Backend } from '../../backend.ts';
import { isGraphCapable } from './cuda-backend.ts';

export interface GraphedStep {
  /** One training step: eager during the warm-up, the capture on the next call, a replay after. */
  run(): void;
  /** Destroys the graph (the next run() captures again, e.g. after a shape change). */
  release(): void;
  /** Steps executed by graph replay (the tensor layer's own counters did not see these). */
  readonly replays: number;
  readonly captured: boolean;
}

export interface GraphedStepOptions {
  /** Eager calls before the capture (default 2, at least 1). */
  warmup?: number;
  /** Read before every replay: the learning rate the optimizer updates should use (a schedule). */
  lr?: () => number;
}

export function graphedStep(backend: Backend, step: () => void, opts: GraphedStepOptions = {}): GraphedStep {
  const warmup = Math.max(1, opts.warmup ?? 2);
  if (!isGraphCapable(backend)) {
    return { run: step, release: () => {}, replays: 0, captured: false };
  }
  let calls = 0;
  let replays = 0;
  let captured = false;
  return {
    run(): void {
      if (!captured) {
        if (calls++ < warmup) {
          step();
          return;
        }
        backend.beginCapture();
        try {
          step();
        } catch (err) {
          backend.abortCapture();
          throw err;
        }
        backend.endCapture(); // runs the captured step once
        captured = true;
        return;
      }
      backend.replay(opts.lr ? { lr: opts.lr() } : {});
      replays++;
    },
    release(): void {
      if (captured) backend.releaseGraph();
      captured = false;
      calls = warmup;
    },
    get replays() {
      return replays;
    },
    get captured() {
      return captured;
    },
  };
}
