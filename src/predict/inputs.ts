// Expands `inkling predict`'s arguments into files: a FILE as is, a DIR walked recursively for
// image files (.png .jpg .jpeg .webp .gif), a GLOB (`*`, `?`, `**`, `[abc]`; quote it so the
// shell leaves it alone) matched under its literal prefix. Results are sorted within each
// argument and deduplicated; an argument that matches nothing is an error for that argument.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp', '.gif'];

export interface Expanded {
  files: string[];
  /** Arguments that matched nothing, with why. */
  missing: { arg: string; error: string }[];
}

const isImage = (p: string) => IMAGE_EXTENSIONS.some((e) => p.toLowerCase().endsWith(e));
const hasGlob = (s: string) => /[*?[]/.test(s);

function walk(dir: string, out: string[]): void {
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile() && isImage(e.name)) out.push(p);
  }
}

/** A glob as a RegExp over '/'-separated relative paths. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') {
        // `**/` matches zero or more folders; a trailing `**` anything
        if (glob[i + 2] === '/') {
          re += '(?:.*/)?';
          i += 2;
        } else {
          re += '.*';
          i++;
        }
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        re += `[${glob.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += /[.+^${}()|\\]/.test(c) ? `\\${c}` : c;
  }
  return new RegExp(`^${re}$`);
}

function expandGlob(arg: string, cwd: string): string[] {
  const parts = arg.split('/');
  const firstGlob = parts.findIndex(hasGlob);
  const base = resolve(cwd, parts.slice(0, firstGlob).join('/') || '.');
  if (!existsSync(base)) return [];
  const re = globToRegExp(parts.slice(firstGlob).join('/'));
  const all: string[] = [];
  walkAll(base, all);
  return all.filter((p) => re.test(relative(base, p).split(sep).join('/')));
}

function walkAll(dir: string, out: string[]): void {
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walkAll(p, out);
    else if (e.isFile()) out.push(p);
  }
}

export function expandInputs(args: string[], cwd = process.cwd()): Expanded {
  const seen = new Set<string>();
  const files: string[] = [];
  const missing: Expanded['missing'] = [];
  const add = (p: string, shown: string) => {
    if (!seen.has(p)) {
      seen.add(p);
      files.push(shown);
    }
  };
  for (const arg of args) {
    const abs = resolve(cwd, arg);
    if (existsSync(abs)) {
      if (statSync(abs).isDirectory()) {
        const found: string[] = [];
        walk(abs, found);
        if (found.length === 0) missing.push({ arg, error: `no image files (${IMAGE_EXTENSIONS.join(' ')}) in the folder` });
        for (const f of found) add(f, join(arg, relative(abs, f)));
      } else add(abs, arg);
    } else if (hasGlob(arg)) {
      const found = expandGlob(arg, cwd);
      if (found.length === 0) missing.push({ arg, error: 'the pattern matches no file' });
      for (const f of found) add(f, relative(cwd, f) || f);
    } else {
      missing.push({ arg, error: 'no such file or folder' });
    }
  }
  return { files, missing };
}
