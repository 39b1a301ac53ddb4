// Whether a built native addon is current: a stamp file next to it holds a SHA-256 over its
// sources, its build files, this Node's ABI and the platform (scripts/build-native.mjs).
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export function sourceHash(root, paths) {
  const h = createHash('sha256');
  h.update(`${process.versions.modules} ${process.platform} ${process.arch}\n`);
  const walk = (p) => {
    if (!existsSync(p)) return;
    if (statSync(p).isDirectory()) for (const e of readdirSync(p).sort()) walk(join(p, e));
    else h.update(`${p.slice(root.length)}\n`).update(readFileSync(p));
  };
  for (const p of paths) walk(join(root, p));
  return h.digest('hex');
}

export function isCurrent(root, addon, stamp, hash) {
  return existsSync(join(root, addon)) && existsSync(join(root, stamp)) && readFileSync(join(root, stamp), 'utf8').trim() === hash;
}
