// The cpu backend's buffer pool: freed buffers are reused by size bucket (no allocator churn in a
// training loop), stats count live buffers only, and handles are checked.

import t from 'tap';
import { createCpuBackend } from '../../src/nn/backends/cpu/index.ts';
import { bucketBytes, CpuBuffer } from '../../src/nn/backends/cpu/memory.ts';

t.test('bucket sizes: 64-byte steps, then at most 12.5% slack', async (t) => {
  t.equal(bucketBytes(4), 64);
  t.equal(bucketBytes(65), 128);
  t.equal(bucketBytes(4096), 4096);
  for (const bytes of [4097, 10_000, 3_211_264, 12_845_056, 99_999_999]) {
    const b = bucketBytes(bytes);
    t.ok(b >= bytes && b <= bytes * 1.125, `${bytes} -> ${b}`);
  }
});

const cpu = await createCpuBackend().catch((err: unknown) => err as Error);

t.test('pooling', { skip: cpu instanceof Error ? `cpu addon not built: ${cpu.message}` : false }, async (t) => {
  if (cpu instanceof Error) return;
  const a = cpu.alloc(1000) as CpuBuffer<'f32'>;
  const backing = a.data!.buffer;
  cpu.free(a);
  t.same(cpu.stats(), { buffers: 0, bytes: 0 }, 'freed buffers are not counted');
  const b = cpu.alloc(995) as CpuBuffer<'f32'>; // 3980 bytes: the same 4032-byte bucket as 4000
  t.equal(b.data!.buffer, backing, 'a freed buffer of the same bucket is reused');
  t.equal(b.length, 995);
  t.equal(b.data!.length, 995, 'the view has the requested length');
  t.throws(() => cpu.free(a), /used after free/, 'double free is refused');

  // A training-loop pattern: the same sizes every step. The pool stops growing after step one.
  const sizes = [401408, 100352, 3136 * 128, 128 * 10, 64];
  const pooledAfter: number[] = [];
  for (let step = 0; step < 5; step++) {
    const bufs = sizes.map((n) => cpu.alloc(n));
    for (const buf of bufs) cpu.free(buf);
    pooledAfter.push(cpu.pooledBytes());
  }
  t.ok(pooledAfter.every((v) => v === pooledAfter[0]), `pooled bytes stay flat: ${pooledAfter.join(', ')}`);
  cpu.free(b);
  t.same(cpu.stats(), { buffers: 0, bytes: 0 });
  const other = await createCpuBackend();
  const foreign = other.alloc(4);
  t.throws(() => cpu.fill(foreign, 1), /not a buffer of this cpu backend/);
  other.dispose();
  cpu.dispose();
  t.throws(() => cpu.alloc(4), /disposed/);
});
