// The contract's rules that are not kernel math, run on every backend by backend-suite.ts (so
// `npm test` runs them on ref, cpu and webgpu, and the emulator stages on cuda-emu and metal-emu):
//
// - buffer lifecycle: a double free, a use after free and a buffer of the wrong dtype throw, the
//   same way everywhere;
// - fill: an i32 buffer takes an integer in the int32 range only (a larger one would wrap);
// - out-of-range indices (src/nn/backend.ts, "Indices from the caller"): an argmax outside its
//   plane (maxPool2dBackward, batchNormMaxPoolBackward, convBatchNormMaxPoolBackward), a label outside [0, cols). The synchronous backends (ref, cpu) throw naming the kernel
//   and the index; a device backend, whose kernels run after the call returned, never reads or
//   writes through the index: the entry adds nothing to dx, the row's loss is NaN and its target
//   has no one-hot part. Either way no memory outside the buffers changes (guard regions).

import type { Test } from 'tap';
import type { Backend, DeviceBuffer } from '../../src/nn/backend.ts';
import type { CaseRng } from '../../spec/kernels/rng.ts';
import { defineCase, describeGuardDamage, normalizedMaxError, type CaseInstance, type HostData, type KernelCase } from '../../spec/kernels/case-kit.ts';

/** Backends whose kernels run inside the call, so that a bad index can throw there. */
const SYNCHRONOUS = new Set(['ref', 'cpu']);

/** Runs `c` once; resolves with the outputs, or with the error when the call threw. */
async function runGuarded(backend: Backend, c: KernelCase): Promise<{ threw?: Error; outputs?: Record<string, HostData>; damage: string[] }> {
  const inst: CaseInstance = c.setup(backend);
  try {
    try {
      inst.run();
    } catch (err) {
      return { threw: err as Error, damage: describeGuardDamage(await inst.guards()) };
    }
    await backend.flush();
    return { outputs: await inst.read(), damage: describeGuardDamage(await inst.guards()) };
  } finally {
    inst.dispose();
  }
}

// ---- the planted cases ----

const POOL = { n: 1, c: 3, h: 4, w: 4, kh: 2, kw: 2, stride: 2 };
const PLANE = POOL.h * POOL.w;
const OUTS = 4; // 2x2 outputs per plane

/** argmax of every window's top-left corner, then three planted entries: -1 in plane 0 (an
 *  unchecked scatter writes before dx), PLANE in the last plane (past dx's end) and PLANE + 5 in
 *  plane 1 (into plane 2, inside dx). */
function plantedArgmax(): Int32Array {
  const am = new Int32Array(POOL.n * POOL.c * OUTS);
  for (let pl = 0; pl < POOL.c; pl++)
    for (let o = 0; o < OUTS; o++) am[pl * OUTS + o] = Math.floor(o / 2) * 2 * POOL.w + (o % 2) * 2;
  am[0] = -1;
  am[2 * OUTS + 3] = PLANE;
  am[1 * OUTS + 1] = PLANE + 5;
  return am;
}

const maxPoolBackwardCase = defineCase({
  name: 'maxPool2dBackward with argmax outside the plane',
  kernel: 'maxPool2dBackward',
  flops: 0,
  bytes: 0,
  inputs: (rng) => ({
    dy: rng.floats(POOL.n * POOL.c * OUTS, 1, 2),
    argmax: plantedArgmax(),
    dx: rng.floats(POOL.n * POOL.c * PLANE),
  }),
  outputs: ['dx'],
  run: (be, b) => be.maxPool2dBackward(b.dy, b.argmax, b.dx, POOL),
});

/** dx with the out-of-range entries adding nothing (what a device backend must produce). */
function maxPoolBackwardSkipping(): Float32Array {
  const { dy, argmax } = maxPoolBackwardCase.makeInputs() as { dy: Float32Array; argmax: Int32Array };
  const dx = new Float32Array(POOL.n * POOL.c * PLANE);
  for (let pl = 0; pl < POOL.c; pl++)
    for (let o = 0; o < OUTS; o++) {
      const a = argmax[pl * OUTS + o]!;
      if (a >= 0 && a < PLANE) dx[pl * PLANE + a]! += dy[pl * OUTS + o]!;
    }
  return dx;
}

const FUSED = { ...POOL, eps: 1e-5, momentum: 0.1, activation: 'relu' as const };

