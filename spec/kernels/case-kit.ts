// The shape of a conformance case and the helpers that build and compare them.
//
// A case owns its inputs (generated from a seed derived from its name), enqueues ONE kernel call on
// any backend, and names the output buffers to compare against ref. Output buffers start with
// random contents, so "overwrite" kernels that forget to clear and "accumulate" kernels that forget
// to add are both caught. The kernel benchmarks reuse the same cases: setup once, run() many
// times, flush, then read() for the error against ref.
//
// Guard regions: on a backend with allocGuarded (every backend: src/nn/backends/guarded-alloc.ts)
// every buffer of every case, inputs and outputs, sits between two guards of CONFORMANCE_GUARD
// elements. Each guard element holds a signaling NaN whose payload names its buffer and position
// (guardBits): arithmetic on it yields a quiet NaN (other bits), and a copy from another buffer's
// guard brings another payload, so a kernel that writes past either end changes the bits whatever
// it writes, and guards() reports it: the case fails. A read past an input reads the NaN, which
// shows in the outputs. As int32 the same bits are absurd indices and labels. This is generic: a
// case added with defineCase gets guards without doing anything.

import type { Backend, DeviceBuffer, DType } from '../../src/nn/backend.ts';
import { CONFORMANCE_GUARD, hasGuardedAlloc, type GuardedAllocation } from '../../src/nn/backends/guarded-alloc.ts';
import { CaseRng, seedFromName } from './rng.ts';

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
 *    (dropout masks: every backend must drop the same elements);
 *  - { tolerance, tf32PerProduct }: a GEMM result (matmul, convolution). On a backend whose GEMM
 *    rounds its operands to TF32 (gemmPrecision 'tf32'), each element may differ from ref by
 *    tf32PerProduct · Σ_k |a_k·b_k| (every product of the sum carries that relative error) plus the
 *    fp32 `tolerance` · max|ref|; Σ|a·b| is the case run on ref with every input made absolute.
 *    Elsewhere the fp32 `tolerance` applies. A case whose GEMM operands are not its inputs (a fused
 *    kernel's convolution of an intermediate) computes Σ|a·b| itself (`tf32Magnitudes`). */
export type Comparison = 'exact' | { tolerance: number; zeros?: boolean; tf32PerProduct?: number };

/** Default for float outputs: float32 sums in a different order stay well inside this. */
export const DEFAULT_TOLERANCE = 1e-4;

/** A guard element that no longer holds its guardBits after the case ran. */
export interface GuardDamage {
  buffer: string;
  side: 'before' | 'after';
  /** Elements from the buffer's edge: 0 is the element right before its start, or right after its end. */
  distance: number;
  /** The damaged element's value. */
  value: number;
}

export interface CaseInstance {
  /** Enqueues the kernel once (no readback). Safe to call repeatedly (benchmarks). */
  run(): void;
  /** Downloads every compared output. */
  read(): Promise<Record<string, HostData>>;
  /** Whether the buffers sit between guards (the backend has allocGuarded). */
  readonly guarded: boolean;
  /** Downloads every buffer's guards and lists the elements that changed (empty when none, or
   *  when not guarded). */
  guards(): Promise<GuardDamage[]>;
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
  /** Σ_k |a_k·b_k| per element of the tf32PerProduct outputs, where the case on ref with every
   *  input absolute does not give it; absent: that run is used. */
  readonly tf32Magnitudes?: () => Record<string, HostData>;
  /** Allocates and uploads the case's buffers on `backend` (`inputs` instead of makeInputs(), e.g.
   *  the absolute values for the TF32 error bound). */
  setup(backend: Backend, inputs?: Inputs): CaseInstance;
}

export type Buffers<T extends Inputs> = {
  [K in keyof T]: T[K] extends Int32Array ? DeviceBuffer<'i32'> : DeviceBuffer<'f32'>;
};

export interface CaseSpec<T extends Inputs> {
  name: string;
  kernel: KernelName;
  flops: number;
  bytes: number;
  inputs: (rng: CaseRng) => T;
  /** Outputs to compare; float buffers default to DEFAULT_TOLERANCE, int buffers to 'exact'. */
  outputs: readonly (keyof T & string)[];
  comparisons?: Partial<Record<keyof T & string, Comparison>>;
  /** See KernelCase.tf32Magnitudes. */
  tf32Magnitudes?: (inputs: T) => Partial<Record<keyof T & string, HostData>>;
  run: (backend: Backend, b: Buffers<T>) => void;
}

export function defineCase<T extends Inputs>(spec: CaseSpec<T>): KernelCase {
  const makeInputs = (): T => spec.inputs(new CaseRng(seedFromName(spec.name)));
  const tf32Magnitudes = spec.tf32Magnitudes;
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
    ...(tf32Magnitudes ? { tf32Magnitudes: () => ({ ...tf32Magnitudes(makeInputs()) }) as Record<string, HostData> } : {}),
    setup(backend: Backend, inputs?: Inputs): CaseInstance {
      const host = inputs ?? makeInputs();
      const guarded = hasGuardedAlloc(backend);
      const buffers: Record<string, DeviceBuffer> = {};
      const regions: Record<string, GuardedAllocation<DType>> = {};
      const guardIndex: Record<string, number> = {};
      for (const [index, [key, data]] of Object.entries(host).entries()) {
        const dtype: DType = data instanceof Int32Array ? 'i32' : 'f32';
        let buf: DeviceBuffer;
        if (guarded) {
          const g = backend.allocGuarded(data.length, dtype, CONFORMANCE_GUARD);
          backend.upload(g.region, guardFill(dtype, index, data.length + 2 * CONFORMANCE_GUARD));
          guardIndex[key] = index;
          regions[key] = g;
          buf = g.buffer;
        } else {
          buf = backend.alloc(data.length, dtype);
        }
        if (data instanceof Int32Array) backend.upload(buf as DeviceBuffer<'i32'>, data);
        else backend.upload(buf as DeviceBuffer<'f32'>, data);
        buffers[key] = buf;
      }
      const typed = buffers as Buffers<T>;
      return {
        run: () => spec.run(backend, typed),
        read: async () => {
          const result: Record<string, HostData> = {};
          for (const key of spec.outputs) result[key] = await backend.download(buffers[key]);
          return result;
        },
        guarded,
        guards: async () => {
          const damage: GuardDamage[] = [];
          for (const [key, g] of Object.entries(regions)) {
            const region = await backend.download(g.region);
            damage.push(...guardDamage(key, guardIndex[key]!, region, g.guard));
          }
          return damage;
        },
        dispose: () => {
          for (const buf of Object.values(buffers)) backend.free(buf);
          for (const g of Object.values(regions)) backend.free(g.region);
        },
      };
    },
  };
}

