// The ISA decision of native/cpu/isa.cc on given CPUID and XGETBV values: a table is chosen only
// when the CPU has every feature it needs AND the OS saves the registers it uses (XCR0), which is
// what keeps an AVX-512 CPU under an OS (or hypervisor) without zmm state support from faulting.
// The same function reads this machine's registers; its answer must agree with /proc/cpuinfo.

import { readFileSync } from 'node:fs';
import t from 'tap';
import { loadCpuAddon } from '../../src/nn/backends/cpu/index.ts';

const addon = (() => {
  try {
    return loadCpuAddon();
  } catch {
    return null;
  }
})();

// CPUID leaf 1 ECX: FMA = bit 12, OSXSAVE = bit 27. Leaf 7 EBX: AVX2 = 5, AVX512F = 16, DQ = 17,
// BW = 30, VL = 31. XCR0: SSE = bit 1, AVX = 2, opmask = 5, ZMM_Hi256 = 6, Hi16_ZMM = 7.
const FMA = 1 << 12;
const OSXSAVE = 1 << 27;
const AVX2 = 1 << 5;
const AVX512 = ((1 << 16) | (1 << 17) | (1 << 30) | (1 << 31)) >>> 0;
const XCR0_YMM = 0x6;
const XCR0_ZMM = 0xe6;

t.test('ISA decision from CPUID and XGETBV values', { skip: addon ? false : 'cpu addon not built' }, async (t) => {
  const f = (ecx: number, ebx: number, xcr0: number) => addon!.cpuFeatures(ecx >>> 0, ebx >>> 0, xcr0);
  const all = f(FMA | OSXSAVE, AVX2 | AVX512, XCR0_ZMM);
  t.same([all.avx2Missing, all.avx512Missing], ['', ''], 'an AVX-512 CPU whose OS saves zmm state runs both tables');
  const noZmmState = f(FMA | OSXSAVE, AVX2 | AVX512, XCR0_YMM);
  t.equal(noZmmState.avx2Missing, '', 'without zmm state the AVX2 table still runs');
  t.match(noZmmState.avx512Missing, /OS does not save the opmask and zmm registers \(XGETBV\)/, 'but AVX-512 is refused');
  const noOsxsave = f(FMA, AVX2 | AVX512, XCR0_ZMM);
  t.equal(noOsxsave.xcr0, 0, 'XCR0 is not trusted (not even read) without OSXSAVE');
  t.match(noOsxsave.avx2Missing, /OS does not save the ymm registers/);
  for (const [bit, name] of [[1 << 16, 'AVX512F'], [1 << 17, 'AVX512DQ'], [1 << 30, 'AVX512BW'], [1 << 31, 'AVX512VL']] as const) {
    const missing = f(FMA | OSXSAVE, (AVX2 | AVX512) & ~bit, XCR0_ZMM);
    t.match(missing.avx512Missing, new RegExp(`lacks.*${name}`), `no ${name}: AVX-512 refused, naming it`);
    t.equal(missing.avx2Missing, '');
  }
  t.match(f(OSXSAVE, AVX2 | AVX512, XCR0_ZMM).avx512Missing, /lacks FMA/, 'the AVX-512 table needs the AVX2 table\'s FMA too');
  t.match(f(FMA | OSXSAVE, 0, XCR0_ZMM).avx2Missing, /lacks AVX2/);
});

t.test('this machine: CPUID agrees with /proc/cpuinfo', { skip: addon ? (process.platform === 'linux' && process.arch === 'x64' ? false : 'x86-64 Linux only') : 'cpu addon not built' }, async (t) => {
  const flags = new Set((/^flags\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '').split(/\s+/));
  const here = addon!.cpuFeatures();
  t.equal(here.avx2, flags.has('avx2'), 'avx2');
  t.equal(here.fma, flags.has('fma'), 'fma');
  for (const name of ['avx512f', 'avx512bw', 'avx512dq', 'avx512vl'] as const) t.equal(here[name], flags.has(name), name);
  const why = addon!.isaAvailability();
  t.equal(why.avx512 === '', here.avx512Missing === '', 'the build runs its AVX-512 table exactly when the CPU and OS allow');
  t.equal(why.avx512Emulated, false, 'the default build is not the SIMDe emulation');
});