const fusedBackwardCase = defineCase({
  name: 'batchNormMaxPoolBackward with argmax outside the plane',
  kernel: 'batchNormMaxPoolBackward',
  flops: 0,
  bytes: 0,
  inputs: (rng) => ({
    x: rng.floats(POOL.c * PLANE, -2, 2),
    out: rng.floats(POOL.c * OUTS, 0.1, 2),
    argmax: plantedArgmax(),
    dy: rng.floats(POOL.c * OUTS, 1, 2),
    gamma: rng.floats(POOL.c, 0.5, 1.5),
    saveMean: rng.floats(POOL.c, -0.5, 0.5),
    saveInvStd: rng.floats(POOL.c, 0.5, 2),
    dx: rng.floats(POOL.c * PLANE),
    dgamma: rng.floats(POOL.c),
    dbeta: rng.floats(POOL.c),
  }),
  outputs: ['dx', 'dgamma', 'dbeta'],
  run: (be, b) => be.batchNormMaxPoolBackward(b.x, b.out, b.argmax, b.dy, b.gamma, b.saveMean, b.saveInvStd, b.dx, b.dgamma, b.dbeta, FUSED),
});

// The fused first layer over the same planes: a 3x3 "same" convolution of a 1-channel 4x4 input
// into POOL.c channels, then the batch norm + pool above. With γ of one channel 0 the cpu's kernel
// recomputes the convolution (its other path takes the normalised values from out): both check.
const CONV_FUSED = {
  n: POOL.n, cIn: 1, h: POOL.h, w: POOL.w, cOut: POOL.c, kh: 3, kw: 3, stride: 1, pad: 1,
  eps: 1e-5, momentum: 0.1, activation: 'relu' as const, poolKh: POOL.kh, poolKw: POOL.kw, poolStride: POOL.stride,
};

function convFusedBackwardCase(zeroGamma: boolean): KernelCase {
  return defineCase({
    name: `convBatchNormMaxPoolBackward with argmax outside the plane${zeroGamma ? ', a channel with γ = 0' : ''}`,
    kernel: 'convBatchNormMaxPoolBackward',
    flops: 0,
    bytes: 0,
    inputs: (rng) => {
      const gamma = rng.floats(POOL.c, 0.5, 1.5);
      if (zeroGamma) gamma[1] = 0;
      return {
        x: rng.floats(POOL.n * PLANE, -2, 2),
        w: rng.floats(POOL.c * 9, -1, 1),
        bias: rng.floats(POOL.c, -1, 1),
        out: rng.floats(POOL.c * OUTS, 0.1, 2),
        argmax: plantedArgmax(),
        dy: rng.floats(POOL.c * OUTS, 1, 2),
        gamma,
        beta: rng.floats(POOL.c, -0.5, 0.5),
        saveMean: rng.floats(POOL.c, -0.5, 0.5),
        saveInvStd: rng.floats(POOL.c, 0.5, 2),
        dw: rng.floats(POOL.c * 9),
        dgamma: rng.floats(POOL.c),
        dbeta: rng.floats(POOL.c),
      };
    },
    outputs: ['dw', 'dgamma', 'dbeta'],
    run: (be, b) => be.convBatchNormMaxPoolBackward(b.x, b.w, b.bias, b.out, b.argmax, b.dy, b.gamma, b.beta, b.saveMean,
      b.saveInvStd, b.dw, b.dgamma, b.dbeta, CONV_FUSED),
  });
}

const CE = { rows: 5, cols: 4, labelSmoothing: 0.1 };
const CE_LABELS = [1, -1, CE.cols, 3, 0x40000000];
const ceInputs = (rng: CaseRng) => ({
  logits: rng.floats(CE.rows * CE.cols, -2, 2),
  labels: Int32Array.from(CE_LABELS),
  probs: rng.floats(CE.rows * CE.cols),
  loss: rng.floats(1),
});

const crossEntropyCase = defineCase({
  name: 'softmaxCrossEntropy with labels outside [0, cols)',
  kernel: 'softmaxCrossEntropy',
  flops: 0,
  bytes: 0,
  inputs: ceInputs,
  outputs: ['probs', 'loss'],
  run: (be, b) => be.softmaxCrossEntropy(b.logits, b.labels, b.probs, b.loss, CE),
});

