// WGSL sources live in ./kernels, one file per kernel family. A kernel variant is the family's
// text, specialised by `defines`:
//   - every define becomes a WGSL constant (`const TRANS_A: bool = true;`, `const OP: u32 = 3u;`)
//     so ordinary `if (TRANS_A)` branches fold away in the compiler;
//   - booleans also drive `#if NAME` / `#if !NAME` / `#else` / `#endif` lines, for code that cannot
//     exist in every variant (a binding that only some variants have, vec4 views of a buffer).
// `#default NAME value` gives a define's value when a variant does not set it.
// `#include file.wgsl` pastes another kernel file (the tiled GEMM core is shared by matmul and
// the three convolutions). Compiled pipelines are cached per device by the variant key
// ("matmul:main:A_VEC4=1,TRANS_B=1"), like tfjs-backend-webgpu's shaderKey.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export type Defines = Record<string, boolean | number>;

const KERNEL_DIR = join(dirname(fileURLToPath(import.meta.url)), 'kernels');
const sourceCache = new Map<string, string>();

function readKernel(file: string): string {
  let text = sourceCache.get(file);
  if (text === undefined) {
    text = readFileSync(join(KERNEL_DIR, file), 'utf8');
    sourceCache.set(file, text);
  }
  return text;
}

/** Resolves #include and #if/#else/#endif; exported for tests. */
export function preprocess(source: string, defines: Defines, file = '<source>'): string {
  const out: string[] = [];
  // Each entry: is this branch active, and was the enclosing block active?
  const stack: { active: boolean; parentActive: boolean }[] = [];
  const active = () => stack.length === 0 || stack[stack.length - 1].active;
  const lines = source.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const trimmed = line.trim();
    let m: RegExpExecArray | null;
    if ((m = /^#if\s+(!?)([A-Za-z_][A-Za-z0-9_]*)\s*$/.exec(trimmed))) {
      const value = Boolean(defines[m[2]]);
      const cond = m[1] === '!' ? !value : value;
      const parentActive = active();
      stack.push({ active: parentActive && cond, parentActive });
    } else if (trimmed === '#else') {
      const top = stack[stack.length - 1];
      if (!top) throw new Error(`${file}:${i + 1}: #else without #if`);
      top.active = top.parentActive && !top.active;
    } else if (trimmed === '#endif') {
      if (!stack.pop()) throw new Error(`${file}:${i + 1}: #endif without #if`);
    } else if (/^#default\s/.test(trimmed)) {
      out.push('');
    } else if ((m = /^#include\s+(\S+)\s*$/.exec(trimmed))) {
      if (active()) out.push(preprocess(readKernel(m[1]), defines, m[1]));
    } else if (trimmed.startsWith('#')) {
      throw new Error(`${file}:${i + 1}: unknown directive ${trimmed}`);
    } else {
      out.push(active() ? line : '');
    }
  }
  if (stack.length) throw new Error(`${file}: unterminated #if`);
  return out.join('\n');
}

function constDecls(defines: Defines): string {
  const lines: string[] = [];
  for (const [name, value] of Object.entries(defines)) {
    if (typeof value === 'boolean') lines.push(`const ${name}: bool = ${value};`);
    else if (Number.isInteger(value) && value >= 0) lines.push(`const ${name}: u32 = ${value}u;`);
    else lines.push(`const ${name}: f32 = ${value};`);
  }
  return lines.join('\n');
}

export function variantKey(file: string, entry: string, defines: Defines): string {
  const parts = Object.keys(defines)
    .sort()
    .map((k) => `${k}=${typeof defines[k] === 'boolean' ? (defines[k] ? 1 : 0) : defines[k]}`);
  return `${file}:${entry}:${parts.join(',')}`;
}

/** `#default NAME value` lines of a file and the files it includes. */
function fileDefaults(file: string, into: Defines = {}): Defines {
  for (const line of readKernel(file).split('\n')) {
    const t = line.trim();
    let m: RegExpExecArray | null;
    if ((m = /^#default\s+([A-Za-z_][A-Za-z0-9_]*)\s+(\S+)\s*$/.exec(t))) {
      const v = m[2];
      if (!(m[1] in into)) into[m[1]] = v === 'true' ? true : v === 'false' ? false : Number(v);
    } else if ((m = /^#include\s+(\S+)\s*$/.exec(t))) {
      fileDefaults(m[1], into);
    }
  }
  return into;
}

export function shaderSource(file: string, defines: Defines): string {
  const all = { ...fileDefaults(file), ...defines };
  return `${constDecls(all)}\n${preprocess(readKernel(file), all, file)}`;
}

export interface PipelineStats {
  compiled: number;
  compileMs: number;
}

/** Compiled pipelines of one device, by variant key. */
export class PipelineCache {
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  readonly stats: PipelineStats = { compiled: 0, compileMs: 0 };

  constructor(private readonly device: GPUDevice) {}

  get(file: string, entry: string, defines: Defines): GPUComputePipeline {
    const key = variantKey(file, entry, defines);
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      const t0 = performance.now();
      const code = shaderSource(file, defines);
      const module = this.device.createShaderModule({ code, label: key });
      // Synchronous on purpose: kernels only enqueue, so they cannot await a compile.
      pipeline = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: entry }, label: key });
      this.pipelines.set(key, pipeline);
      this.stats.compiled++;
      this.stats.compileMs += performance.now() - t0;
    }
    return pipeline;
  }
}
