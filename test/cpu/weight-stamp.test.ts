// The cpu backend caches what it derives from convolution weights (Winograd's transformed
// filters, native/cpu/impl/winograd.h) under the weights' address and their CpuBuffer.stamp,
// which every access that may write gives a new value (memory.ts). These tests change the weights
// every way the contract allows, at a shape where the cached path runs (batch 1, 3x3, 8+ channels),
// and check each convolution against ref: a write that did not bump the stamp would leave the
// kernel on the old filters, and the comparison fails (removing the bump in CpuMemory.resolve
// fails this file).

import t from 'tap';
import type { Backend, Conv2dParams, DeviceBuffer } from '../../src/nn/backend.ts';
import { createCpuBackend } from '../../src/nn/backends/cpu/index.ts';
import type { CpuBuffer } from '../../src/nn/backends/cpu/memory.ts';
import { conv2d as refConv2d } from '../../src/nn/backends/ref/conv.ts';

const cpu = await createCpuBackend().catch((err: unknown) => err as Error);
const skip = cpu instanceof Error ? `cpu addon not built: ${cpu.message}` : false;

const p: Conv2dParams = { n: 1, cIn: 8, h: 9, w: 7, cOut: 16, kh: 3, kw: 3, stride: 1, pad: 1 };
const wLength = p.cOut * p.cIn * 9;
const outLength = p.n * p.cOut * p.h * p.w;

function random(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
}

/** The backend's convolution of x with w, against ref's on the weights' current contents. */
interface Asserts {
  ok(value: unknown, message: string): boolean;
}

async function checkConv(t: Asserts, be: Backend, x: DeviceBuffer<'f32'>, w: DeviceBuffer<'f32'>, what: string): Promise<void> {
  const out = be.alloc(outLength);
  be.conv2d(x, w, null, out, p);
  const got = (await be.download(out)) as Float32Array;
  be.free(out);
  const want = new Float32Array(outLength);
  refConv2d((await be.download(x)) as Float32Array, (await be.download(w)) as Float32Array, null, want, p);
  let worst = 0;
  for (let i = 0; i < outLength; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
  t.ok(worst < 1e-4, `${what}: matches ref (max |diff| ${worst.toExponential(1)})`);
}

t.test('every write to conv weights is seen by the next convolution', { skip }, async (t) => {
  if (cpu instanceof Error) return;
  const x = cpu.alloc(p.n * p.cIn * p.h * p.w);
  cpu.upload(x, random(p.n * p.cIn * p.h * p.w, 1));
  const w = cpu.alloc(wLength);
  cpu.upload(w, random(wLength, 2));
  const stamp = (): number => (w as CpuBuffer).stamp;

  await checkConv(t, cpu, x, w, 'first use (filters derived and cached)');
  const s0 = stamp();
  await checkConv(t, cpu, x, w, 'second use (from the cache)');
  t.equal(stamp(), s0, 'a convolution only reads its weights: the stamp stays');

  let before = stamp();
  cpu.upload(w, random(wLength, 3));
  t.not(stamp(), before, 'upload gives a new stamp');
  await checkConv(t, cpu, x, w, 'after upload');

  before = stamp();
  cpu.upload(w, random(16, 4), 40);
  t.not(stamp(), before, 'a partial upload too');
  await checkConv(t, cpu, x, w, 'after a partial upload');

  cpu.fill(w, 0.25);
  await checkConv(t, cpu, x, w, 'after fill');

  const src = cpu.alloc(wLength);
  cpu.upload(src, random(wLength, 5));
  cpu.copy(src, w, 100, 0, 30);
  await checkConv(t, cpu, x, w, 'after copy into a range');

  cpu.axpy(-0.5, src, w);
  await checkConv(t, cpu, x, w, 'after axpy (an in-place kernel)');

  const m = cpu.alloc(wLength);
  const v = cpu.alloc(wLength);
  cpu.fill(m, 0);
  cpu.fill(v, 0);
  cpu.adamStep(w, src, m, v, { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, step: 1, weightDecay: 0, decoupled: false });
  await checkConv(t, cpu, x, w, 'after an Adam step (the training loop)');

  cpu.scale(src, 2, 0.125, w);
  await checkConv(t, cpu, x, w, 'after a kernel that writes it as its output');

  for (const b of [src, m, v]) cpu.free(b);
  cpu.free(x);
  cpu.free(w);
  t.same(cpu.stats(), { buffers: 0, bytes: 0 });
});

t.test('a freed buffer reused for new weights (same address) is not mistaken for the old ones', { skip }, async (t) => {
  if (cpu instanceof Error) return;
  const x = cpu.alloc(p.n * p.cIn * p.h * p.w);
  cpu.upload(x, random(p.n * p.cIn * p.h * p.w, 6));
  const a = cpu.alloc(wLength) as CpuBuffer<'f32'>;
  cpu.upload(a, random(wLength, 7));
  await checkConv(t, cpu, x, a, 'old weights');
  const backing = a.data!.buffer;
  cpu.free(a);
  const b = cpu.alloc(wLength) as CpuBuffer<'f32'>;
  t.equal(b.data!.buffer, backing, 'the pool handed out the same memory');
  // Written outside any kernel would be a contract breach; the backing store is refilled via upload.
  cpu.upload(b, random(wLength, 8));
  await checkConv(t, cpu, x, b, 'new weights at the same address');
  // More filter sets than the cache holds (4): each still right, then the first again.
  const sets = [0, 1, 2, 3, 4, 5].map((i) => {
    const w = cpu.alloc(wLength);
    cpu.upload(w, random(wLength, 20 + i));
    return w;
  });
  for (const w of [...sets, sets[0]!, sets[5]!]) await checkConv(t, cpu, x, w, 'one of six filter sets');
  for (const w of [...sets, x, b]) cpu.free(w);
});

t.teardown(() => {
  if (!(cpu instanceof Error)) cpu.dispose();
});
