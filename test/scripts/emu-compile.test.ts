// The emulator builds' compile cache (scripts/cuda-emu/compile.mjs): two programs built at once
// into one object folder, sharing a unit that must be compiled (the sanitizer stage builds its
// harness and its planted bugs in parallel, both with the emulator's core). With fixed temporary
// names one compile deleted the other's dependency list before it was read (ENOENT), seen after
// a change to one core file. Then a rebuild reuses the objects, and a change recompiles.
import t from 'tap';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileAndLink, compilerVersion, compiler } from '../../scripts/cuda-emu/compile.mjs';

const haveCompiler = Boolean(compilerVersion(compiler()));

t.test('two builds at once compile a shared unit without stepping on each other', { skip: haveCompiler ? false : `no C++ compiler (${compiler()})` }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'inkling-compile-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'src'));
  writeFileSync(join(root, 'src', 'shared.h'), 'int shared(int x);\n');
  for (const p of ['a', 'b']) writeFileSync(join(root, 'src', `${p}.cc`), `#include "shared.h"\nint main() { return shared(0); }\n`);
  // Several shared units, rewritten each round so that both builds must compile every one of
  // them at the same moment (the race needs one compile to finish between the other's two steps).
  const shared = Array.from({ length: 6 }, (_, i) => `src/shared${i}.cc`);
  const objDir = join(root, 'obj');
  const build = (p: string) => compileAndLink({ root, units: [...shared, `src/${p}.cc`], flags: ['-O0'], objDir, output: join(root, 'bin', p), jobs: 2 });
  let failures = 0;
  for (let round = 0; round < 8; round++) {
    shared.forEach((u, i) => writeFileSync(join(root, u), i === 0 ? `#include "shared.h"\nint shared(int x) { return x * ${round + 3}; }\n` : `int unit${i}(int x) { return x + ${round}; }\n`));
    const [a, b] = await Promise.all([build('a').catch((e: Error) => ({ ok: false, log: e.message, compiled: [] as string[] })), build('b').catch((e: Error) => ({ ok: false, log: e.message, compiled: [] as string[] }))]);
    if (!(a.ok && b.ok)) {
      failures++;
      t.fail(`round ${round}: ${a.ok ? '' : a.log}${b.ok ? '' : b.log}`);
    } else t.ok(shared.every((u) => a.compiled.includes(u) && b.compiled.includes(u)), `round ${round}: both built, both compiled every shared unit`);
  }
  t.equal(failures, 0, 'no round failed');
  const again = await build('a');
  t.same([again.ok, again.compiled, again.reused.length], [true, [], shared.length + 1], 'a rebuild reuses every object');
  const left = readdirSync(objDir).filter((f) => f.endsWith('.tmp.o') || f.endsWith('.d'));
  t.same(left, [], 'no temporary objects or dependency lists left behind');
  t.equal(readdirSync(objDir).filter((f) => f.startsWith('src_shared0.cc.') && f.endsWith('.o')).length, 1, 'one object kept per unit');
});