/** The bits of element `position` of buffer `buffer`'s region: a signaling NaN (exponent all ones,
 *  quiet bit 22 clear, bit 21 set so the mantissa is never zero) with the buffer (bits 16–20) and
 *  the position (bits 0–15) as payload. */
export function guardBits(buffer: number, position: number): number {
  return (0x7fa00000 | ((buffer & 0x1f) << 16) | (position & 0xffff)) >>> 0;
}

function guardFill(dtype: DType, buffer: number, length: number): HostData {
  const bits = new Uint32Array(length);
  for (let i = 0; i < length; i++) bits[i] = guardBits(buffer, i);
  return dtype === 'i32' ? new Int32Array(bits.buffer) : new Float32Array(bits.buffer);
}

/** The elements of the two guards (`guard` elements each) of buffer number `buffer`'s `region`
 *  that no longer hold their guardBits. */
export function guardDamage(name: string, buffer: number, region: HostData, guard: number): GuardDamage[] {
  const bits = new Uint32Array(region.buffer, region.byteOffset, region.length);
  const damage: GuardDamage[] = [];
  for (let i = 0; i < guard; i++) {
    if (bits[i] !== guardBits(buffer, i)) damage.push({ buffer: name, side: 'before', distance: guard - 1 - i, value: region[i] });
    const j = region.length - guard + i;
    if (bits[j] !== guardBits(buffer, j)) damage.push({ buffer: name, side: 'after', distance: i, value: region[j] });
  }
  return damage;
}

