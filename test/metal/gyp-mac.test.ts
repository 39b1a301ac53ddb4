// binding.gyp's macOS settings, checked on Linux. node-gyp on macOS runs gyp's make generator in
// its "mac" flavour, which turns `xcode_settings` into compiler flags (gyp's Xcode emulation) and
// ignores `cflags_cc`. The same generator runs here: `node-gyp configure -- -f make-mac -DOS=mac`
// writes the makefiles a Mac would build from, and this test reads their flags. gyp asks
// `xcodebuild -version` for the Xcode version (it picks SDK defaults); a stub answers "Xcode 15.0".
// Nothing is compiled: whether Apple's clang accepts the result is for scripts/mac-check.sh.

import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { npmNodeGypScript } from '../../scripts/lib/tools.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const nodeGyp = npmNodeGypScript();
const nodeDir = dirname(dirname(process.execPath));
const headers = existsSync(join(nodeDir, 'include', 'node', 'common.gypi'));

interface Generated {
  ok: boolean;
  log: string;
  /** target name → the variable assignments of its .mk (Release), e.g. CFLAGS_CC_Release → flags */
  vars: Map<string, Map<string, string[]>>;
}

/** Parses `NAME := \\ flag \\ flag` blocks of a gyp-generated .mk file. */
function makeVariables(text: string): Map<string, string[]> {
  const vars = new Map<string, string[]>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^([A-Za-z_]+) := ?(.*)$/.exec(lines[i]);
    if (!m) continue;
    const items: string[] = [];
    let line = m[2];
    while (true) {
      const cont = line.endsWith('\\');
      const part = (cont ? line.slice(0, -1) : line).trim();
      if (part) items.push(part);
      if (!cont || i + 1 >= lines.length) break;
      line = lines[++i];
    }
    vars.set(m[1], items);
  }
  return vars;
}

