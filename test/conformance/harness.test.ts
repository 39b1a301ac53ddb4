// The conformance harness must catch broken backends: each deliberately wrong variant of ref below
// has to fail the cases that exercise its bug (and only a correct backend passes everything), and
// the guard regions must catch a kernel that writes past a buffer on a real backend (cpu).

import t from 'tap';
import type { Backend, Conv2dParams, DeviceBuffer, DropoutParams, MatmulParams, UnaryOp } from '../../src/nn/backend.ts';
import { UnsupportedOpError } from '../../src/nn/backend-errors.ts';
import { createCpuBackend } from '../../src/nn/backends/cpu/index.ts';
import type { CpuBuffer } from '../../src/nn/backends/cpu/memory.ts';
import { hasGuardedAlloc } from '../../src/nn/backends/guarded-alloc.ts';
import { RefBackend } from '../../src/nn/backends/ref/index.ts';
import { kernelCases, type KernelName } from './cases.ts';
import { checkCase, type CaseCheck } from './run-case.ts';

type F32 = DeviceBuffer<'f32'>;

async function checkAll(backend: RefBackend, kernels: KernelName[]): Promise<Map<string, CaseCheck>> {
  const ref = new RefBackend();
  const checks = new Map<string, CaseCheck>();
  for (const c of kernelCases) if (kernels.includes(c.kernel)) checks.set(c.name, await checkCase(backend, ref, c));
  ref.dispose();
  return checks;
}

function failing(checks: Map<string, CaseCheck>): string[] {
  return [...checks].filter(([, c]) => c.status !== 'pass').map(([name]) => name);
}

t.test('ref against itself passes every case (the table is deterministic)', async (t) => {
  const checks = await checkAll(new RefBackend(), [...new Set(kernelCases.map((c) => c.kernel))]);
  t.same(failing(checks), []);
});

t.test('a conv2d that drops the bias fails exactly the conv2d cases with a bias', async (t) => {
  class NoBias extends RefBackend {
    override conv2d(x: F32, w: F32, _bias: F32 | null, out: F32, p: Conv2dParams): void {
      super.conv2d(x, w, null, out, p);
    }
  }
  const checks = await checkAll(new NoBias(), ['conv2d']);
  const withBias = [...checks.keys()].filter((n) => n.includes(' bias'));
  t.ok(withBias.length > 0);
  t.same(failing(checks).sort(), withBias.sort());
});

t.test('a matmul that ignores accumulate fails the accumulate cases', async (t) => {
  class NoAccumulate extends RefBackend {
    override matmul(a: F32, b: F32, bias: F32 | null, out: F32, p: MatmulParams): void {
      super.matmul(a, b, bias, out, { ...p, accumulate: false });
    }
  }
  const checks = await checkAll(new NoAccumulate(), ['matmul']);
  const acc = [...checks.keys()].filter((n) => n.endsWith(' acc'));
  t.ok(acc.length > 0);
  t.same(failing(checks).sort(), acc.sort());
});

t.test('a dropout with another mask fails on the drop pattern', async (t) => {
  class OtherMask extends RefBackend {
    override dropout(x: F32, out: F32, p: DropoutParams): void {
      super.dropout(x, out, { ...p, seed: p.seed + 1 });
    }
  }
  const checks = await checkAll(new OtherMask(), ['dropout']);
  for (const [name, check] of checks) {
    if (name.includes(' p0 ')) continue; // p = 0 keeps everything whatever the mask
    t.equal(check.status, 'fail', name);
    if (check.status === 'fail') t.match(check.results[0].detail, /zero \(dropped\) pattern differs/);
  }
});

t.test('a dropout that compares u with p rounded to float32 fails the p = 0.7 case', async (t) => {
  class Float32Threshold extends RefBackend {
    override dropout(x: F32, out: F32, p: DropoutParams): void {
      super.dropout(x, out, { ...p, p: Math.fround(p.p) });
    }
  }
  const checks = await checkAll(new Float32Threshold(), ['dropout']);
  t.same(failing(checks), ['dropout dropout 1001 p0.7 seed36040 step0']);
});

t.test('argmax that picks the last maximum fails the ties case', async (t) => {
  class LastOnTies extends RefBackend {
    override argmax(x: F32, out: DeviceBuffer<'i32'>, rows: number, cols: number): void {
      // Reverse each row, take the first max there, map back: the last max of the original row.
      const tmp = this.alloc(rows * cols);
      const idx = this.alloc(rows, 'i32');
      for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) this.copy(x, tmp, 1, r * cols + j, r * cols + cols - 1 - j);
      super.argmax(tmp, idx, rows, cols);
      this.scale(tmp, 0, 0, tmp);
      // idx' = cols − 1 − idx, computed on the host side of ref (a test double may cheat).
      const mem = (this as unknown as { mem: { resolve(k: string, n: string, b: DeviceBuffer): Int32Array } }).mem;
      const src = mem.resolve('t', 'idx', idx);
      const dst = mem.resolve('t', 'out', out);
      for (let r = 0; r < rows; r++) dst[r] = cols - 1 - src[r];
      this.free(tmp);
      this.free(idx);
    }
  }
  const checks = await checkAll(new LastOnTies(), ['argmax']);
  t.same(failing(checks), ['argmax 9x5 ties']);
});

