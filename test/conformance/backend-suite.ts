// The per-backend part of the conformance table, shared by conformance.test.ts (every backend of the
// registry that `npm test` runs) and the emulator stages (test/cuda-emu/, test/metal-emu/), so that
// there is one harness: memory semantics, then every case of the table against ref with guard
// regions around every buffer.

import type { Test } from 'tap';
import type { Backend } from '../../src/nn/backend.ts';
import { hasGuardedAlloc } from '../../src/nn/backends/guarded-alloc.ts';
import { RefBackend } from '../../src/nn/backends/ref/index.ts';
import { kernelCases, type KernelCase } from './cases.ts';
import { checkCase } from './run-case.ts';

/** The assertions memoryConformance uses (tap's Test type is generic over its plugins). */
interface Asserts {
  equal(found: unknown, wanted: unknown, message: string): boolean;
  same(found: unknown, wanted: unknown, message: string): boolean;
}

/** alloc, upload/download with offsets, copies on download, stats and free. */
export async function memoryConformance(t: Asserts, backend: Backend): Promise<void> {
  const before = backend.stats();
  const f = backend.alloc(10, 'f32');
  const i = backend.alloc(6, 'i32');
  t.equal(f.length, 10, 'alloc gives the length asked for');
  t.equal(i.dtype, 'i32', 'alloc gives the dtype asked for');
  t.same(backend.stats(), { buffers: before.buffers + 2, bytes: before.bytes + 64 }, 'stats count live buffers and bytes');
  backend.fill(f, 0);
  const data = new Float32Array([1, 2, 3, 4]);
  backend.upload(f, data, 3);
  data[0] = 99; // the caller may reuse its array on return
  backend.upload(i, new Int32Array([-7, 8]), 4);
  t.same(Array.from(await backend.download(f)), [0, 0, 0, 1, 2, 3, 4, 0, 0, 0], 'upload at an offset');
  t.same(Array.from(await backend.download(f, 4, 2)), [2, 3], 'download a range');
  t.same(Array.from(await backend.download(i, 4)), [-7, 8], 'download from an offset to the end');
  const copy = await backend.download(f);
  copy[0] = 42;
  t.equal((await backend.download(f, 0, 1))[0], 0, 'download returns a copy');
  backend.free(f);
  backend.free(i);
  t.same(backend.stats(), before, 'free releases');
}

export interface SuiteOptions {
  /** The cases to run (default: the whole table). */
  cases?: readonly KernelCase[];
  /** Prefixed to each case's name (e.g. "tf32 reverse: "). */
  label?: string;
}

/** Memory, guards and every case on `backend` against a fresh ref, as subtests of `t`. */
export async function conformanceSuite(t: Test, backend: Backend, opts: SuiteOptions = {}): Promise<void> {
  const ref = new RefBackend();
  t.teardown(() => ref.dispose());
  const label = opts.label ?? '';
  t.test(`${label}memory: alloc, upload/download with offsets, stats, free`, (t) => memoryConformance(t, backend));
  t.test(`${label}guard regions: the backend can place a buffer between guards (allocGuarded)`, async (t) => {
    t.ok(hasGuardedAlloc(backend), `${backend.name} implements allocGuarded (src/nn/backends/guarded-alloc.ts), so writes past a buffer are caught`);
  });
  for (const c of opts.cases ?? kernelCases) {
    t.test(`${label}${c.name}`, async (t) => {
      const check = await checkCase(backend, ref, c);
      if (check.status === 'unsupported') {
        t.fail(`${backend.name} does not implement ${check.op}: ${check.message}`);
        return;
      }
      for (const r of check.results) t.ok(r.ok, r.detail);
    });
  }
}
