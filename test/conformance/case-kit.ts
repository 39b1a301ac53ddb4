// The shape of a conformance case and the helpers that build and compare them.
//
// A case owns its inputs (generated from a seed derived from its name), enqueues ONE kernel call on
// any backend, and names the output buffers to compare against ref. Output buffers start with
// random contents, so "overwrite" kernels that forget to clear and "accumulate" kernels that forget
// to add are both caught. The kernel benchmarks reuse the same cases: setup once, run() many
// times, flush, then read() for the error against ref.

import type { Backend, DeviceBuffer } from '../../src/nn/backend.ts';
import { Rng, seedFromName } from './rng.ts';

export type HostData = Float32Array | Int32Array;
export type Inputs = Record<string, HostData>;

/** The Backend methods that are kernels (everything but memory management and identity). */
export type KernelName = Exclude<
  keyof Backend,
  'name' | 'device' | 'alloc' | 'upload' | 'download' | 'free' | 'flush' | 'stats' | 'dispose'
>;

/** How an output is compared with ref:
 *  - 'exact': every element equal (integer outputs; the default for i32 buffers);
 *  - { tolerance }: normalized max error (see `normalizedMaxError`) at most `tolerance`;
 *  - { tolerance, zeros: true }: as above, and the set of exact zeros must match bit for bit
 *    (dropout masks: every backend must drop the same elements). */
export type Comparison = 'exact' | { tolerance: number; zeros?: boolean };

/** Default for float outputs: float32 sums in a different order stay well inside this. */
export const DEFAULT_TOLERANCE = 1e-4;

export interface CaseInstance {
  /** Enqueues the kernel once (no readback). Safe to call repeatedly (benchmarks). */
  run(): void;
  /** Downloads every compared output. */
  read(): Promise<Record<string, HostData>>;
  /** Frees the case's buffers. */
  dispose(): void;
}

export interface KernelCase {
  /** Unique, e.g. 'conv2d n2 c3>7 7x7 k3 s2 p1 bias'. */
  readonly name: string;
  /** The Backend method the case exercises. */
  readonly kernel: KernelName;
  /** Useful floating-point operations of one run (2 per multiply-add). */
  readonly flops: number;
  /** Minimal bytes moved by one run: every input read once, every output written once
   *  (read and written when accumulating or updating in place). */
  readonly bytes: number;
  /** The compared outputs and how to compare each. */
  readonly outputs: Readonly<Record<string, Comparison>>;
  /** The host inputs (initial contents of every buffer), from the case's own seed. */
  makeInputs(): Inputs;
  /** Allocates and uploads the case's buffers on `backend`. */
  setup(backend: Backend): CaseInstance;
}

export type Buffers<T extends Inputs> = {
  [K in keyof T]: T[K] extends Int32Array ? DeviceBuffer<'i32'> : DeviceBuffer<'f32'>;
};

export interface CaseSpec<T extends Inputs> {
  name: string;
  kernel: KernelName;
  flops: number;
  bytes: number;
  inputs: (rng: Rng) => T;
  /** Outputs to compare; float buffers default to DEFAULT_TOLERANCE, int buffers to 'exact'. */
  outputs: readonly (keyof T & string)[];
  comparisons?: Partial<Record<keyof T & string, Comparison>>;
  run: (backend: Backend, b: Buffers<T>) => void;
}

export function defineCase<T extends Inputs>(spec: CaseSpec<T>): KernelCase {
  const makeInputs = (): T => spec.inputs(new Rng(seedFromName(spec.name)));
  // The default comparison depends on each output's dtype, known only from generated inputs:
  // computed on first use so that building the table (with batch-256 cases) stays cheap.
  let outputs: Record<string, Comparison> | undefined;
  const resolveOutputs = (): Record<string, Comparison> => {
    if (outputs) return outputs;
    const sample = makeInputs();
    outputs = {};
    for (const key of spec.outputs) {
      outputs[key] = spec.comparisons?.[key] ?? (sample[key] instanceof Int32Array ? 'exact' : { tolerance: DEFAULT_TOLERANCE });
    }
    return outputs;
  };
  return {
    name: spec.name,
    kernel: spec.kernel,
    flops: spec.flops,
    bytes: spec.bytes,
    get outputs() {
      return resolveOutputs();
    },
    makeInputs,
    setup(backend: Backend): CaseInstance {
      const host = makeInputs();
      const buffers: Record<string, DeviceBuffer> = {};
      for (const [key, data] of Object.entries(host)) {
        if (data instanceof Int32Array) {
          const buf = backend.alloc(data.length, 'i32');
          backend.upload(buf, data);
          buffers[key] = buf;
        } else {
          const buf = backend.alloc(data.length, 'f32');
          backend.upload(buf, data);
          buffers[key] = buf;
        }
      }
      const typed = buffers as Buffers<T>;
      return {
        run: () => spec.run(backend, typed),
        read: async () => {
          const result: Record<string, HostData> = {};
          for (const key of spec.outputs) result[key] = await backend.download(buffers[key]);
          return result;
        },
        dispose: () => {
          for (const buf of Object.values(buffers)) backend.free(buf);
        },
      };
    },
  };
}

/** max_i |got_i − want_i| / max_i |want_i| (absolute when want is all zeros); Infinity when the
 *  lengths differ or a NaN/Inf appears in one but not the other. */
export function normalizedMaxError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) return Infinity;
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    if (!Number.isFinite(w) || !Number.isFinite(g)) {
      if (Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w))) continue;
      return Infinity;
    }
    maxDiff = Math.max(maxDiff, Math.abs(g - w));
    maxRef = Math.max(maxRef, Math.abs(w));
  }
  return maxRef > 0 ? maxDiff / maxRef : maxDiff;
}

export interface ComparisonResult {
  output: string;
  ok: boolean;
  /** Normalized max error (float outputs), or mismatching elements (exact / zero pattern). */
  error: number;
  detail: string;
}

export function compareOutput(output: string, how: Comparison, got: HostData, want: HostData): ComparisonResult {
  if (got.length !== want.length) {
    return { output, ok: false, error: Infinity, detail: `${output}: length ${got.length}, ref has ${want.length}` };
  }
  if (how === 'exact') {
    let bad = 0;
    let first = -1;
    for (let i = 0; i < want.length; i++) {
      if (!Object.is(got[i], want[i])) {
        bad++;
        if (first < 0) first = i;
      }
    }
    const detail = bad === 0 ? `${output}: exact` : `${output}: ${bad} elements differ, first at ${first} (got ${got[first]}, ref ${want[first]})`;
    return { output, ok: bad === 0, error: bad, detail };
  }
  if (how.zeros) {
    let bad = 0;
    let first = -1;
    for (let i = 0; i < want.length; i++) {
      if ((got[i] === 0) !== (want[i] === 0)) {
        bad++;
        if (first < 0) first = i;
      }
    }
    if (bad > 0) {
      return { output, ok: false, error: bad, detail: `${output}: the zero (dropped) pattern differs in ${bad} elements, first at ${first}` };
    }
  }
  const error = normalizedMaxError(got, want);
  return {
    output,
    ok: error <= how.tolerance,
    error,
    detail: `${output}: normalized max error ${error.toExponential(2)} (tolerance ${how.tolerance.toExponential(0)})`,
  };
}

/** Element counts to bytes (4 bytes per f32/i32 element). */
export function bytes(...elementCounts: number[]): number {
  return 4 * elementCounts.reduce((a, b) => a + b, 0);
}