t.test('an UnsupportedOpError is reported as unsupported, naming the op', async (t) => {
  class NoMaxPool extends RefBackend {
    override maxPool2d(): void {
      throw new UnsupportedOpError('test', 'maxPool2d');
    }
  }
  const checks = await checkAll(new NoMaxPool(), ['maxPool2d']);
  t.ok(checks.size > 0);
  for (const check of checks.values()) t.match(check, { status: 'unsupported', op: 'maxPool2d' });
});

// ---- guard regions (case-kit.ts), on a real backend ----

/** `backend` with one kernel replaced, every other member bound to the real object. */
function withKernel<B extends Backend>(backend: B, key: keyof B, replacement: unknown, hide: string[] = []): Backend {
  return new Proxy(backend, {
    get(target, k) {
      if (k === key) return replacement;
      if (hide.includes(String(k))) return undefined;
      const v = Reflect.get(target, k, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  }) as Backend;
}

const cpu = await createCpuBackend().catch((err: unknown) => err as Error);
const cpuSkip = cpu instanceof Error ? `cpu addon not built: ${cpu.message}` : false;

t.test('guards: a write one element past the output fails every case of the kernel on the real cpu backend', { skip: cpuSkip }, async (t) => {
  if (cpu instanceof Error) return;
  // Planted: after cpu's own unary kernel, one element past `out` is written through its memory,
  // as a C++ loop bound off by one would.
  const overrun = (op: UnaryOp, x: F32, out: F32): void => {
    cpu.unary(op, x, out);
    const d = (out as CpuBuffer<'f32'>).data!;
    new Float32Array(d.buffer, d.byteOffset, d.length + 1)[d.length] = 0.5;
  };
  const ref = new RefBackend();
  const cases = kernelCases.filter((c) => c.kernel === 'unary');
  for (const c of cases) {
    const check = await checkCase(withKernel(cpu, 'unary', overrun), ref, c);
    t.equal(check.status, 'fail', `${c.name} fails`);
    if (check.status === 'fail') {
      t.ok(check.guarded, 'its buffers sat between guards');
      t.match(check.results.map((r) => r.detail).join('\n'), /out: 1 element written past its end \(\+0: 0\.5\)/, 'naming the buffer, the side and the value');
    }
  }
  // The same overrun without guards lands in the pool's slack and goes unseen: the guards are what catch it.
  const unguarded = await checkCase(withKernel(cpu, 'unary', overrun, ['allocGuarded']), ref, cases[0]!);
  t.equal(unguarded.status, 'pass', 'without allocGuarded the overrun passes silently');
  ref.dispose();
});

t.test('guards: a write before the start of an output is caught too', { skip: cpuSkip }, async (t) => {
  if (cpu instanceof Error) return;
  const underrun = (x: F32, alpha: number, beta: number, out: F32): void => {
    cpu.scale(x, alpha, beta, out);
    const d = (out as CpuBuffer<'f32'>).data!;
    new Float32Array(d.buffer, d.byteOffset - 8, 1)[0] = 7;
  };
  const ref = new RefBackend();
  const c = kernelCases.find((k) => k.name === 'scale 1001')!;
  const check = await checkCase(withKernel(cpu, 'scale', underrun), ref, c);
  t.equal(check.status, 'fail');
  if (check.status === 'fail') t.match(check.results.map((r) => r.detail).join('\n'), /out: 1 element written before its start \(-1: 7\)/);
  ref.dispose();
});

t.test('guards: every backend of this file offers allocGuarded; ref keeps buffer and region in step', async (t) => {
  const ref = new RefBackend();
  t.ok(hasGuardedAlloc(ref), 'ref');
  if (!(cpu instanceof Error)) t.ok(hasGuardedAlloc(cpu), 'cpu');
  const g = ref.allocGuarded(3, 'f32', 2);
  ref.upload(g.region, new Float32Array([9, 9, 0, 0, 0, 9, 9]));
  ref.upload(g.buffer, new Float32Array([1, 2, 3]));
  t.same(Array.from(await ref.download(g.region)), [9, 9, 1, 2, 3, 9, 9], 'the buffer is the middle of its region');
  ref.free(g.buffer);
  ref.free(g.region);
  t.same(ref.stats(), { buffers: 0, bytes: 0 }, 'freeing both leaves nothing live');
  ref.dispose();
});

t.teardown(() => {
  if (!(cpu instanceof Error)) cpu.dispose();
});
