// What can be checked of the Metal backend on Linux without an MSL compiler: the library source
// handed to newLibraryWithSource (every kernel the launchers dispatch is defined exactly once, local
// includes inlined, #line directives true), the host C++ that the Mac and the emulator share
// compiles, and the TypeScript backend encodes buffer handles as the addon decodes them.
// The kernels' numerics run in the metal-emu stage (npm run test:metal-emu); on a Mac, in
// scripts/mac-check.sh.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { MetalBackend } from '../../src/nn/backends/metal/metal-backend.ts';
import { metalKernelFiles, metalLibrarySource, metalSourceDir } from '../../src/nn/backends/metal/library-source.ts';
import type { MetalDeviceInfo, NativeMetalContext } from '../../src/nn/backends/metal/native.ts';
import { parseMetalGemm } from '../../src/nn/backends/metal/native.ts';
import { findOnPath } from '../../scripts/lib/tools.mjs';

/** kKernelNames of native/metal/host/launch.cc. */
function launcherKernelNames(): string[] {
  const src = readFileSync(join(metalSourceDir, 'host', 'launch.cc'), 'utf8');
  const list = /kKernelNames\[\] = \{([^}]*)\}/.exec(src);
  return list ? [...list[1].matchAll(/"([a-z0-9_]+)"/g)].map((m) => m[1]) : [];
}

t.test('the library source defines every kernel the launchers dispatch, once', async (t) => {
  const source = metalLibrarySource();
  const names = launcherKernelNames();
  t.ok(names.length >= 30, `${names.length} kernels listed in launch.cc`);
  for (const name of names) {
    const defs = source.match(new RegExp(`^kernel void ${name}\\(`, 'gm')) ?? [];
    t.equal(defs.length, 1, `kernel ${name}`);
  }
  const defined = [...source.matchAll(/^kernel void ([a-z0-9_]+)\(/gm)].map((m) => m[1]);
  t.same(defined.filter((d) => !names.includes(d)), [], 'no kernel the launchers never dispatch');
  t.notMatch(source, /^\s*#\s*include\s+"/m, 'no local #include left (newLibraryWithSource cannot open files)');
  t.equal(source.match(/#include <metal_stdlib>/g)?.length, 1, '<metal_stdlib> once');
  for (const dispatched of readFileSync(join(metalSourceDir, 'host', 'launch.cc'), 'utf8').matchAll(/"([a-z0-9_]+)", \{/g)) {
    t.ok(names.includes(dispatched[1]), `${dispatched[1]} is in kKernelNames`);
  }
});

t.test('#line directives point at the real file and line', async (t) => {
  const lines = metalLibrarySource().split('\n');
  let checked = 0;
  for (let i = 0; i < lines.length; i++) {
    const m = /^#line (\d+) "([^"]+)"$/.exec(lines[i]);
    if (!m || i + 1 >= lines.length || lines[i + 1].startsWith('#line')) continue;
    const original = readFileSync(join(metalSourceDir, m[2]), 'utf8').split('\n')[Number(m[1]) - 1];
    const expected = /^\s*#\s*pragma\s+once\s*$/.test(original) ? '' : original;
    if (lines[i + 1] !== expected) t.fail(`${m[2]}:${m[1]} is "${lines[i + 1]}", expected "${expected}"`);
    checked++;
  }
  t.ok(checked >= metalKernelFiles.length, `${checked} #line anchors checked`);
});

t.test('the host C++ shared by the Mac and the emulator compiles (launchers, N-API surface)', { skip: findOnPath('g++') ? false : 'no g++' }, async (t) => {
  const root = join(metalSourceDir, '..', '..');
  for (const file of ['native/metal/host/launch.cc', 'native/metal/host/addon_surface.cc']) {
    const r = spawnSync('g++', [
      '-std=c++17', '-fsyntax-only', '-Wall', '-Wextra', '-Werror', '-DNAPI_VERSION=8', '-DNAPI_CPP_EXCEPTIONS',
      `-I${join(root, 'node_modules', 'node-addon-api')}`, `-I${join(process.execPath, '..', '..', 'include', 'node')}`, file,
    ], { cwd: root, encoding: 'utf8' });
    t.equal(r.status, 0, `${file}: ${r.stderr.slice(0, 800)}`);
  }
});

t.test('INKLING_METAL_GEMM is parsed strictly', async (t) => {
  t.equal(parseMetalGemm(undefined), 'simdgroup');
  t.equal(parseMetalGemm('mps'), 'mps');
  t.throws(() => parseMetalGemm('cublas'), /INKLING_METAL_GEMM must be 'simdgroup' or 'mps'/);
});

t.test('the backend passes handles (buffer id · 2^32 + byte offset) and its own name', async (t) => {
  const calls: unknown[][] = [];
  let next = 1;
  const info: MetalDeviceInfo = { name: 'stand-in', unifiedMemory: true, maxBufferLength: 2 ** 34, workingSetBytes: 16 * 2 ** 30, mps: true, gemm: 'simdgroup' };
  const native = new Proxy({} as NativeMetalContext, {
    get(_t, prop: string) {
      if (prop === 'info') return () => info;
      if (prop === 'alloc') return () => (next++) * 2 ** 32;
      if (prop === 'poll') return () => true;
      if (prop === 'beginDownload') return () => 1;
      return (...args: unknown[]) => void calls.push([prop, ...args]);
    },
  });
  const backend = new MetalBackend(native, 'metal');
  t.equal(backend.device, 'stand-in (unified memory, 16 GiB working set, gemm simdgroup)');
  const a = backend.alloc(8);
  const b = backend.alloc(8);
  backend.copy(a, b, 3, 2, 5);
  t.same(calls.at(-1), ['copy', 2 ** 32 + 8, 2 * 2 ** 32 + 20, 12], 'element offsets become byte offsets in the low 32 bits');
  const other = new MetalBackend(native, 'metal-emu');
  t.throws(() => other.fill(a, 0), /not a buffer of this metal-emu backend/);
  backend.setGemm('mps');
  t.same(calls.at(-1), ['setGemm', 1]);
  backend.dispose();
  t.throws(() => backend.fill(b, 1), /the metal backend was disposed/);
});
