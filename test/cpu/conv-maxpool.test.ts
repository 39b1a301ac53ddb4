// The cpu backend's fused conv2dMaxPool (native/cpu/impl/conv_pool.h) pools each image's
// convolution output from a staging buffer with the same code as maxPool2d, so its out must equal
// conv2d then maxPool2d bit for bit, on each of its paths (direct single-channel, Winograd with
// many images and with one, the general path), with 1 and 2 threads. The conformance table checks
// it against ref within the GEMM tolerance; this checks that fusing changes nothing at all.

import t from 'tap';
import { splitConv2dMaxPool, poolOutputSize, type Backend, type Conv2dMaxPoolParams } from '../../src/nn/backend.ts';
import { createCpuBackend, loadCpuAddon, type CpuIsa } from '../../src/nn/backends/cpu/index.ts';

const probe = await createCpuBackend().catch((err: unknown) => err as Error);
const skip = probe instanceof Error ? `cpu addon not built: ${probe.message}` : false;
if (!(probe instanceof Error)) probe.dispose();
// Each kernel table has its own lanes (the pooled Winograd tiles select in them): every one this
// machine runs, the others reported as skipped with the reason.
const availability = skip ? null : loadCpuAddon().isaAvailability();
const isas: Exclude<CpuIsa, 'auto' | 'neon'>[] = ['avx512', 'avx2', 'portable'];

function random(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
}

// [what, params, input elements set to NaN (a NaN must reach the same outputs either way)]
const shapes: Array<[string, Conv2dMaxPoolParams, number[]?]> = [
  ['conv1 of the seed CNN at batch 3 (direct)', { n: 3, cIn: 1, h: 28, w: 28, cOut: 32, kh: 3, kw: 3, stride: 1, pad: 1, activation: 'relu', poolKh: 2, poolKw: 2, poolStride: 2 }],
  ['conv1 of the seed CNN at batch 1 (direct, pooled in registers)', { n: 1, cIn: 1, h: 28, w: 28, cOut: 32, kh: 3, kw: 3, stride: 1, pad: 1, activation: 'relu', poolKh: 2, poolKw: 2, poolStride: 2 }],
  ['batch 1, one channel, odd 27x23 input, 7 channels, no activation, NaNs (direct, pooled in registers)', { n: 1, cIn: 1, h: 27, w: 23, cOut: 7, kh: 3, kw: 3, stride: 1, pad: 1, activation: 'none', poolKh: 2, poolKw: 2, poolStride: 2 }, [0, 5 * 23 + 8, 26 * 23 + 22]],
  ['batch 2, one channel, 40x70 input (several vector pairs per row; direct, pooled in registers)', { n: 2, cIn: 1, h: 40, w: 70, cOut: 5, kh: 3, kw: 3, stride: 1, pad: 1, activation: 'relu', poolKh: 2, poolKw: 2, poolStride: 2 }],
  ['conv2 of the seed CNN at batch 9 (Winograd, many images)', { n: 9, cIn: 32, h: 14, w: 14, cOut: 64, kh: 3, kw: 3, stride: 1, pad: 1, activation: 'relu', poolKh: 2, poolKw: 2, poolStride: 2 }],
  ['conv2 of the seed CNN at batch 1 (Winograd, one image)', { n: 1, cIn: 32, h: 14, w: 14, cOut: 64, kh: 3, kw: 3, stride: 1, pad: 1, activation: 'none', poolKh: 2, poolKw: 2, poolStride: 2 }],
  ['batch 2, odd 13x11 output, 20 channels (Winograd, few images: a partial panel, pooled from the tiles)', { n: 2, cIn: 5, h: 13, w: 11, cOut: 20, kh: 3, kw: 3, stride: 1, pad: 1, activation: 'relu', poolKh: 2, poolKw: 2, poolStride: 2 }],
  ['batch 1, 3x3 pool (Winograd, one image, pooled from the staged planes)', { n: 1, cIn: 4, h: 10, w: 9, cOut: 40, kh: 3, kw: 3, stride: 1, pad: 1, activation: 'relu', poolKh: 3, poolKw: 3, poolStride: 2 }],
  ['batch 1, no activation, NaNs in the input (Winograd, one image)', { n: 1, cIn: 32, h: 14, w: 14, cOut: 64, kh: 3, kw: 3, stride: 1, pad: 1, activation: 'none', poolKh: 2, poolKw: 2, poolStride: 2 }, [3 * 196 + 20, 17 * 196 + 195]],
  ['stride 2, overlapping windows (general path)', { n: 2, cIn: 3, h: 11, w: 9, cOut: 5, kh: 3, kw: 3, stride: 2, pad: 1, activation: 'relu', poolKh: 3, poolKw: 3, poolStride: 1 }],
];

async function run(be: Backend, p: Conv2dMaxPoolParams, fused: boolean, nans: number[] = []): Promise<Float32Array> {
  const { conv, pool } = splitConv2dMaxPool(p);
  const { hOut, wOut } = poolOutputSize(pool);
  const x = be.alloc(p.n * p.cIn * p.h * p.w);
  const w = be.alloc(p.cOut * p.cIn * p.kh * p.kw);
  const bias = be.alloc(p.cOut);
  const xs = random(x.length, 1);
  for (const i of nans) xs[i] = NaN;
  be.upload(x, xs);
  be.upload(w, random(w.length, 2));
  be.upload(bias, random(bias.length, 3));
  const out = be.alloc(p.n * p.cOut * hOut * wOut);
  if (fused) be.conv2dMaxPool(x, w, bias, out, p);
  else {
    const y = be.alloc(pool.n * pool.c * pool.h * pool.w);
    const argmax = be.alloc(out.length, 'i32');
    be.conv2d(x, w, bias, y, conv);
    be.maxPool2d(y, out, argmax, pool);
    be.free(y);
    be.free(argmax);
  }
  const got = (await be.download(out)) as Float32Array;
  for (const b of [x, w, bias, out]) be.free(b);
  return got;
}

for (const isa of isas) for (const threads of [1, 2]) {
  const why = skip || (isa === 'portable' || !availability ? '' : availability[isa]);
  const name = `conv2dMaxPool equals conv2d then maxPool2d bit for bit (${isa} table, ${threads} thread${threads > 1 ? 's' : ''})`;
  t.test(name, { skip: why ? (skip || `${isa} cannot run on this machine: ${why}`) : false }, async (t) => {
    const be = await createCpuBackend({ threads, isa });
    for (const [what, p, nans] of shapes) {
      const fused = await run(be, p, true, nans);
      const plain = await run(be, p, false, nans);
      const differ = fused.findIndex((v, i) => !Object.is(v, plain[i]));
      t.equal(differ, -1, `${what}: ${differ < 0 ? 'identical' : `first difference at ${differ}: ${fused[differ]} vs ${plain[differ]}`}`);
    }
    be.dispose();
  });
}
