#!/usr/bin/env node
// Builds the emulator targets of native/emu with g++ (no nvcc, no GPU):
//   node scripts/cuda-emu/build.mjs [--quiet]  the cuda-emu addon: build-cuda-emu/Release/inkling_cuda_emu.node
//                                              (native/cuda's kernels and addon compiled as C++ against the
//                                              SIMT emulator; `npm install` runs this, `npm run build:cuda-emu`)
// The functions below also build the emulator's self-test, the sanitizer harnesses and the mutation
// builds (test/cuda-emu/), all from the same unit lists, so they compile exactly what the addon runs.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileAndLink, compiler, compilerVersion } from './compile.mjs';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const emuBuildDir = join(repoRoot, 'build-cuda-emu');

const list = (root, dir, ext) =>
  readdirSync(join(root, dir)).filter((f) => f.endsWith(ext)).sort().map((f) => `${dir}/${f}`);

/** Translation units, relative to the source tree `root`. */
export function emuUnits(root = repoRoot) {
  return {
    /** The real kernel sources (native/cuda/*.cu), compiled as C++. */
    kernels: list(root, 'native/cuda', '.cu'),
    /** The real host side without N-API: Context and the caching allocator. */
    host: ['native/cuda/addon/context.cpp', 'native/cuda/addon/device_allocator.cpp'],
    /** The N-API surface. */
    napi: ['native/cuda/addon/addon.cpp'],
    /** The emulator: the SIMT core and the CUDA runtime. */
    emulator: [...list(root, 'native/emu/core', '.cc'), ...list(root, 'native/emu/cuda', '.cc')],
  };
}

function nodeIncludeDir() {
  const own = join(dirname(dirname(process.execPath)), 'include', 'node');
  if (existsSync(join(own, 'node_api.h'))) return own;
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('node-api-headers/package.json')), 'include');
}

function napiIncludeDir() {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('node-addon-api/package.json'));
}

// fmaf() and FMA contraction (what nvcc does by default) need the FMA instructions on x86-64;
// without them g++ calls libm's software fmaf for every multiply-add of the GEMM.
function archFlags() {
  if (process.arch !== 'x64') return [];
  try {
    const flags = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1].split(/\s+/) ?? [];
    return flags.includes('fma') && flags.includes('avx2') ? ['-mavx2', '-mfma'] : [];
  } catch {
    return [];
  }
}

export const sanitizerFlags = {
  none: { compile: ['-O2'], link: [] },
  // -O0 and line tables only: a third of -O1 -g's compile time, and tiny shapes run fast anyway.
  address: { compile: ['-O0', '-g1', '-fno-omit-frame-pointer', '-fsanitize=address,undefined', '-fno-sanitize-recover=undefined'], link: ['-fsanitize=address,undefined'] },
  thread: { compile: ['-O1', '-g1', '-fsanitize=thread'], link: ['-fsanitize=thread'] },
};

/** Compile flags (the emulator's <cuda_runtime.h> first on the include path). */
export function emuFlags({ sanitize = 'none', napi = false, extra = [] } = {}) {
  const flags = [
    '-std=c++20', '-fPIC', '-fexceptions', '-pthread', '-Wall', '-Wno-unused-function', '-Wno-unknown-pragmas', '-Wno-sign-compare',
    ...sanitizerFlags[sanitize].compile, ...archFlags(),
    // Relative (compiles run in `root`): the same flags for every copy of the tree, so a mutation
    // build in a temporary folder reuses the tree's objects for the units it did not change.
    '-Inative/emu/cuda/include', '-Inative/cuda',
    '-DINKLING_CUDA_ARCHS="emulated sm_90"',
    ...extra,
  ];
  if (napi) {
    flags.push(`-I${nodeIncludeDir()}`, `-I${napiIncludeDir()}`, '-DNAPI_VERSION=8', '-DNODE_ADDON_API_CPP_EXCEPTIONS',
      '-DNODE_ADDON_API_CPP_EXCEPTIONS_ALL', '-DNODE_ADDON_API_DISABLE_DEPRECATED');
  }
  return flags;
}

/**
 * The cuda-emu addon from the sources under `root`.
 * @returns {Promise<{ ok: boolean, output: string, log: string, compiled: string[], reused: string[] }>}
 */
export async function buildCudaEmuAddon({ root = repoRoot, outDir = emuBuildDir, readCaches = [], jobs } = {}) {
  const u = emuUnits(root);
  const output = join(outDir, 'Release', 'inkling_cuda_emu.node');
  const r = await compileAndLink({
    root, units: [...u.kernels, ...u.host, ...u.napi, ...u.emulator], flags: emuFlags({ napi: true }),
    linkFlags: ['-shared'], output, objDir: join(outDir, 'obj'), readCaches, jobs,
  });
  return { ...r, output };
}

/**
 * A standalone program: `units` (e.g. a test driver) plus the kernels, host side and emulator.
 * @param {{ root?: string, name: string, units: string[], withKernels?: boolean, sanitize?: 'none'|'address'|'thread', outDir: string, readCaches?: string[], jobs?: number }} o
 */
export async function buildEmuProgram(o) {
  const root = o.root ?? repoRoot;
  const u = emuUnits(root);
  const sanitize = o.sanitize ?? 'none';
  const output = join(o.outDir, o.name);
  const units = [...o.units, ...(o.withKernels === false ? [] : [...u.kernels, ...u.host]), ...u.emulator];
  const r = await compileAndLink({
    root, units, flags: emuFlags({ sanitize }), linkFlags: sanitizerFlags[sanitize].link, output,
    objDir: join(o.outDir, `obj-${sanitize}`), readCaches: o.readCaches, jobs: o.jobs,
  });
  return { ...r, output };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const version = compilerVersion();
  if (!version) {
    console.log(`inkling: ${compiler()} not found, skipping the cuda-emu backend (install g++ 12 or newer and run \`npm run build:cuda-emu\`).`);
    process.exit(1);
  }
  const started = Date.now();
  const r = await buildCudaEmuAddon();
  if (r.ok) {
    console.log(`inkling: cuda-emu backend built (${r.output}; ${r.compiled.length} compiled, ${r.reused.length} reused, ${((Date.now() - started) / 1000).toFixed(0)} s)`);
    process.exit(0);
  }
  const logFile = join(emuBuildDir, 'build.log');
  mkdirSync(emuBuildDir, { recursive: true });
  writeFileSync(logFile, r.log);
  if (!process.argv.includes('--quiet')) process.stderr.write(r.log);
  console.error(`inkling: the cuda-emu backend (the CUDA kernels on the SIMT emulator) failed to build with ${version}; the compiler output is in ${logFile}.`);
  process.exit(1);
}