const crossEntropyBackwardCase = defineCase({
  name: 'softmaxCrossEntropyBackward with labels outside [0, cols)',
  kernel: 'softmaxCrossEntropyBackward',
  flops: 0,
  bytes: 0,
  inputs: (rng) => ({ probs: rng.floats(CE.rows * CE.cols, 0, 1), labels: Int32Array.from(CE_LABELS), dloss: rng.floats(1, 1, 2), dlogits: rng.floats(CE.rows * CE.cols) }),
  outputs: ['dlogits'],
  run: (be, b) => be.softmaxCrossEntropyBackward(b.probs, b.labels, b.dloss, b.dlogits, CE),
});

/** dloss·(p − t)/rows with t = (1 − s)·onehot + s/cols, an out-of-range label having no one-hot. */
function crossEntropyBackwardSkipping(): Float32Array {
  const { probs, dloss } = crossEntropyBackwardCase.makeInputs() as { probs: Float32Array; dloss: Float32Array };
  const out = new Float32Array(CE.rows * CE.cols);
  for (let r = 0; r < CE.rows; r++)
    for (let j = 0; j < CE.cols; j++) {
      const t = (j === CE_LABELS[r] ? 1 - CE.labelSmoothing : 0) + CE.labelSmoothing / CE.cols;
      out[r * CE.cols + j] = (dloss[0]! * (probs[r * CE.cols + j]! - t)) / CE.rows;
    }
  return out;
}

/** The softmax of the case's logits, row by row. */
function softmaxRows(): Float32Array {
  const { logits } = crossEntropyCase.makeInputs() as { logits: Float32Array };
  const out = new Float32Array(logits.length);
  for (let r = 0; r < CE.rows; r++) {
    const row = logits.subarray(r * CE.cols, (r + 1) * CE.cols);
    const mx = Math.max(...row);
    const sum = row.reduce((s, v) => s + Math.exp(v - mx), 0);
    for (let j = 0; j < CE.cols; j++) out[r * CE.cols + j] = Math.exp(row[j]! - mx) / sum;
  }
  return out;
}

interface GuardExpectation {
  c: KernelCase;
  /** The error a synchronous backend throws. */
  error: RegExp;
  /** A device backend's outputs. */
  check(t: Test, outputs: Record<string, HostData>): void;
}

const guardCases: GuardExpectation[] = [
  {
    c: maxPoolBackwardCase,
    error: /^maxPool2dBackward: argmax\[\d+\] = -?\d+ is outside the 4x4 plane/,
    check: (t, out) => t.ok(normalizedMaxError(out.dx!, maxPoolBackwardSkipping()) <= 1e-6, 'dx: the out-of-range entries add nothing'),
  },
  {
    // ref composes the unfused kernels (its maxPool2dBackward throws); cpu's fused kernel throws
    // its own; a device backend composes its gather, so its outputs stay finite.
    c: fusedBackwardCase,
    error: /^(maxPool2dBackward: argmax\[\d+\] = -?\d+ is outside the 4x4 plane|batchNormMaxPoolBackward: argmax\[\d+\] = -?\d+ is outside its plane)/,
    check: (t, out) => t.ok(['dx', 'dgamma', 'dbeta'].every((k) => out[k]!.every(Number.isFinite)), 'dx, dgamma, dbeta finite'),
  },
  ...[false, true].map((zeroGamma) => ({
    // ref composes (its maxPool2dBackward throws), cpu's fused kernel throws its own on either path
    c: convFusedBackwardCase(zeroGamma),
    error: /^(maxPool2dBackward: argmax\[\d+\] = -?\d+ is outside the 4x4 plane|convBatchNormMaxPoolBackward: argmax\[\d+\] = -?\d+ is outside its plane)/,
    check: (t: Test, out: Record<string, HostData>) => t.ok(['dw', 'dgamma', 'dbeta'].every((k) => out[k]!.every(Number.isFinite)), 'dw, dgamma, dbeta finite'),
  })),
  {
    c: crossEntropyCase,
    error: /^softmaxCrossEntropy: label -?\d+ in row \d+ is outside \[0, 4\)/,
    check: (t, out) => {
      t.ok(Number.isNaN(out.loss![0]), `loss is NaN (got ${out.loss![0]})`);
      t.ok(normalizedMaxError(out.probs!, softmaxRows()) <= 1e-5, 'probs are the softmax of every row');
    },
  },
  {
    c: crossEntropyBackwardCase,
    error: /^softmaxCrossEntropyBackward: label -?\d+ in row \d+ is outside \[0, 4\)/,
    check: (t, out) => t.ok(normalizedMaxError(out.dlogits!, crossEntropyBackwardSkipping()) <= 1e-5, 'dlogits: a bad row has no one-hot part'),
  },
];

