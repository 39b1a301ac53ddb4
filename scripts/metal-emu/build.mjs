#!/usr/bin/env node
// Builds the metal-emu addon: the real native/metal/*.metal kernels, run through the pre-pass
// (prepass.mjs) and compiled by g++ as C++ under the MSL shim (native/emu/metal/msl.h), linked with
// the SIMT core (native/emu/core/), the emulator's dispatcher (native/emu/metal/emu_device.cc) and
// the host code a Mac runs too (native/metal/host/: launchers and N-API surface).
//   node scripts/metal-emu/build.mjs [--sanitize=thread|address] [--out DIR] [--quiet]
// → build-metal-emu/Release/inkling_metal_emu.node (or DIR). Objects are cached by the content of
// their source, every header and the flags, so a rebuild compiles only what changed. g++ 12+.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { prepass } from './prepass.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const arg = (name) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const sanitize = arg('sanitize') ?? 'none';
const outDir = arg('out') ?? join(root, sanitize === 'none' ? 'build-metal-emu' : `build-metal-emu-${sanitize}`);
const quiet = process.argv.includes('--quiet');
const jobs = Number(process.env.INKLING_BUILD_JOBS ?? 2);

const SANITIZE = {
  none: { compile: ['-O2'], link: [] },
  address: { compile: ['-O1', '-g', '-fno-omit-frame-pointer', '-fsanitize=address,undefined'], link: ['-fsanitize=address,undefined'] },
  thread: { compile: ['-O1', '-g', '-fsanitize=thread'], link: ['-fsanitize=thread'] },
};
if (!SANITIZE[sanitize]) throw new Error(`--sanitize must be thread or address, not ${sanitize}`);

function nodeIncludeDir() {
  const prefix = dirname(dirname(process.execPath));
  const dir = join(prefix, 'include', 'node');
  if (!existsSync(join(dir, 'node_api.h'))) throw new Error(`no Node headers in ${dir} (install Node with its headers)`);
  return dir;
}

/** Builds the addon. The mutation tests pass a mutated copy of native/metal (metalDir), their own
 *  output folder and the main build's object cache (objDir), so only mutated units compile. */
export async function buildMetalEmu({ metalDir = join(root, 'native', 'metal'), out = outDir, objDir = join(out, 'obj'), log = quiet ? () => {} : console.log } = {}) {
  const gen = join(out, 'gen');
  mkdirSync(gen, { recursive: true });
  mkdirSync(objDir, { recursive: true });
  // 1. the pre-pass, over every .metal and .h of the Metal folder (headers hold threadgroup parameters too)
  const kernelFiles = [];
  for (const f of readdirSync(metalDir).filter((f) => /\.(metal|h)$/.test(f)).sort()) {
    const shown = relative(root, join(metalDir, f)) || f;
    const { code } = prepass(readFileSync(join(metalDir, f), 'utf8'), shown.startsWith('..') ? join(metalDir, f) : shown);
    const dst = join(gen, f);
    if (!existsSync(dst) || readFileSync(dst, 'utf8') !== code) writeFileSync(dst, code);
    if (f.endsWith('.metal')) kernelFiles.push(dst);
  }
  // 2. compile
  const napi = createRequire(join(root, 'package.json'))('node-addon-api').include_dir.replace(/^"|"$/g, '');
  const common = ['-std=c++20', '-fPIC', '-fexceptions', '-pthread', '-Wall', '-Wno-unused-function', ...SANITIZE[sanitize].compile];
  const hostDefs = ['-DNAPI_VERSION=8', '-DNAPI_CPP_EXCEPTIONS', `-I${nodeIncludeDir()}`, `-I${join(root, napi)}`];
  const units = [
    ...kernelFiles.map((f) => ({ src: f, flags: ['-x', 'c++', `-I${join(root, 'native', 'emu', 'metal', 'include')}`, `-I${gen}`] })),
    ...readdirSync(join(root, 'native', 'emu', 'core')).filter((f) => f.endsWith('.cc')).sort()
      .map((f) => ({ src: join(root, 'native', 'emu', 'core', f), flags: [] })),
    { src: join(root, 'native', 'emu', 'metal', 'emu_device.cc'), flags: [] },
    { src: join(root, 'native', 'emu', 'metal', 'msl_registry.cc'), flags: [] },
    { src: join(metalDir, 'host', 'launch.cc'), flags: [] },
    { src: join(metalDir, 'host', 'addon_surface.cc'), flags: hostDefs },
  ];
  // Cache key of a unit: its source, the local headers it includes (transitively), the shim and core
  // headers, and the flags. A mutated kernel header rebuilds only the kernels that include it.
  const shimDirs = [join(root, 'native', 'emu', 'core'), join(root, 'native', 'emu', 'metal'), join(root, 'native', 'emu', 'metal', 'include'), join(metalDir, 'host')];
  const shimHash = createHash('sha256');
  for (const d of shimDirs) for (const f of readdirSync(d).filter((f) => /\.h$|^metal_stdlib$/.test(f)).sort()) shimHash.update(readFileSync(join(d, f)));
  const shimDigest = shimHash.digest('hex');
  const localIncludes = (file, seen = new Set()) => {
    for (const m of readFileSync(file, 'utf8').matchAll(/^\s*#\s*include\s+"([^"]+)"/gm)) {
      const dep = join(dirname(file), m[1]);
      if (!seen.has(dep) && existsSync(dep)) {
        seen.add(dep);
        localIncludes(dep, seen);
      }
    }
    return seen;
  };
  const objects = [];
  const work = [];
  for (const u of units) {
    const flags = [...common, ...u.flags];
    const hash = createHash('sha256').update(readFileSync(u.src)).update(shimDigest).update(flags.join(' '));
    for (const dep of [...localIncludes(u.src)].sort()) hash.update(readFileSync(dep));
    const key = hash.digest('hex').slice(0, 16);
    const o = join(objDir, `${u.src.split('/').pop()}.${key}.o`);
    objects.push(o);
    if (!existsSync(o)) work.push({ args: [...flags, '-c', u.src, '-o', `${o}.tmp`], o, name: relative(root, u.src) });
  }
  const t0 = Date.now();
  await runPool(work, jobs, log);
  // 3. link
  const output = join(out, 'Release', 'inkling_metal_emu.node');
  mkdirSync(dirname(output), { recursive: true });
  if (work.length || !existsSync(output)) {
    await gxx(['-shared', '-pthread', ...SANITIZE[sanitize].link, ...objects, '-o', `${output}.tmp`], 'link');
    renameSync(`${output}.tmp`, output);
  }
  log(`metal-emu: ${work.length} of ${units.length} units compiled in ${((Date.now() - t0) / 1000).toFixed(1)} s → ${relative(root, output)}`);
  return output;
}

function gxx(args, name) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.env.CXX || 'g++', args, { stdio: ['ignore', 'inherit', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => (code === 0 ? resolve(err) : reject(new Error(`g++ failed on ${name}:\n${err}`))));
    p.on('error', reject);
  });
}

async function runPool(work, n, log) {
  let next = 0;
  const worker = async () => {
    while (next < work.length) {
      const w = work[next++];
      const warnings = await gxx(w.args, w.name);
      if (warnings.trim()) log(warnings.trim());
      renameSync(`${w.o}.tmp`, w.o);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, n) }, worker));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  buildMetalEmu().catch((err) => {
    console.error(`metal-emu build failed: ${err.message}`);
    process.exit(1);
  });
}
