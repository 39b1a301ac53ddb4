// The cpu max pool's fast paths (a branch-free select tree; vectors of 8 (AVX2) or 16 (AVX-512)
// outputs with a masked row tail) keep PyTorch's argmax rule — the first maximum of the window in
// row-major order — when values tie. Inputs drawn from {−1, 0, 1} tie in most windows; rows of 14,
// 16 and 35 outputs reach a partial vector, a full one and several.

import t from 'tap';
import { createCpuBackend } from '../../src/nn/backends/cpu/index.ts';
import { RefBackend } from '../../src/nn/backends/ref/index.ts';
import type { Backend, Pool2dParams } from '../../src/nn/backend.ts';
import { poolOutputSize } from '../../src/nn/backend.ts';

const cpus = await Promise.all([createCpuBackend({ isa: 'portable' }), createCpuBackend()]).catch((err: unknown) => err as Error);

async function pool(be: Backend, x: Float32Array, p: Pool2dParams): Promise<{ out: Float32Array; argmax: Int32Array }> {
  const { hOut, wOut } = poolOutputSize(p);
  const n = p.n * p.c * hOut * wOut;
  const xb = be.alloc(x.length);
  const ob = be.alloc(n);
  const ab = be.alloc(n, 'i32');
  be.upload(xb, x);
  be.maxPool2d(xb, ob, ab, p);
  const out = await be.download(ob);
  const argmax = await be.download(ab);
  for (const b of [xb, ob, ab]) be.free(b);
  return { out, argmax };
}

if (cpus instanceof Error) {
  t.test('max pool ties', { skip: `cpu backend unavailable: ${cpus.message}` }, async () => {});
} else {
  t.teardown(() => cpus.forEach((b) => b.dispose()));
  const ref = new RefBackend();
  const shapes: Pool2dParams[] = [
    { n: 2, c: 3, h: 28, w: 28, kh: 2, kw: 2, stride: 2 },
    { n: 1, c: 2, h: 20, w: 33, kh: 2, kw: 2, stride: 2 },
    { n: 1, c: 2, h: 9, w: 35, kh: 3, kw: 3, stride: 2 },
    { n: 1, c: 2, h: 6, w: 70, kh: 2, kw: 2, stride: 2 },
  ];
  for (const cpu of cpus) {
    t.test(`${cpu.device}: outputs and argmax equal ref's exactly`, async (t) => {
      let seed = 12345;
      for (const p of shapes) {
        const x = new Float32Array(p.n * p.c * p.h * p.w).map(() => {
          seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
          return (seed >>> 30) % 3 - 1;
        });
        const want = await pool(ref, x, p);
        const got = await pool(cpu, x, p);
        t.same(Array.from(got.out), Array.from(want.out), `values ${JSON.stringify(p)}`);
        t.same(Array.from(got.argmax), Array.from(want.argmax), `argmax ${JSON.stringify(p)}`);
      }
    });
  }
}
