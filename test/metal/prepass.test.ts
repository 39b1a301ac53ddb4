// The metal-emu pre-pass (scripts/metal-emu/prepass.mjs): what it rewrites, that it keeps every line
// where it was (compiler messages and the emulator's barrier sites name the .metal line), and that
// it refuses kernels the dispatcher could not call. Fast; the stage that runs the result is
// `npm run test:metal-emu`.
import { readFileSync, readdirSync } from 'node:fs';
import t from 'tap';
import { prepass } from '../../scripts/metal-emu/prepass.mjs';

const sample = `#include "common.h"
// threadgroup in a comment stays
inline float helper(threadgroup float* scratch, uint i) { return scratch[i]; }
kernel void k1(device const float* x [[buffer(0)]], device float* out [[buffer(1)]],
               constant EltArgs& a [[buffer(2)]],
               uint i [[thread_position_in_grid]], uint sg [[simdgroup_index_in_threadgroup]]) {
  threadgroup float tile[64];
  threadgroup_barrier(mem_flags::mem_threadgroup);
  out[i] = helper((threadgroup float*)tile, i) + x[i];
}
`;

t.test('threadgroup: static in bodies, gone in parameter lists and casts; comments untouched', async (t) => {
  const { code } = prepass(sample, 'sample.metal');
  const lines = code.split('\n');
  t.equal(lines[0], '#line 1 "sample.metal"');
  t.match(lines[2], '// threadgroup in a comment stays');
  t.match(lines[3], /inline float helper\(\s*float\* scratch, uint i\)/);
  t.match(lines[7], /INKLING_EMU_GROUP_SHARED float tile\[64\];/);
  t.match(lines[8], /threadgroup_barrier\(mem_flags::mem_threadgroup\);/, 'threadgroup_barrier is not the keyword');
  t.match(lines[9], /helper\(\(\s*float\*\)tile, i\)/);
});

t.test('kernel parameters: buffers bound by position, built-ins as per-thread default arguments', async (t) => {
  const { code, kernels } = prepass(sample, 'sample.metal');
  t.match(code, 'uint i = ::msl_emu::builtin(::msl_emu::Builtin::ThreadPositionInGrid)');
  t.match(code, 'uint sg = ::msl_emu::builtin(::msl_emu::Builtin::SimdgroupIndexInThreadgroup)');
  t.notMatch(code, /\[\[buffer/);
  t.same(kernels.map((k) => [k.name, k.buffers.map((b) => b.type)]), [['k1', ['device const float*', 'device float*', 'constant EltArgs&']]]);
  t.match(code, /KernelRegistration inkling_emu_register_k1\("k1", 3, "sample\.metal", \d+, .*k1\(::msl_emu::bind<device const float\*>\(a, 0\)/);
});

t.test('every line of every native/metal source keeps its number', async (t) => {
  for (const f of readdirSync('native/metal').filter((f) => /\.(metal|h)$/.test(f))) {
    const text = readFileSync(`native/metal/${f}`, 'utf8');
    const src = text.replace(/\n$/, '').split('\n');
    const out = prepass(text, f).code.split('\n').slice(1);
    // Lines without the rewritten words are byte-identical and at the same index.
    const moved = src.filter((l, i) => !/threadgroup(?!_)|kernel|\[\[/.test(l) && out[i] !== l);
    t.same(moved, [], `${f}: unchanged lines stay in place`);
  }
});

t.test('kernels the dispatcher could not call are refused with the reason', async (t) => {
  t.throws(() => prepass('kernel void k(device float* x [[buffer(1)]]) {}', 'a.metal'), /buffer\(1\)\]\] where buffer\(0\) was expected/);
  t.throws(() => prepass('kernel void k(uint i [[thread_position_in_grid]], device float* x [[buffer(0)]]) {}', 'a.metal'), /built-in inputs must come after/);
  t.throws(() => prepass('kernel void k(device float* x) {}', 'a.metal'), /has no \[\[attribute\]\]/);
  t.throws(() => prepass('kernel void k(uint i [[quad_lane_id]]) {}', 'a.metal'), /does not bind \[\[quad_lane_id\]\]/);
});
