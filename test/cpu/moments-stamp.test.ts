// The fused first layer (native/cpu/impl/conv_bn_pool.h) keeps its forward's input moments in the
// context under the input's address and CpuBuffer.stamp, and its backward reads them instead of
// taking them again when x is the same. These tests check that a kept set gives the bits a fresh
// one gives, and that any write to x between the forward and the backward is seen (a backward on
// stale moments differs from one on a copy of the new x, and this file fails).

import t from 'tap';
import type { Backend, ConvBatchNormMaxPoolParams, DeviceBuffer } from '../../src/nn/backend.ts';
import { createCpuBackend } from '../../src/nn/backends/cpu/index.ts';
import type { CpuBuffer } from '../../src/nn/backends/cpu/memory.ts';

const cpu = await createCpuBackend().catch((err: unknown) => err as Error);
const skip = cpu instanceof Error ? `cpu addon not built: ${cpu.message}` : false;

const p: ConvBatchNormMaxPoolParams = {
  n: 3, cIn: 1, h: 10, w: 9, cOut: 5, kh: 3, kw: 3, stride: 1, pad: 1, eps: 1e-5, momentum: 0.1, activation: 'relu',
  poolKh: 2, poolKw: 2, poolStride: 2,
};
const xLength = p.n * p.h * p.w;
const pooled = p.n * p.cOut * 5 * 4;

function random(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + (hi - lo) * (s / 2 ** 32);
  });
}

function upload(be: Backend, data: Float32Array): DeviceBuffer<'f32'> {
  const buf = be.alloc(data.length);
  be.upload(buf, data);
  return buf;
}

t.test('the backward reads the forward\'s moments only while x is unchanged', { skip }, async (t) => {
  if (cpu instanceof Error) return;
  t.ok(cpu.fusesConvBatchNormMaxPool!(p), 'the fused kernel runs this shape (else nothing here is tested)');
  const f = {
    w: upload(cpu, random(p.cOut * 9, 2)), bias: upload(cpu, random(p.cOut, 3)), gamma: upload(cpu, random(p.cOut, 4, 0.5, 1.5)),
    beta: upload(cpu, random(p.cOut, 5)), runningMean: upload(cpu, new Float32Array(p.cOut)),
    runningVar: upload(cpu, new Float32Array(p.cOut).fill(1)), out: cpu.alloc(pooled), argmax: cpu.alloc(pooled, 'i32'),
    saveMean: cpu.alloc(p.cOut), saveInvStd: cpu.alloc(p.cOut), dy: upload(cpu, random(pooled, 6)),
  };
  const forward = (x: DeviceBuffer<'f32'>): void =>
    cpu.convBatchNormMaxPoolTrain(x, f.w, f.bias, f.gamma, f.beta, f.runningMean, f.runningVar, f.out, f.argmax,
      f.saveMean, f.saveInvStd, p);
  /** dw, dγ, dβ of a backward through x, as bits. */
  const backward = async (x: DeviceBuffer<'f32'>): Promise<Uint32Array> => {
    const dw = cpu.alloc(p.cOut * 9), dgamma = cpu.alloc(p.cOut), dbeta = cpu.alloc(p.cOut);
    cpu.convBatchNormMaxPoolBackward(x, f.w, f.bias, f.out, f.argmax, f.dy, f.gamma, f.beta, f.saveMean, f.saveInvStd,
      dw, dgamma, dbeta, p);
    const parts = await Promise.all([dw, dgamma, dbeta].map((b) => cpu.download(b) as Promise<Float32Array>));
    for (const b of [dw, dgamma, dbeta]) cpu.free(b);
    return new Uint32Array(Float32Array.from(parts.flatMap((a) => Array.from(a))).buffer);
  };
  const differing = (a: Uint32Array, b: Uint32Array): number => a.reduce((n, v, i) => n + (v !== b[i] ? 1 : 0), 0);

  const first = random(xLength, 1, -0.5, 2);
  const x = upload(cpu, first);
  forward(x);
  const stamp = (x as CpuBuffer).stamp;
  const kept = await backward(x);
  t.equal((x as CpuBuffer).stamp, stamp, 'the fused kernels only read x: its stamp stays');
  const copy = upload(cpu, first);  // the same values under another address and stamp
  const fresh = await backward(copy);
  t.equal(differing(kept, fresh), 0, 'moments kept from the forward give the bits of moments taken again');

  // a new x after the forward: the backward must take the new x's moments
  const second = random(xLength, 9, -1, 3);
  forward(x);
  cpu.upload(x, second);
  t.not((x as CpuBuffer).stamp, stamp, 'an upload gives x a new stamp');
  const afterWrite = await backward(x);
  const secondCopy = upload(cpu, second);
  const wanted = await backward(secondCopy);
  t.equal(differing(afterWrite, wanted), 0, 'a write to x between the forward and the backward is seen');
  t.ok(differing(afterWrite, kept) > 0, 'and it changes the result (the check above can fail)');

  // a forward on another input replaces the kept moments
  forward(copy);
  t.equal(differing(await backward(x), wanted), 0, 'x\'s backward after a forward on another input takes x\'s moments');
});
