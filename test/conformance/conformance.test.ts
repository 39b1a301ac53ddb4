// Runs the conformance table (cases.ts) on every backend in the registry that can run here and
// compares each output with ref: float outputs by normalized max error (max|got − ref| / max|ref|,
// tolerance DEFAULT_TOLERANCE = 1e-4 unless a case says otherwise: 1e-5 for optimizer updates,
// 1e-6 plus a bit-identical drop pattern for dropout), integer outputs exactly.
//
// Every buffer of every case sits between guard regions (case-kit.ts): a kernel that writes past a
// buffer fails its case. The per-backend body is backend-suite.ts, shared with the emulator stages.
// A backend that cannot run here is a skip with the reason, unless INKLING_REQUIRE_<NAME>=1
// (e.g. INKLING_REQUIRE_CPU=1, INKLING_REQUIRE_METAL_EMU=1), which makes it a failure. Emulated
// backends (cuda-emu, metal-emu) are a skip naming the CI stage that runs them. A kernel that throws
// UnsupportedOpError is a failing case naming the op. ref itself is the oracle: here it must run
// every case with finite outputs; its values are pinned by hand in test/nn/ref-backend.test.ts and
// its gradients by finite differences in test/nn/ref-gradients.test.ts.

import t from 'tap';
import type { Backend } from '../../src/nn/backend.ts';
import { RefBackend } from '../../src/nn/backends/ref/index.ts';
import {
  backendNames, backendRequired, createBackend, emulatorSkipReason, probeBackend, requireVariable,
} from '../../src/nn/backends/registry.ts';
import { conformanceSuite } from './backend-suite.ts';
import { kernelCases, seedCnnCases, seedCnnShapes, type KernelName } from './cases.ts';
import { runCase } from './run-case.ts';

/** Every kernel method of the contract, read off the ref backend (which implements all of them). */
function contractKernels(): string[] {
  const notKernels = new Set(['constructor', 'alloc', 'allocGuarded', 'upload', 'download', 'free', 'flush', 'stats', 'dispose']);
  return Object.getOwnPropertyNames(RefBackend.prototype).filter((k) => !notKernels.has(k) && !k.startsWith('_'))
    .filter((k) => typeof (RefBackend.prototype as unknown as Record<string, unknown>)[k] === 'function')
    .filter((k) => k !== 'f32' && k !== 'i32'); // the class's private resolvers
}

t.test('the table covers every kernel of the contract with unique case names', async (t) => {
  const names = new Set<string>();
  for (const c of kernelCases) {
    t.notOk(names.has(c.name), `duplicate case name "${c.name}"`);
    names.add(c.name);
  }
  const covered = new Set<KernelName>(kernelCases.map((c) => c.kernel));
  for (const kernel of contractKernels()) t.ok(covered.has(kernel as KernelName), `a case exercises ${kernel}`);
  t.ok(kernelCases.length > 100, `${kernelCases.length} cases`);
});

t.test('ref runs every case with finite outputs', async (t) => {
  const ref = new RefBackend();
  for (const c of kernelCases) {
    const out = await runCase(ref, c);
    const bad = Object.entries(out).filter(([, data]) => !data.every((v) => Number.isFinite(v)));
    t.same(bad.map(([k]) => k), [], `${c.name}: finite outputs`);
    // A case whose outputs are all zero (e.g. a ReLU that clamps everything) cannot catch a bug.
    const degenerate = Object.entries(out).filter(([, data]) => data.length > 1 && data.every((v) => v === 0));
    t.same(degenerate.map(([k]) => k), [], `${c.name}: outputs not all zero`);
  }
  t.same(ref.stats(), { buffers: 0, bytes: 0 }, 'every case frees its buffers');
  ref.dispose();
});

t.test('the seed-CNN benchmark cases are well formed (names unique, batch 1 runs on ref)', async (t) => {
  const names = seedCnnShapes.map((c) => c.name);
  t.equal(new Set(names).size, names.length, 'unique names');
  t.ok(names.some((n) => n.includes('b256 conv2-as-gemm')), 'batch 256 present');
  const ref = new RefBackend();
  for (const c of seedCnnCases(1)) {
    const out = await runCase(ref, c);
    const finite = Object.values(out).every((data) => data.every((v) => Number.isFinite(v)));
    t.ok(finite && c.flops >= 0 && c.bytes > 0, `${c.name}: runs, finite outputs, counts set`);
  }
  ref.dispose();
});

for (const name of backendNames) {
  if (name === 'ref') continue;
  const emulated = emulatorSkipReason(name);
  if (emulated) {
    t.test(`backend ${name}`, { skip: emulated }, async () => {});
    continue;
  }
  const probe = await probeBackend(name);
  if (!probe.available) {
    if (backendRequired(name)) {
      t.test(`backend ${name}`, async (t) => {
        t.fail(`${requireVariable(name)}=1 but backend ${name} is unavailable: ${probe.reason}`);
      });
    } else {
      t.test(`backend ${name}`, { skip: `unavailable: ${probe.reason}` }, async () => {});
    }
    continue;
  }
  t.test(`backend ${name} matches ref`, async (t) => {
    const backend = await createBackend(name);
    t.teardown(() => backend.dispose());
    await conformanceSuite(t, backend);
  });
}
