// Results do not depend on the thread count: every reduction is split into a fixed number of
// parts combined in a fixed order (no float atomics), so 1, 2 and 3 threads agree bit for bit.

import t from 'tap';
import { createCpuBackend } from '../../src/nn/backends/cpu/index.ts';
import type { Backend } from '../../src/nn/backend.ts';
import type { KernelCase } from '../../spec/kernels/case-kit.ts';
import { kernelCases } from '../../spec/kernels/cases.ts';
import { runCase } from '../../spec/kernels/run-case.ts';
import { seedCnnCases } from '../../spec/kernels/seed-cnn-cases.ts';

const backends = await Promise.all([1, 2, 3].map((threads) => createCpuBackend({ threads }))).catch((err: unknown) => err as Error);

function sameBits(a: Float32Array | Int32Array, b: Float32Array | Int32Array): boolean {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

if (backends instanceof Error) {
  t.test('determinism', { skip: `cpu backend unavailable: ${backends.message}` }, async () => {});
} else {
  t.teardown(() => backends.forEach((b) => b.dispose()));

  t.test('device strings report the thread count', async (t) => {
    t.match(backends[0]!.device, /1 thread\b/);
    t.match(backends[1]!.device, /2 threads/);
  });

  async function compare(t: { ok(v: unknown, m: string): boolean }, cases: KernelCase[], all: Backend[]): Promise<void> {
    for (const c of cases) {
      const outs = [];
      for (const b of all) outs.push(await runCase(b, c));
      for (const name of Object.keys(c.outputs)) {
        for (let i = 1; i < outs.length; i++) {
          t.ok(sameBits(outs[0]![name]!, outs[i]![name]!), `${c.name}: ${name} identical on 1 and ${i + 1} threads`);
        }
      }
    }
  }

  t.test('every conformance case gives identical bits on 1, 2 and 3 threads', (t) => compare(t, [...kernelCases], backends));

  t.test('the seed CNN kernels at batch 64 too (big enough to split every reduction)', (t) =>
    compare(t, seedCnnCases(64).filter((c) => !c.name.includes('adamStep')), backends));
}