/** Lifecycle, fill and out-of-range index cases on `backend`, as subtests of `t`. */
export function lifecycleAndGuardCases(t: Test, backend: Backend, label = ''): void {
  t.test(`${label}lifecycle: freeing a buffer twice throws`, async (t) => {
    const before = backend.stats();
    const buf = backend.alloc(8, 'f32');
    backend.free(buf);
    t.throws(() => backend.free(buf), /after free|freed/, 'the second free throws');
    t.same(backend.stats(), before, 'and counts nothing twice');
  });

  t.test(`${label}lifecycle: a freed buffer is refused by every use`, async (t) => {
    const live = backend.alloc(4, 'f32');
    const dead = backend.alloc(4, 'f32');
    const deadI = backend.alloc(4, 'i32');
    backend.free(dead);
    backend.free(deadI);
    const afterFree = /after free/;
    t.throws(() => backend.upload(dead, new Float32Array(4)), afterFree, 'upload');
    await t.rejects(async () => backend.download(dead), afterFree, 'download');
    t.throws(() => backend.fill(dead, 1), afterFree, 'fill');
    t.throws(() => backend.copy(dead, live, 4), afterFree, 'copy from');
    t.throws(() => backend.copy(live, dead, 4), afterFree, 'copy to');
    t.throws(() => backend.unary('neg', dead, live), afterFree, 'a kernel input');
    t.throws(() => backend.unary('neg', live, dead), afterFree, 'a kernel output');
    t.throws(() => backend.argmax(live, deadI, 1, 4), afterFree, 'an i32 kernel output');
    backend.free(live);
  });

  t.test(`${label}lifecycle: a buffer of the wrong dtype is refused`, async (t) => {
    const f = backend.alloc(4, 'f32');
    const i = backend.alloc(4, 'i32');
    const out = backend.alloc(1, 'f32');
    const wrong = /f32|i32|Int32Array|Float32Array/;
    const asF32 = i as unknown as DeviceBuffer<'f32'>; // deliberately wrong, as an untyped caller would
    const asI32 = f as unknown as DeviceBuffer<'i32'>;
    t.throws(() => backend.upload(f, new Int32Array(4) as unknown as Float32Array), wrong, 'upload of an Int32Array into f32');
    t.throws(() => backend.copy(f, i, 4), wrong, 'copy between dtypes');
    t.throws(() => backend.unary('neg', asF32, f), wrong, 'an i32 buffer as a float input');
    t.throws(() => backend.scale(f, 2, 0, asF32), wrong, 'an i32 buffer as a float output');
    t.throws(() => backend.countEqual(asI32, i, out), wrong, 'an f32 buffer as an index input');
    t.throws(() => backend.argmax(f, asI32, 1, 4), wrong, 'an f32 buffer as an index output');
    for (const b of [f, i, out]) backend.free(b);
  });

  t.test(`${label}fill: an i32 buffer takes integers in the int32 range only`, async (t) => {
    const i = backend.alloc(3, 'i32');
    for (const bad of [2 ** 31, -(2 ** 31) - 1, 1.5, Number.NaN]) t.throws(() => backend.fill(i, bad), /fill: .* is not a valid i32 value/, `fill(${bad})`);
    backend.fill(i, -(2 ** 31));
    t.same(Array.from(await backend.download(i)), [-(2 ** 31), -(2 ** 31), -(2 ** 31)], 'fill(-2^31)');
    backend.fill(i, 2 ** 31 - 1);
    t.same(Array.from(await backend.download(i)), [2 ** 31 - 1, 2 ** 31 - 1, 2 ** 31 - 1], 'fill(2^31 - 1)');
    backend.free(i);
  });

  for (const g of guardCases) {
    t.test(`${label}out-of-range index: ${g.c.name}`, async (t) => {
      const r = await runGuarded(backend, g.c);
      t.same(r.damage, [], 'no memory outside the buffers changed');
      if (SYNCHRONOUS.has(backend.name)) {
        t.match(r.threw?.message ?? 'did not throw', g.error, `${backend.name} runs the kernel in the call: it throws, naming the index`);
      } else if (r.threw) {
        t.fail(`a device backend cannot see the index at the call: it must not throw (threw ${r.threw.message})`);
      } else {
        g.check(t, r.outputs!);
      }
    });
  }
}
