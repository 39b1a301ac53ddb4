// The elementwise op codes have one definition, src/nn/backends/op-codes.ts. C++, MSL and WGSL
// cannot import it, so this test parses every table that repeats the numbers and fails when one
// drifts: the enums of native/cpu/kernels.h and native/cuda/kernels.h (the kernels switch on the
// enum names), and the switches of native/metal/elementwise.metal and elementwise.wgsl (which
// switch on bare numbers: each case's expression must compute the op its number names).

import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { binaryCodes, unaryCodes } from '../../src/nn/backends/op-codes.ts';
import * as cudaParams from '../../src/nn/backends/cuda/params.ts';

const read = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/** name → value of a C++ enum (`enum [class] Name [: int] { kA = 0, kB, ... }`), the prefix
 *  dropped and the name lower-cased. */
function parseEnum(source: string, name: string, prefix: string): Record<string, number> {
  const m = new RegExp(`enum\\s+(?:class\\s+)?${name}\\b[^{]*\\{([^}]*)\\}`).exec(source);
  if (!m) throw new Error(`enum ${name} not found`);
  const out: Record<string, number> = {};
  let next = 0;
  for (const part of m[1]!.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [id, value] = part.split('=').map((s) => s.trim());
    const v = value === undefined ? next : Number(value);
    out[id!.slice(prefix.length).toLowerCase()] = v;
    next = v + 1;
  }
  return out;
}

/** code → expression of the `switch` inside the function or kernel that starts at `start`:
 *  `case N[u]: { return E; }` (WGSL) or `case N: v = E; break;` (MSL); `default` gets the code
 *  after the largest case. */
function parseSwitch(source: string, start: string): Map<number, string> {
  const at = source.indexOf(start);
  if (at < 0) throw new Error(`${start} not found`);
  const body = source.slice(at, source.indexOf('\n}', at));
  const cases = new Map<number, string>();
  for (const m of body.matchAll(/case (\d+)u?:\s*\{?\s*(?:return|v =)\s*([^;]+);/g)) cases.set(Number(m[1]), m[2]!.trim());
  const d = /default:\s*\{?\s*(?:return|v =)\s*([^;]+);/.exec(body);
  if (d) cases.set(Math.max(-1, ...cases.keys()) + 1, d[1]!.trim());
  return cases;
}

/** What each op's expression must contain (the operands are named differently per language). */
const unaryShape: Record<keyof typeof unaryCodes, RegExp> = {
  neg: /^-\s*\w+$/, exp: /\bexp\(/, log: /\blog\(/, sqrt: /\bsqrt\(/, abs: /\bf?abs\(/, relu: /\bmax\(|> 0/,
};
const binaryShape: Record<keyof typeof binaryCodes, RegExp> = {
  add: /\w \+ \w/, sub: /\w - \w/, mul: /\w \* \w/, div: /\w \/ \w/, max: /\bf?max\(/,
};

function checkSwitch(t: Test, file: string, cases: Map<number, string>, codes: Record<string, number>, shapes: Record<string, RegExp>): void {
  t.equal(cases.size, Object.keys(codes).length, `${file}: one case per op`);
  for (const [op, code] of Object.entries(codes)) {
    const expr = cases.get(code);
    t.ok(expr !== undefined && shapes[op]!.test(expr), `${file}: code ${code} computes ${op} (${expr ?? 'no case'})`);
  }
}

t.test('the C++ enums of the cpu and cuda addons match op-codes.ts', async (t) => {
  const cpu = read('native/cpu/kernels.h');
  t.same(parseEnum(cpu, 'UnaryOp', 'k'), unaryCodes, 'native/cpu/kernels.h UnaryOp');
  t.same(parseEnum(cpu, 'BinaryOp', 'k'), binaryCodes, 'native/cpu/kernels.h BinaryOp');
  const cuda = read('native/cuda/kernels.h');
  t.same(parseEnum(cuda, 'UnaryOp', ''), unaryCodes, 'native/cuda/kernels.h UnaryOp');
  t.same(parseEnum(cuda, 'BinaryOp', ''), binaryCodes, 'native/cuda/kernels.h BinaryOp');
});

t.test('the Metal and WGSL switches compute the op each code names', async (t) => {
  const metal = read('native/metal/elementwise.metal');
  checkSwitch(t, 'elementwise.metal unary_f32', parseSwitch(metal, 'kernel void unary_f32'), unaryCodes, unaryShape);
  checkSwitch(t, 'elementwise.metal binary_f32', parseSwitch(metal, 'kernel void binary_f32'), binaryCodes, binaryShape);
  const wgsl = read('src/nn/backends/webgpu/kernels/elementwise.wgsl');
  checkSwitch(t, 'elementwise.wgsl unaryOp', parseSwitch(wgsl, 'fn unaryOp'), unaryCodes, unaryShape);
  checkSwitch(t, 'elementwise.wgsl binaryOp', parseSwitch(wgsl, 'fn binaryOp'), binaryCodes, binaryShape);
});

t.test('the TypeScript wrappers use op-codes.ts itself, not a copy', async (t) => {
  t.equal(cudaParams.unaryCodes, unaryCodes, 'cuda/params.ts re-exports the table');
  t.equal(cudaParams.binaryCodes, binaryCodes, 'cuda/params.ts re-exports the table');
  for (const path of ['src/nn/backends/cpu/cpu-backend.ts', 'src/nn/backends/webgpu/webgpu-backend.ts', 'src/nn/backends/device/params.ts']) {
    t.notMatch(read(path), /\{\s*neg: 0|\{\s*add: 0/, `${path} writes no op table of its own`);
  }
});

t.test('the parsers catch a drifted table (mutation)', async (t) => {
  t.notSame(parseEnum('enum UnaryOp : int { kNeg = 0, kLog, kExp, kSqrt, kAbs, kRelu };', 'UnaryOp', 'k'), unaryCodes, 'swapped enum');
  const swapped = 'fn unaryOp(x: V) -> V {\n  switch OP {\n    case 0u: { return -x; }\n    case 1u: { return log(x); }\n' +
    '    case 2u: { return exp(x); }\n    case 3u: { return sqrt(x); }\n    case 4u: { return abs(x); }\n    default: { return max(x, V(0.0)); }\n  }\n}\n';
  const cases = parseSwitch(swapped, 'fn unaryOp');
  t.equal(cases.size, 6);
  t.notOk(unaryShape.exp.test(cases.get(unaryCodes.exp)!), 'exp at code 1 is caught');
});
