#!/usr/bin/env node
// The layering check (run by test/scripts/check-layers.test.ts in `npm test`): reads every
// TypeScript import of the tree (static `import`/`export … from`, `import type`, dynamic
// `import('…')` with a literal path) and fails when
//   1. a library module (src/nn, src/preprocess, src/server, src/model, src/predict) reaches
//      training/, bench/, test/ or spec/ (the conformance table), directly or through other
//      imports: only the CLI (src/cli), the top layer, drives training; benchmarks, tests and the
//      table they share sit on top of the library, never under it;
//   2. the shared case table (spec/) imports a test or a benchmark;
//   3. modules of different folders import each other in a cycle (a strongly connected component
//      of the file graph that spans more than one folder).
// Usage: node scripts/check-layers.mjs [root]   (default: the repository). Prints each violation
// with the imports that make it; exit 1 when there is any not in KNOWN below.
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
const SCANNED = ['src', 'spec', 'training', 'bench', 'test', 'scripts'];
// The library: what the service is built from. src/cli (the top layer) and src/feedback (the body of
// `inkling feedback export`, imported by the CLI only) may use training/; the check follows
// imports transitively, so a library module that imports them would still be caught.
const LIBRARY = ['src/nn/', 'src/preprocess/', 'src/server/', 'src/model/', 'src/predict/', 'src/paths.ts'];
const ABOVE_LIBRARY = ['training/', 'bench/', 'test/', 'spec/'];

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (/\.(ts|mts|mjs)$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

const IMPORT = /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Imports of one file as repository paths (relative specifiers only; packages are not layers). */
function importsOf(file) {
  // Comment lines go (an import quoted in a comment is not an edge); block comments are not
  // stripped as a whole, because a glob in a line comment (native/*.metal) would open one.
  const text = readFileSync(file, 'utf8').split('\n').filter((line) => !/^\s*(\/\/|\/?\*)/.test(line)).join('\n');
  const out = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2];
    if (!spec.startsWith('.')) continue;
    const target = resolve(dirname(file), spec);
    if (existsSync(target) && statSync(target).isFile()) out.push(target);
  }
  return out;
}

const rel = (p) => relative(root, p).split(sep).join('/');
const files = SCANNED.filter((d) => existsSync(join(root, d))).flatMap((d) => walk(join(root, d), []));
const graph = new Map(files.map((f) => [rel(f), importsOf(f).map(rel)]));
const violations = [];

// 1. library modules never reach what sits above them (breadth-first, so the chain is a shortest).
const above = (f) => ABOVE_LIBRARY.some((a) => f.startsWith(a));
for (const from of graph.keys()) {
  if (!LIBRARY.some((l) => from.startsWith(l))) continue;
  const via = new Map([[from, null]]);
  const queue = [from];
  while (queue.length) {
    const f = queue.shift();
    for (const to of graph.get(f) ?? []) {
      if (via.has(to)) continue;
      via.set(to, f);
      if (above(to)) {
        if (f !== from) continue; // reported from the library module that imports it directly, or below
        violations.push(`layer: ${from} imports ${to} (the library must not depend on ${to.split('/')[0]}/)`);
      } else queue.push(to);
    }
  }
  for (const [to, prev] of via) {
    if (!above(to) || prev === from || LIBRARY.some((l) => prev.startsWith(l))) continue;
    const chain = [to];
    for (let f = prev; f !== null; f = via.get(f)) chain.unshift(f);
    violations.push(`layer: ${chain.join(' → ')} (the library must not depend on ${to.split('/')[0]}/)`);
  }
}

// 2. the table that tests and benchmarks share depends on neither.
for (const [from, tos] of graph) {
  if (!from.startsWith('spec/')) continue;
  for (const to of tos) if (to.startsWith('test/') || to.startsWith('bench/')) violations.push(`layer: ${from} imports ${to} (spec/ is shared by tests and benchmarks)`);
}

// 3. cycles across folders: Tarjan's strongly connected components.
let index = 0;
const idx = new Map();
const low = new Map();
const stack = [];
const onStack = new Set();
const components = [];
function connect(v) {
  idx.set(v, index);
  low.set(v, index++);
  stack.push(v);
  onStack.add(v);
  for (const w of graph.get(v) ?? []) {
    if (!graph.has(w)) continue;
    if (!idx.has(w)) {
      connect(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
  }
  if (low.get(v) === idx.get(v)) {
    const c = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      c.push(w);
    } while (w !== v);
    components.push(c);
  }
}
for (const v of graph.keys()) if (!idx.has(v)) connect(v);
for (const c of components) {
  const folders = new Set(c.map((f) => f.slice(0, f.lastIndexOf('/'))));
  if (folders.size < 2) continue;
  const members = new Set(c);
  const edges = c.flatMap((f) => graph.get(f).filter((t) => members.has(t) && t.slice(0, t.lastIndexOf('/')) !== f.slice(0, f.lastIndexOf('/'))).map((t) => `${f} → ${t}`));
  violations.push(`cycle across folders ${[...folders].sort().join(', ')}:\n    ${edges.sort().join('\n    ')}`);
}

// Known violations, each with its reason; one that no longer occurs must leave this list (so that
// it cannot hide a new one). They apply to this repository only, not to a tree given as argument.
const KNOWN = new Map(process.argv[2] ? [] : [
  // (none)
]);
const seen = new Set();
let failures = 0;
for (const v of violations) {
  const key = [...KNOWN.keys()].find((k) => v.startsWith(k));
  if (key) {
    seen.add(key);
    console.log(`known (${KNOWN.get(key)}): ${v}`);
  } else {
    failures++;
    console.log(v);
  }
}
for (const key of KNOWN.keys()) {
  if (!seen.has(key)) {
    failures++;
    console.log(`stale entry in KNOWN (no longer occurs, remove it): ${key}`);
  }
}
console.log(`check-layers: ${graph.size} files, ${[...graph.values()].reduce((n, e) => n + e.length, 0)} imports, ${failures} violation${failures === 1 ? '' : 's'}${seen.size ? ` (${seen.size} known)` : ''}`);
process.exit(failures ? 1 : 0);
