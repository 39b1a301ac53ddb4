// Our GEMM at the seed CNN's conv2 shape (C[M,64] = A[M,288]·B[288,64], M = batch·196) and the
// conv2 forward itself (implicit GEMM), both variants, timed through the backend: median of
// blocks of R launches closed by flush(), so it includes the N-API launch cost per call (as the
// training loop sees it). Prints one JSON line: { device, results: [{ what, batch, variant, ms, gflops }] }.
//   node --import tsx bench/cuda/gemm.ts [--batches 128,512] [--repeats 50]
import { defineFlags, parseFlags } from '../../src/cli/args.ts';
import { createCudaBackend, type CudaBackend } from '../../src/nn/backends/cuda/index.ts';

const { flags: args } = parseFlags('cuda gemm', process.argv.slice(2), defineFlags({
  batches: { type: 'string', metavar: 'N,N', default: '128,512', help: 'batch sizes' },
  repeats: { type: 'int', min: 1, default: 50, help: 'timed repeats' },
}), 'the header of bench/cuda/gemm.ts');
const repeats = args.repeats;
const backend = (await createCudaBackend()) as CudaBackend;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

async function time(run: () => void): Promise<number> {
  for (let i = 0; i < 5; i++) run();
  await backend.flush();
  const blocks: number[] = [];
  for (let b = 0; b < 7; b++) {
    const t0 = performance.now();
    for (let i = 0; i < repeats; i++) run();
    await backend.flush();
    blocks.push((performance.now() - t0) / repeats);
  }
  return median(blocks);
}

function random(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return new Float32Array(n).map(() => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296) - 0.5);
}

const results: { what: string; batch: number; variant: string; ms: number; gflops: number }[] = [];
for (const batch of args.batches.split(',').map(Number)) {
  const M = batch * 196, K = 288, N = 64;
  const a = backend.alloc(M * K), b = backend.alloc(K * N), c = backend.alloc(M * N);
  backend.upload(a, random(M * K, 1));
  backend.upload(b, random(K * N, 2));
  const conv = { n: batch, cIn: 32, h: 14, w: 14, cOut: 64, kh: 3, kw: 3, stride: 1, pad: 1 };
  const x = backend.alloc(batch * 32 * 196), w = backend.alloc(64 * 288), bias = backend.alloc(64), y = backend.alloc(batch * 64 * 196);
  backend.upload(x, random(batch * 32 * 196, 3));
  backend.upload(w, random(64 * 288, 4));
  const gflop = (2 * M * N * K) / 1e9;
  for (const variant of ['simt', 'tf32'] as const) {
    backend.setGemmVariant(variant);
    const gemmMs = await time(() => backend.matmul(a, b, null, c, { m: M, n: N, k: K, transA: false, transB: false }));
    results.push({ what: 'gemm conv2 shape', batch, variant, ms: gemmMs, gflops: gflop / (gemmMs / 1e3) });
    const convMs = await time(() => backend.conv2d(x, w, bias, y, { ...conv, activation: 'relu' }));
    results.push({ what: 'conv2 forward (implicit gemm, bias+relu)', batch, variant, ms: convMs, gflops: gflop / (convMs / 1e3) });
  }
  for (const buf of [a, b, c, x, w, bias, y]) backend.free(buf);
}
for (const r of results) console.error(`${r.what} b${r.batch} ${r.variant}: ${r.ms.toFixed(4)} ms, ${r.gflops.toFixed(0)} GFLOP/s`);
console.log(JSON.stringify({ device: backend.device, results }));
backend.dispose();
