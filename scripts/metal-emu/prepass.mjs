// The line-preserving pre-pass that lets g++ compile Metal Shading Language as C++ (metal-emu):
// what macros cannot do, because it depends on where a token stands. For one .metal or .h file:
//   - `threadgroup` in a function body or at namespace scope → `INKLING_EMU_GROUP_SHARED` (a
//     static in the core's poisoned group-shared section); inside parentheses (a parameter list, a
//     cast) it vanishes: a threadgroup pointer is an ordinary pointer in the emulator;
//   - in a `kernel` function's parameter list, `[[buffer(n)]]` vanishes and a built-in input such
//     as `[[thread_position_in_grid]]` becomes `= ::msl_emu::builtin(::msl_emu::Builtin::…)`, a
//     default argument evaluated per thread (built-ins must therefore be the last parameters);
//   - after the file, one msl_emu::KernelRegistration per kernel, which calls it with its buffers:
//     the dispatcher (native/emu/metal/emu_device.cc) finds kernels by name, as Metal does.
// Comments, strings and line breaks are kept, so the compiler's line numbers are the source's;
// `#line 1 "<path>"` on top keeps its file name. Exported for the build and for the tests.
import { readFileSync, writeFileSync } from 'node:fs';

const BUILTINS = {
  thread_position_in_grid: 'ThreadPositionInGrid',
  thread_position_in_threadgroup: 'ThreadPositionInThreadgroup',
  thread_index_in_threadgroup: 'ThreadIndexInThreadgroup',
  threadgroup_position_in_grid: 'ThreadgroupPositionInGrid',
  threads_per_threadgroup: 'ThreadsPerThreadgroup',
  threadgroups_per_grid: 'ThreadgroupsPerGrid',
  threads_per_grid: 'ThreadsPerGrid',
  simdgroup_index_in_threadgroup: 'SimdgroupIndexInThreadgroup',
  thread_index_in_simdgroup: 'ThreadIndexInSimdgroup',
  threads_per_simdgroup: 'ThreadsPerSimdgroup',
};

/** Splits `text` at top-level commas (not inside (), [], <>, {}). */
function splitParams(text) {
  const out = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if ('([<{'.includes(c)) depth++;
    else if (')]>}'.includes(c)) depth--;
    else if (c === ',' && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

/** Rewrites one kernel parameter; returns { text, buffer: {index, type} | null }. */
function rewriteParam(param, kernelName) {
  const attr = /\[\[\s*([a-z_]+)\s*(?:\(\s*(\d+)\s*\))?\s*\]\]/.exec(param);
  if (!attr) throw new Error(`kernel ${kernelName}: parameter "${param.trim()}" has no [[attribute]]; every kernel parameter must be bound`);
  const decl = param.slice(0, attr.index).replace(/\s+$/, '');
  const rest = param.slice(attr.index + attr[0].length);
  if (attr[1] === 'buffer') {
    const m = /^([\s\S]*?)([A-Za-z_]\w*)\s*$/.exec(decl);
    if (!m) throw new Error(`kernel ${kernelName}: cannot read the declaration "${decl.trim()}"`);
    return { text: `${decl}${rest}`, buffer: { index: Number(attr[2]), type: m[1].trim().replace(/\s+/g, ' ') } };
  }
  const builtin = BUILTINS[attr[1]];
  if (!builtin) throw new Error(`kernel ${kernelName}: the emulator does not bind [[${attr[1]}]]`);
  return { text: `${decl} = ::msl_emu::builtin(::msl_emu::Builtin::${builtin})${rest}`, buffer: null };
}

/** Pre-processes `source` (the text of `path`); returns { code, kernels: [{name, line, buffers}] }. */
export function prepass(source, path) {
  let out = '';
  let i = 0;
  let paren = 0;
  const kernels = [];
  const n = source.length;
  let line = 1;
  const isIdent = (c) => c !== undefined && /[A-Za-z0-9_]/.test(c);
  while (i < n) {
    const c = source[i];
    // comments, strings, characters: copied as they are
    if (c === '/' && source[i + 1] === '/') {
      const end = source.indexOf('\n', i);
      const stop = end < 0 ? n : end;
      out += source.slice(i, stop);
      i = stop;
      continue;
    }
    if (c === '/' && source[i + 1] === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      const chunk = source.slice(i, stop);
      line += chunk.split('\n').length - 1;
      out += chunk;
      i = stop;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < n && source[j] !== c) j += source[j] === '\\' ? 2 : 1;
      out += source.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (c === '\n') line++;
    if (/[A-Za-z_]/.test(c) && !isIdent(source[i - 1])) {
      let j = i;
      while (j < n && isIdent(source[j])) j++;
      const word = source.slice(i, j);
      if (word === 'threadgroup') {
        out += paren > 0 ? '' : 'INKLING_EMU_GROUP_SHARED';
        i = j;
        continue;
      }
      if (word === 'kernel' && paren === 0) {
        const sig = /^kernel(\s+void\s+)([A-Za-z_]\w*)(\s*)\(/.exec(source.slice(i));
        if (sig) {
          // the parameter list, up to the matching parenthesis
          let k = i + sig[0].length;
          let depth = 1;
          while (k < n && depth > 0) {
            if (source[k] === '(') depth++;
            else if (source[k] === ')') depth--;
            k++;
          }
          const params = splitParams(source.slice(i + sig[0].length, k - 1)).map((p) => rewriteParam(p, sig[2]));
          const buffers = params.filter((p) => p.buffer).map((p) => p.buffer);
          buffers.forEach((b, idx) => {
            if (b.index !== idx) throw new Error(`kernel ${sig[2]}: [[buffer(${b.index})]] where buffer(${idx}) was expected (buffers must be numbered 0, 1, ... in order)`);
          });
          const firstBuiltin = params.findIndex((p) => !p.buffer);
          if (firstBuiltin >= 0 && params.slice(firstBuiltin).some((p) => p.buffer)) {
            throw new Error(`kernel ${sig[2]}: built-in inputs must come after every [[buffer(n)]] parameter`);
          }
          const text = `${sig[1].trimStart() ? 'void ' : ''}${sig[2]}${sig[3]}(${params.map((p) => p.text).join(',')})`;
          // `kernel void` → `void` (the word kernel is gone; spacing kept loosely, line breaks kept)
          out += `/*kernel*/ ${text}`;
          line += source.slice(i, k).split('\n').length - 1;
          kernels.push({ name: sig[2], line, buffers });
          i = k;
          continue;
        }
      }
      out += word;
      i = j;
      continue;
    }
    if (c === '(') paren++;
    else if (c === ')') paren--;
    out += c;
    i++;
  }
  const registrations = kernels.map((k) => {
    const args = k.buffers.map((b, idx) => `::msl_emu::bind<${b.type}>(a, ${idx})`).join(', ');
    return `static const ::msl_emu::KernelRegistration inkling_emu_register_${k.name}("${k.name}", ${k.buffers.length}, "${path}", ${k.line}, [](const ::msl_emu::BoundArgs& a) { ${k.name}(${args}); });`;
  });
  const code = `#line 1 "${path}"\n${out}${out.endsWith('\n') ? '' : '\n'}${registrations.length ? `// ---- registrations (metal-emu pre-pass) ----\n${registrations.join('\n')}\n` : ''}`;
  return { code, kernels };
}

/** Pre-processes the file at `src` into `dst`; `shownPath` is the name in #line and messages. */
export function prepassFile(src, dst, shownPath) {
  const { code, kernels } = prepass(readFileSync(src, 'utf8'), shownPath);
  writeFileSync(dst, code);
  return kernels;
}
