#!/usr/bin/env node
// Builds the native backends at `npm install` (and `npm run build:cpu` / `build:cuda`).
// - cpu (and, on macOS, metal): native/cpu and native/metal through binding.gyp and node-gyp
//   (npm's bundled copy). A failed build does not fail the install: inkling then says so at run
//   time and `ref` still works.
// - cuda: native/cuda through CMakeLists.txt and cmake-js, only when nvcc is found.
// - cuda-emu: the same CUDA sources compiled with g++ against the SIMT emulator (native/emu,
//   scripts/cuda-emu/build.mjs). A failure prints one line and does not fail the install; CI sets
//   INKLING_REQUIRE_CUDA_EMU=1, which makes it fail.
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isCurrent as isCurrentIn, sourceHash as sourceHashIn } from './native-stamp.mjs';
import { findOnPath, nodeGypCommand } from './lib/tools.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const want = new Set(process.argv.slice(2).map((a) => a.replace(/^--/, '')));
const all = want.size === 0;
let failed = false;

// `npm install` (no arguments) skips a backend whose built addon is current: a stamp next to it
// holds a hash of its sources, the build files, this Node's ABI and the platform. So `npx inkling`
// inside a checkout (npm then installs the checkout as a file: dependency and runs this script
// IN the checkout) never rebuilds, and never deletes, the addon a test run is using.
// `npm run build:cpu` / `build:cuda` always rebuild.
const sourceHash = (paths) => sourceHashIn(root, paths);
const isCurrent = (addon, stamp, hash) => isCurrentIn(root, addon, stamp, hash);

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: process.env });
  return r.status === 0;
}

// binding.gyp also holds the Metal addon on macOS (native/metal): node-gyp builds both. If that
// fails there, the cpu addon is built alone, so a Metal problem never costs the cpu backend.
const CPU_ADDON = 'build/Release/inkling_cpu.node';
const CPU_STAMP = 'build/Release/inkling_cpu.sources-sha256';
const cpuHash = sourceHash(['binding.gyp', 'native/cpu', 'native/metal']);
if (all && isCurrent(CPU_ADDON, CPU_STAMP, cpuHash)) {
  console.log(`inkling: cpu backend is current (${CPU_ADDON}), not rebuilt; \`npm run build:cpu\` forces a build`);
} else if ((all || want.has('cpu')) && existsSync(join(root, 'binding.gyp'))) {
  const [gyp, gypArgs] = nodeGypCommand();
  let ok = run(gyp, [...gypArgs, 'rebuild']);
  if (!ok && process.platform === 'darwin') {
    console.error('inkling: building the addons failed; building the cpu addon alone (the Metal backend stays unavailable).');
    ok = run(gyp, [...gypArgs, 'build', 'inkling_cpu']);
  }
  if (ok) {
    writeFileSync(join(root, CPU_STAMP), `${cpuHash}\n`);
    console.log('inkling: cpu backend built (build/Release/inkling_cpu.node)');
  } else {
    console.error('inkling: the cpu backend failed to build; inkling falls back to the ref backend. ' +
      'Fix: install a C++17 compiler, make and python3, then run `npm run build:cpu`.');
    if (!all) failed = true;
  }
  if (process.platform === 'darwin') {
    console.log(existsSync(join(root, 'build', 'Release', 'inkling_metal.node'))
      ? 'inkling: metal backend built (build/Release/inkling_metal.node)'
      : 'inkling: the metal backend was not built; see the compiler output above (native/metal/README.md).');
  }
}

// cmake-js downloads the node headers unless told where they are; CI and the GPU machines have no
// network, so point it (npm_config_nodedir) at this node's own headers when they are installed.
// Parallel jobs: INKLING_BUILD_JOBS, default 2 (nvcc is memory- and CPU-hungry).
function runCmakeJs() {
  const env = { ...process.env };
  const prefix = dirname(dirname(process.execPath));
  if (!env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) env.npm_config_nodedir = prefix;
  const jobs = process.env.INKLING_BUILD_JOBS ?? '2';
  const r = spawnSync('npx', ['cmake-js', 'compile', '--out', 'build-cuda', '--parallel', jobs], { cwd: root, stdio: 'inherit', env });
  return r.status === 0;
}

const CUDA_ADDON = 'build-cuda/Release/inkling_cuda.node';
const CUDA_STAMP = 'build-cuda/Release/inkling_cuda.sources-sha256';
const cudaHash = sourceHash(['CMakeLists.txt', 'native/cuda']);
if (all && isCurrent(CUDA_ADDON, CUDA_STAMP, cudaHash)) {
  console.log(`inkling: cuda backend is current (${CUDA_ADDON}), not rebuilt; \`npm run build:cuda\` forces a build`);
} else if ((all || want.has('cuda')) && existsSync(join(root, 'CMakeLists.txt'))) {
  const nvcc = findOnPath('nvcc');
  if (!nvcc) {
    console.log('inkling: nvcc not found, skipping the cuda backend (install the CUDA toolkit and run `npm run build:cuda`).');
    if (!all) failed = true;
  } else if (runCmakeJs()) {
    writeFileSync(join(root, CUDA_STAMP), `${cudaHash}\n`);
    console.log('inkling: cuda backend built (build-cuda/Release/inkling_cuda.node)');
  } else {
    console.error('inkling: the cuda backend failed to build; see the compiler output above.');
    if (!all) failed = true;
  }
}

// The emulator's sources are not everywhere the package is installed (the container image leaves
// them out): a plain install skips it then; `npm run build:cuda-emu` still says what is missing.
if (want.has('cuda-emu') || (all && existsSync(join(root, 'scripts', 'cuda-emu', 'build.mjs')) && existsSync(join(root, 'native', 'emu')))) {
  const required = process.env.INKLING_REQUIRE_CUDA_EMU === '1';
  const ok = run(process.execPath, [join(root, 'scripts', 'cuda-emu', 'build.mjs'), ...(all ? ['--quiet'] : [])]);
  if (!ok && (required || !all)) failed = true;
}

process.exit(failed ? 1 : 0);
