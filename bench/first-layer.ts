// node --import tsx bench/first-layer.ts [--batch 128] [--calls 150]
// The seed CNN's first layer in training on the cpu backend: the fused convBatchNormMaxPoolTrain /
// convBatchNormMaxPoolBackward against the unfused kernels a step would otherwise run (conv2d then
// batchNormMaxPoolTrain; batchNormMaxPoolBackward then conv2dBackwardWeight). Every op is called
// in turn, round after round (interleaved, so that this shared host's swings hit all of them), and
// the median wall time of each is printed.

import { createCpuBackend } from '../src/nn/backends/cpu/index.ts';
import { defineFlags, parseFlags } from '../src/cli/args.ts';
import { splitConvBatchNormMaxPool, type ConvBatchNormMaxPoolParams } from '../src/nn/backend.ts';
import { median } from './stats.ts';

const { flags } = parseFlags('first-layer', process.argv.slice(2), defineFlags({
  batch: { type: 'int', min: 1, default: 128, help: 'the batch' },
  calls: { type: 'int', min: 1, default: 150, help: 'calls of each op' },
}), 'the header of bench/first-layer.ts');
const n = flags.batch;
const be = await createCpuBackend();
const p: ConvBatchNormMaxPoolParams = {
  n, cIn: 1, h: 28, w: 28, cOut: 32, kh: 3, kw: 3, stride: 1, pad: 1, eps: 1e-5, momentum: 0.1, activation: 'relu',
  poolKh: 2, poolKw: 2, poolStride: 2,
};
const { conv, bnPool } = splitConvBatchNormMaxPool(p);
const pooled = n * 32 * 196, full = n * 32 * 784;
let seed = 7;
const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const filled = (k: number, lo: number, hi: number) => {
  const buf = be.alloc(k);
  be.upload(buf, Float32Array.from({ length: k }, () => lo + (hi - lo) * random()));
  return buf;
};
const b = {
  x: filled(n * 784, -0.5, 2.8), w: filled(288, -1, 1), bias: filled(32, -1, 1), gamma: filled(32, 0.5, 1.5),
  beta: filled(32, -1, 1), runningMean: filled(32, 0, 1), runningVar: filled(32, 0.5, 2), out: be.alloc(pooled),
  argmax: be.alloc(pooled, 'i32'), saveMean: be.alloc(32), saveInvStd: be.alloc(32), dy: filled(pooled, -1, 1),
  dw: be.alloc(288), dgamma: be.alloc(32), dbeta: be.alloc(32), y: be.alloc(full), dyConv: be.alloc(full),
};
const ops: Record<string, () => void> = {
  'fused forward': () => be.convBatchNormMaxPoolTrain(b.x, b.w, b.bias, b.gamma, b.beta, b.runningMean, b.runningVar,
    b.out, b.argmax, b.saveMean, b.saveInvStd, p),
  'fused backward': () => be.convBatchNormMaxPoolBackward(b.x, b.w, b.bias, b.out, b.argmax, b.dy, b.gamma, b.beta,
    b.saveMean, b.saveInvStd, b.dw, b.dgamma, b.dbeta, p),
  conv2d: () => be.conv2d(b.x, b.w, b.bias, b.y, conv),
  batchNormMaxPoolTrain: () => be.batchNormMaxPoolTrain(b.y, b.gamma, b.beta, b.runningMean, b.runningVar, b.out,
    b.argmax, b.saveMean, b.saveInvStd, bnPool),
  batchNormMaxPoolBackward: () => be.batchNormMaxPoolBackward(b.y, b.out, b.argmax, b.dy, b.gamma, b.saveMean,
    b.saveInvStd, b.dyConv, b.dgamma, b.dbeta, bnPool),
  conv2dBackwardWeight: () => be.conv2dBackwardWeight(b.x, b.dyConv, b.dw, null, conv),
};
const times = new Map<string, number[]>();
for (let round = 0; round < flags.calls; round++) {
  for (const [name, op] of Object.entries(ops)) {
    const t0 = performance.now();
    op();
    const list = times.get(name) ?? [];
    list.push(performance.now() - t0);
    times.set(name, list);
  }
}
const ms = (name: string): number => median(times.get(name)!);
console.log(`# ${be.info.cpuModel}, ${be.info.isa}, ${be.info.threads} threads; batch ${n}, ${flags.calls} interleaved calls each, median ms`);
for (const name of Object.keys(ops)) console.log(`${name.padEnd(26)} ${ms(name).toFixed(2)}`);
console.log(`forward:  fused ${ms('fused forward').toFixed(2)} vs conv2d + batchNormMaxPoolTrain ${(ms('conv2d') + ms('batchNormMaxPoolTrain')).toFixed(2)} ms`);
console.log(`backward: fused ${ms('fused backward').toFixed(2)} vs batchNormMaxPoolBackward + conv2dBackwardWeight ${(ms('batchNormMaxPoolBackward') + ms('conv2dBackwardWeight')).toFixed(2)} ms`);