function configure(gypText: string, extra: string[]): Generated {
  const dir = mkdtempSync(join(tmpdir(), 'inkling-gyp-'));
  try {
    writeFileSync(join(dir, 'binding.gyp'), gypText);
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
    mkdirSync(join(dir, 'stub-bin'));
    writeFileSync(join(dir, 'stub-bin', 'xcodebuild'), '#!/bin/sh\necho "Xcode 15.0"\necho "Build version 15A240d"\n');
    chmodSync(join(dir, 'stub-bin', 'xcodebuild'), 0o755);
    const r = spawnSync(process.execPath, [nodeGyp as string, 'configure', `--nodedir=${nodeDir}`, '--', ...extra], {
      cwd: dir, encoding: 'utf8', env: { ...process.env, PATH: `${join(dir, 'stub-bin')}:${process.env.PATH}` },
    });
    const vars = new Map<string, Map<string, string[]>>();
    for (const target of ['inkling_cpu', 'inkling_cpu_avx2', 'inkling_cpu_preprocess', 'inkling_metal']) {
      const mk = join(dir, 'build', `${target}.target.mk`);
      if (existsSync(mk)) vars.set(target, makeVariables(readFileSync(mk, 'utf8')));
    }
    return { ok: r.status === 0, log: `${r.stdout}${r.stderr}`.slice(-1500), vars };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const skip = !nodeGyp ? "npm's node-gyp was not found" : !headers ? `no Node headers under ${nodeDir}/include/node` : false;
const gyp = readFileSync(join(root, 'binding.gyp'), 'utf8');
const mac = () => configure(gyp, ['-f', 'make-mac', '-DOS=mac']);

/** The value of the last -ffp-contract= flag (the one the compiler obeys). */
function lastContract(flags: string[]): string | undefined {
  return flags.filter((f) => f.startsWith('-ffp-contract=')).at(-1);
}

t.test('macOS: every target builds C++17 with exceptions, -O3, for macOS 13', { skip }, async (t) => {
  const g = mac();
  t.ok(g.ok, `gyp generated the mac makefiles (${g.log})`);
  for (const target of ['inkling_cpu', 'inkling_cpu_avx2', 'inkling_cpu_preprocess', 'inkling_metal']) {
    const v = g.vars.get(target);
    if (!v) {
      t.fail(`${target}: no makefile generated`);
      continue;
    }
    const cflags = v.get('CFLAGS_Release') ?? [];
    const cc = v.get('CFLAGS_CC_Release') ?? [];
    t.ok(cflags.includes('-mmacosx-version-min=13.0'), `${target}: deployment target 13.0 (${cflags.join(' ')})`);
    t.ok(cflags.includes('-O3'), `${target}: -O3`);
    t.ok(cc.includes('-std=c++17'), `${target}: -std=c++17 (${cc.join(' ')})`);
    t.notOk(cc.includes('-fno-exceptions'), `${target}: C++ exceptions stay on (NAPI_CPP_EXCEPTIONS needs them)`);
    t.ok((v.get('DEFS_Release') ?? []).includes("'-DNAPI_CPP_EXCEPTIONS'"), `${target}: NAPI_CPP_EXCEPTIONS defined`);
  }
  t.equal(lastContract(g.vars.get('inkling_cpu')?.get('CFLAGS_CC_Release') ?? []), '-ffp-contract=fast', 'kernels: FMA contraction on');
  t.equal(lastContract(g.vars.get('inkling_cpu_preprocess')?.get('CFLAGS_CC_Release') ?? []), '-ffp-contract=off',
    'preprocessing: no FMA contraction (bit-exact with the TypeScript ink map)');
});

t.test('macOS: the metal addon links Metal, MetalPerformanceShaders and Foundation, with ARC', { skip }, async (t) => {
  const v = mac().vars.get('inkling_metal');
  const libs = (v?.get('LIBS') ?? []).join(' ');
  for (const fw of ['Metal', 'MetalPerformanceShaders', 'Foundation']) t.match(libs, `-framework ${fw}`, `links ${fw}.framework`);
  t.ok((v?.get('CFLAGS_OBJCC_Release') ?? []).includes('-fobjc-arc'), 'Objective-C++ with ARC');
  const objs = (v?.get('OBJS') ?? []).join(' ');
  for (const src of ['native/metal/addon/metal_device.o', 'native/metal/host/addon_surface.o', 'native/metal/host/launch.o']) {
    t.match(objs, src, `builds ${src.replace('.o', '')}`);
  }
});

t.test('Linux is unchanged: no metal target, flags from cflags_cc', { skip }, async (t) => {
  const g = configure(gyp, []);
  t.ok(g.ok, `gyp generated the Linux makefiles (${g.log})`);
  t.notOk(g.vars.has('inkling_metal'), 'no metal target on Linux');
  const cc = g.vars.get('inkling_cpu')?.get('CFLAGS_CC_Release') ?? [];
  for (const f of ['-std=c++17', '-fexceptions', '-O3', '-ffp-contract=fast']) t.ok(cc.includes(f), `inkling_cpu: ${f}`);
  t.match((g.vars.get('inkling_cpu')?.get('OBJS') ?? []).join(' '), 'kernels_neon.o', 'the NEON table is compiled (empty on x86-64)');
});

t.test('the check catches the bug it guards against: mac settings only in target_defaults', { skip }, async (t) => {
  // What the issue describes: node's common.gypi sets GCC_ENABLE_CPP_EXCEPTIONS=NO and 10.15 in
  // its own target_defaults conditions, which win over plain target_defaults settings. Without our
  // target_conditions, the flags above must come out wrong.
  const broken = gyp.replace(/"target_conditions": \[[\s\S]*?\n {4}\]\n/, '"xcode_settings": {"GCC_ENABLE_CPP_EXCEPTIONS": "YES", "MACOSX_DEPLOYMENT_TARGET": "13.0"}\n');
  t.not(broken, gyp, 'the planted change applied');
  const v = configure(broken, ['-f', 'make-mac', '-DOS=mac']).vars.get('inkling_cpu');
  t.ok((v?.get('CFLAGS_CC_Release') ?? []).includes('-fno-exceptions'), 'exceptions come out disabled');
  t.notOk((v?.get('CFLAGS_Release') ?? []).includes('-mmacosx-version-min=13.0'), 'the deployment target comes out wrong');
});
