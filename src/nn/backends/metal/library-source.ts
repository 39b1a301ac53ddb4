// The Metal kernel library as one source string for -[MTLDevice newLibraryWithSource:options:
// error:], which compiles a single string and cannot open files: every .metal file of
// native/metal/, with its local #includes ("common.h", "gemm_tile.h", "args.h") inlined once (they
// use #pragma once) and #line directives so that compiler messages name the real file and line.
// <metal_stdlib> and other system headers stay #includes.

import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const metalSourceDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'native', 'metal');

/** The kernel files, one per family (as native/cuda's .cu files), in library order. */
export const metalKernelFiles = [
  'elementwise.metal', 'dropout.metal', 'reduce.metal', 'batchnorm.metal', 'pool.metal', 'softmax.metal', 'optim.metal',
  'gemm.metal', 'conv.metal',
] as const;

const includeLine = /^\s*#\s*include\s+"([^"]+)"\s*$/;

function inline(file: string, dir: string, seen: Set<string>, out: string[]): void {
  const path = join(dir, file);
  if (seen.has(path)) return;
  seen.add(path);
  const lines = readFileSync(path, 'utf8').split('\n');
  out.push(`#line 1 "${file}"`);
  lines.forEach((line, i) => {
    const inc = includeLine.exec(line);
    if (inc) {
      inline(inc[1], dir, seen, out);
      out.push(`#line ${i + 2} "${file}"`);
    } else if (/^\s*#\s*pragma\s+once\s*$/.test(line)) {
      out.push('');  // keeps the line count; the `seen` set does its job
    } else {
      out.push(line);
    }
  });
}

/** Every kernel file with its includes inlined, ready for newLibraryWithSource. */
export function metalLibrarySource(dir = metalSourceDir): string {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const file of metalKernelFiles) inline(file, dir, seen, out);
  return `${out.join('\n')}\n`;
}
