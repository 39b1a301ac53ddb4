// A small C++ build driver for the emulator builds (the cuda-emu addon, the emulator's self-test,
// the sanitizer harnesses, the mutation builds): compile units in parallel with g++, cache objects
// by content, link.
//
// An object is reused when the compiler, its flags and the bytes of every file the unit included
// (from g++ -MMD, recorded on the previous compile) are unchanged, wherever the source tree lies:
// a mutation test that copies native/ to a temporary folder and changes one header recompiles only
// the units that include it, reading the unchanged objects from the tree's cache and writing new
// ones to its own folder (never into the tree).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';

/** The C++ compiler: CXX, else g++. */
export function compiler() {
  return process.env.CXX || 'g++';
}

/** `g++ --version`'s first line, or null when the compiler is missing. */
export function compilerVersion(cxx = compiler()) {
  const r = spawnSync(cxx, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n')[0] : null;
}

function hashOf(parts) {
  const h = createHash('sha256');
  for (const p of parts) h.update(String(p)).update('\0');
  return h.digest('hex').slice(0, 20);
}

function safeName(rel) {
  return rel.replace(/[^A-Za-z0-9._-]+/g, '_');
}

// Dependencies recorded by -MMD: paths as the compiler saw them (relative to `root` when inside it).
function parseDepfile(text) {
  const body = text.replace(/\\\n/g, ' ');
  const colon = body.indexOf(': ');
  return body.slice(colon + 2).split(/\s+/).filter(Boolean);
}

// A dependency inside the source tree is recorded relative to it (so a copy of the tree hashes its
// own files); anything else (system and node headers, node_modules) by its absolute path.
function depKey(root, dep) {
  const abs = isAbsolute(dep) ? dep : resolve(root, dep);
  const rel = relative(root, abs);
  return rel.startsWith('..') || rel.startsWith('node_modules') ? abs : rel;
}

function contentHash(root, deps, flagsKey) {
  const parts = [flagsKey];
  for (const d of deps) {
    const abs = isAbsolute(d) ? d : join(root, d);
    if (!existsSync(abs)) return null;  // a dependency vanished: recompile
    parts.push(d, createHash('sha256').update(readFileSync(abs)).digest('hex'));
  }
  return hashOf(parts);
}

function run(cmd, args, cwd) {
  return new Promise((resolvePromise) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', (err) => resolvePromise({ ok: false, out: `${out}${err.message}\n` }));
    child.on('close', (code) => resolvePromise({ ok: code === 0, out }));
  });
}

/**
 * Compiles `units` (paths relative to `root`; .cu files are compiled as C++) and links them.
 * @param {object} o
 * @param {string} o.root            source tree (compiles run there, so __FILE__ paths are relative)
 * @param {string[]} o.units
 * @param {string[]} o.flags         compile flags (includes, defines, -O, sanitizers...)
 * @param {string[]} [o.linkFlags]   e.g. ['-shared'] for an addon
 * @param {string} o.output          the linked file
 * @param {string} o.objDir          where new objects and dependency lists are written
 * @param {string[]} [o.readCaches]  further object folders to reuse objects from (read only)
 * @param {number} [o.jobs]          parallel compiles (default INKLING_BUILD_JOBS or 2)
 * @returns {Promise<{ ok: boolean, log: string, compiled: string[], reused: string[] }>}
 */
/** Numbers this process's compiles, for their temporary file names. */
let compileSeq = 0;

export async function compileAndLink(o) {
  const cxx = compiler();
  const version = compilerVersion(cxx);
  if (!version) return { ok: false, log: `${cxx} not found`, compiled: [], reused: [] };
  mkdirSync(o.objDir, { recursive: true });
  mkdirSync(dirname(o.output), { recursive: true });
  const flagsKey = hashOf([cxx, version, ...o.flags]);
  const caches = [o.objDir, ...(o.readCaches ?? [])];
  const jobs = Math.max(1, o.jobs ?? Number(process.env.INKLING_BUILD_JOBS || 2));
  const objects = [];
  const compiled = [];
  const reused = [];
  let log = '';
  let failed = false;

  const plan = o.units.map((unit) => {
    const base = `${safeName(unit)}.${flagsKey}`;
    for (const cache of caches) {
      const depsFile = join(cache, `${base}.deps.json`);
      if (!existsSync(depsFile)) continue;
      const deps = JSON.parse(readFileSync(depsFile, 'utf8'));
      const h = contentHash(o.root, deps, flagsKey);
      if (h && existsSync(join(cache, `${base}.${h}.o`))) return { unit, object: join(cache, `${base}.${h}.o`), reuse: true };
    }
    return { unit, base, reuse: false };
  });

  const queue = plan.filter((p) => !p.reuse);
  for (const p of plan) if (p.reuse) reused.push(p.unit);
  // Two programs built at once into one folder may compile the same unit together (the sanitizer
  // stage builds its harness and its planted bugs in parallel, both with the emulator's core):
  // each compile writes its own temporary object and dependency list, and the shared files are
  // replaced by rename. With fixed names, one compile once deleted the other's dependency list
  // before it was read (ENOENT, after a change to one core file).
  const worker = async () => {
    for (let p = queue.shift(); p && !failed; p = queue.shift()) {
      const own = `${process.pid}.${compileSeq++}`;
      const tmpObj = join(o.objDir, `${p.base}.${own}.tmp.o`);
      const depfile = join(o.objDir, `${p.base}.${own}.d`);
      const lang = p.unit.endsWith('.cu') ? ['-x', 'c++'] : [];
      const r = await run(cxx, [...o.flags, ...lang, '-MMD', '-MF', depfile, '-c', p.unit, '-o', tmpObj], o.root);
      if (r.out) log += `--- ${p.unit}\n${r.out}`;
      if (!r.ok) {
        failed = true;
        log += `${cxx} failed on ${p.unit}\n`;
        rmSync(tmpObj, { force: true });
        rmSync(depfile, { force: true });
        return;
      }
      const deps = [...new Set(parseDepfile(readFileSync(depfile, 'utf8')).map((d) => depKey(o.root, d)))];
      const depsTmp = join(o.objDir, `${p.base}.${own}.deps.json`);
      writeFileSync(depsTmp, JSON.stringify(deps));
      renameSync(depsTmp, join(o.objDir, `${p.base}.deps.json`));
      const h = contentHash(o.root, deps, flagsKey);
      p.object = join(o.objDir, `${p.base}.${h}.o`);
      // Older objects of this unit (other contents) in our own folder are stale: keep one per unit
      // (not another compile's temporary, nor the object about to be replaced by the rename, which
      // a parallel build may be linking).
      for (const f of readdirSync(o.objDir)) {
        if (f.startsWith(`${p.base}.`) && f.endsWith('.o') && !f.endsWith('.tmp.o') && f !== basename(p.object)) rmSync(join(o.objDir, f), { force: true });
      }
      renameSync(tmpObj, p.object);
      rmSync(depfile, { force: true });
      compiled.push(p.unit);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, Math.max(1, queue.length)) }, worker));
  if (failed) return { ok: false, log, compiled, reused };
  for (const p of plan) objects.push(p.object);
  const l = await run(cxx, [...(o.linkFlags ?? []), '-o', o.output, ...objects, '-pthread'], o.root);
  if (l.out) log += `--- link\n${l.out}`;
  return { ok: l.ok, log, compiled, reused };
}