/** One line per damaged side of a buffer, e.g. "out: 1 element written past its end (+0: 3.5)". */
export function describeGuardDamage(damage: GuardDamage[]): string[] {
  const groups = new Map<string, GuardDamage[]>();
  for (const d of damage) {
    const k = `${d.buffer}\u0000${d.side}`;
    groups.set(k, [...(groups.get(k) ?? []), d]);
  }
  return [...groups.values()].map((ds) => {
    const d0 = ds[0]!;
    const where = d0.side === 'after' ? 'past its end' : 'before its start';
    const shown = ds.slice(0, 3).map((d) => `${d.side === 'after' ? '+' : '-'}${d.distance}: ${d.value}`).join(', ');
    return `${d0.buffer}: ${ds.length} element${ds.length === 1 ? '' : 's'} written ${where} (${shown}${ds.length > 3 ? ', ...' : ''})`;
  });
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

/** What compareOutput needs beyond the two arrays for a tf32PerProduct comparison. */
export interface CompareContext {
  /** The backend's GEMM rounds operands to TF32. */
  tf32?: boolean;
  /** Σ_k |a_k·b_k| per element (the case on ref with absolute inputs), for tf32PerProduct outputs. */
  magnitude?: HostData;
}

export function compareOutput(output: string, how: Comparison, got: HostData, want: HostData, ctx: CompareContext = {}): ComparisonResult {
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
  if (how.tf32PerProduct !== undefined && ctx.tf32) {
    if (!ctx.magnitude || ctx.magnitude.length !== want.length) {
      return { output, ok: false, error: Infinity, detail: `${output}: a TF32 comparison needs the magnitude run` };
    }
    return compareTf32(output, how.tolerance, how.tf32PerProduct, got, want, ctx.magnitude);
  }
  const error = normalizedMaxError(got, want);
  return {
    output,
    ok: error <= how.tolerance,
    error,
    detail: `${output}: normalized max error ${error.toExponential(2)} (tolerance ${how.tolerance.toExponential(0)})`,
  };
}

// |got_i − want_i| ≤ perProduct·magnitude_i + tolerance·max|want|, for every i. `error` is the
// worst ratio of the difference to its bound (≤ 1 passes).
function compareTf32(output: string, tolerance: number, perProduct: number, got: HostData, want: HostData, magnitude: HostData): ComparisonResult {
  let maxRef = 0;
  for (let i = 0; i < want.length; i++) if (Number.isFinite(want[i])) maxRef = Math.max(maxRef, Math.abs(want[i]));
  const slack = tolerance * (maxRef > 0 ? maxRef : 1);
  let worst = 0;
  let at = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    if (!Number.isFinite(w) || !Number.isFinite(g)) {
      if (Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w))) continue;
      return { output, ok: false, error: Infinity, detail: `${output}: element ${i} is ${g}, ref ${w}` };
    }
    const ratio = Math.abs(g - w) / (perProduct * Math.abs(magnitude[i]) + slack);
    if (ratio > worst) {
      worst = ratio;
      at = i;
    }
  }
  return {
    output,
    ok: worst <= 1,
    error: worst,
    detail: `${output}: TF32 error at most ${worst.toFixed(3)} of its bound (${perProduct.toExponential(2)}·Σ|a·b| + ${tolerance.toExponential(0)}·max|ref|, worst at ${at})`,
  };
}

/** Element counts to bytes (4 bytes per f32/i32 element). */
export function bytes(...elementCounts: number[]): number {
  return 4 * elementCounts.reduce((a, b) => a + b, 0);
}
