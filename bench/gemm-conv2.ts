// node --import tsx bench/gemm-conv2.ts [--batch 128] [--threads 1,2]
// The GEMM at the seed CNN's conv2 shape, C[M, 64] = A[M, 288] · Bᵀ (M = batch·14·14, K = 288,
// N = 64: conv2's im2col matrix times its weights), against this machine's peak FMA rate measured
// in the same run on the same number of threads. Reports wall time (what a user sees) and, because
// this machine is often shared, the process CPU time too: flops ÷ CPU time is the rate per core
// while it actually ran, compared with the one-thread peak.

import { createCpuBackend } from '../src/nn/backends/cpu/index.ts';
import { defineFlags, parseFlags } from '../src/cli/args.ts';

const { flags } = parseFlags('gemm-conv2', process.argv.slice(2), defineFlags({
  batch: { type: 'int', min: 1, default: 128, help: 'the batch whose conv2 GEMM is timed' },
  threads: { type: 'string', metavar: 'N,N', default: '1,2', help: 'thread counts to run' },
}), 'the header of bench/gemm-conv2.ts');
const batch = flags.batch;
const threadCounts = flags.threads.split(',').map(Number);
const M = batch * 14 * 14, K = 288, N = 64;
const flops = 2 * M * N * K;

for (const threads of threadCounts) {
  const cpu = await createCpuBackend({ threads });
  const a = cpu.alloc(M * K), b = cpu.alloc(N * K), c = cpu.alloc(M * N);
  const fill = (n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 0.5);
  cpu.upload(a, fill(M * K));
  cpu.upload(b, fill(N * K));
  const peak = cpu.peakFmaGflops(threads, 0.5);
  const peakOne = threads === 1 ? peak : cpu.peakFmaGflops(1, 0.5);
  const run = (): void => cpu.matmul(a, b, null, c, { m: M, n: N, k: K, transA: false, transB: true });
  run();
  const walls: number[] = [];
  const cpus: number[] = [];
  const until = performance.now() + 1500;
  while (walls.length < 5 || (performance.now() < until && walls.length < 100)) {
    const u0 = process.cpuUsage();
    const t0 = performance.now();
    run();
    walls.push(performance.now() - t0);
    const u = process.cpuUsage(u0);
    cpus.push((u.user + u.system) / 1000);
  }
  const best = (xs: number[]): number => Math.min(...xs);
  const med = (xs: number[]): number => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
  const gf = (ms: number): number => flops / ms / 1e6;
  console.log(`gemm conv2 shape M=${M} K=${K} N=${N} (batch ${batch}), ${cpu.device}`);
  console.log(`  peak FMA ${peak.toFixed(1)} GFLOP/s on ${threads} thread(s)`);
  console.log(`  wall: median ${med(walls).toFixed(2)} ms = ${gf(med(walls)).toFixed(1)} GFLOP/s (${(100 * gf(med(walls)) / peak).toFixed(1)}% of peak); ` +
    `best ${best(walls).toFixed(2)} ms = ${(100 * gf(best(walls)) / peak).toFixed(1)}%`);
  console.log(`  per core while running (flops / CPU time): ${gf(med(cpus)).toFixed(1)} GFLOP/s = ` +
    `${(100 * gf(med(cpus)) / peakOne).toFixed(1)}% of the one-thread peak ${peakOne.toFixed(1)}`);
  cpu.dispose();
}
