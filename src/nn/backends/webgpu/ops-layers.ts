// Host side of batchnorm, pooling, dropout, softmax / cross-entropy and the optimizer steps.
import {
  poolOutputSize,
  type AdamParams, type BatchNormParams, type CrossEntropyParams, type DropoutParams, type Pool2dParams, type SgdParams,
} from '../../backend.ts';
import { dropoutKey, dropoutKeepScale, dropoutKeepThreshold } from '../../dropout-rng.ts';
import { grid1d, type Runtime, type Uniform } from './runtime.ts';
import type { WebgpuBuffer } from './buffers.ts';

// ---- batchnorm ----

function bnUniforms(p: BatchNormParams): Uniform[] {
  return [['u', p.n], ['u', p.c], ['u', p.spatial], ['u', p.n * p.c * p.spatial], ['f', p.eps], ['f', p.momentum]];
}

export function batchNormTrain(
  rt: Runtime, x: WebgpuBuffer, gamma: WebgpuBuffer, beta: WebgpuBuffer, runningMean: WebgpuBuffer, runningVar: WebgpuBuffer,
  out: WebgpuBuffer, saveMean: WebgpuBuffer, saveInvStd: WebgpuBuffer, p: BatchNormParams,
): void {
  const uniforms = bnUniforms(p);
  rt.dispatch({
    file: 'batchnorm.wgsl', entry: 'stats', uniforms,
    bindings: [{ buf: x }, { buf: runningMean, write: true }, { buf: runningVar, write: true }, { buf: saveMean, write: true }, { buf: saveInvStd, write: true }],
    workgroups: [p.c, 1, 1],
  });
  rt.dispatch({
    file: 'batchnorm.wgsl', entry: 'apply', defines: { RELU: p.activation === 'relu' }, uniforms,
    bindings: [{ buf: x }, { buf: gamma }, { buf: beta }, { buf: saveMean }, { buf: saveInvStd }, { buf: out, write: true }],
    workgroups: grid1d(p.n * p.c * p.spatial, 256),
  });
}

export function batchNormInference(
  rt: Runtime, x: WebgpuBuffer, gamma: WebgpuBuffer, beta: WebgpuBuffer, runningMean: WebgpuBuffer, runningVar: WebgpuBuffer,
  out: WebgpuBuffer, p: BatchNormParams,
): void {
  rt.dispatch({
    file: 'batchnorm.wgsl', entry: 'apply', defines: { INFERENCE: true, RELU: p.activation === 'relu' }, uniforms: bnUniforms(p),
    bindings: [{ buf: x }, { buf: gamma }, { buf: beta }, { buf: runningMean }, { buf: runningVar }, { buf: out, write: true }],
    workgroups: grid1d(p.n * p.c * p.spatial, 256),
  });
}

export function batchNormBackward(
  rt: Runtime, x: WebgpuBuffer, dy: WebgpuBuffer, gamma: WebgpuBuffer, saveMean: WebgpuBuffer, saveInvStd: WebgpuBuffer,
  dx: WebgpuBuffer, dgamma: WebgpuBuffer, dbeta: WebgpuBuffer, p: BatchNormParams, accumulate: boolean,
): void {
  const uniforms = bnUniforms(p);
  // dgamma/dbeta may accumulate, so the plain per-channel sums go to their own scratch buffer.
  const sums = rt.temp(2 * p.c);
  rt.dispatch({
    file: 'batchnorm.wgsl', entry: 'backward_reduce', defines: { ACCUMULATE: accumulate }, uniforms,
    bindings: [{ buf: x }, { buf: dy }, { buf: saveMean }, { buf: saveInvStd }, { buf: dgamma, write: true }, { buf: dbeta, write: true }, { buf: sums, write: true }],
    workgroups: [p.c, 1, 1],
  });
  rt.dispatch({
    file: 'batchnorm.wgsl', entry: 'backward_dx', uniforms,
    bindings: [{ buf: x }, { buf: dy }, { buf: gamma }, { buf: saveMean }, { buf: saveInvStd }, { buf: sums }, { buf: dx, write: true }],
    workgroups: grid1d(p.n * p.c * p.spatial, 256),
  });
  rt.releaseTemp(sums);
}

// ---- pooling ----

function poolUniforms(p: Pool2dParams, name: string): { uniforms: Uniform[]; outputs: number; inputs: number } {
  const { hOut, wOut } = poolOutputSize(p);
  if (hOut < 1 || wOut < 1 || p.stride < 1) {
    throw new Error(`webgpu ${name}: window ${p.kh}x${p.kw} stride ${p.stride} does not fit a ${p.h}x${p.w} image`);
  }
  const outputs = p.n * p.c * hOut * wOut;
  const inputs = p.n * p.c * p.h * p.w;
  const base: Uniform[] = [['u', p.n], ['u', p.c], ['u', p.h], ['u', p.w], ['u', p.kh], ['u', p.kw], ['u', p.stride], ['u', hOut], ['u', wOut]];
  return { uniforms: base, outputs, inputs };
}

export function maxPool2d(rt: Runtime, x: WebgpuBuffer, out: WebgpuBuffer, argmax: WebgpuBuffer, p: Pool2dParams): void {
  const { uniforms, outputs } = poolUniforms(p, 'maxPool2d');
  rt.dispatch({
    file: 'pool.wgsl', entry: 'max_pool', uniforms: [...uniforms, ['u', outputs]],
    bindings: [{ buf: x }, { buf: out, write: true }, { buf: argmax, write: true }], workgroups: grid1d(outputs, 256),
  });
}

export function maxPool2dBackward(rt: Runtime, dy: WebgpuBuffer, argmax: WebgpuBuffer, dx: WebgpuBuffer, p: Pool2dParams): void {
  const { uniforms, inputs } = poolUniforms(p, 'maxPool2dBackward');
  rt.dispatch({
    file: 'pool.wgsl', entry: 'max_pool_backward', uniforms: [...uniforms, ['u', inputs]],
    bindings: [{ buf: dy }, { buf: argmax }, { buf: dx, write: true }], workgroups: grid1d(inputs, 256),
  });
}

export function avgPool2d(rt: Runtime, x: WebgpuBuffer, out: WebgpuBuffer, p: Pool2dParams): void {
  const { uniforms, outputs } = poolUniforms(p, 'avgPool2d');
  rt.dispatch({
    file: 'pool.wgsl', entry: 'avg_pool', uniforms: [...uniforms, ['u', outputs]],
    bindings: [{ buf: x }, { buf: out, write: true }], workgroups: grid1d(outputs, 256),
  });
}

export function avgPool2dBackward(rt: Runtime, dy: WebgpuBuffer, dx: WebgpuBuffer, p: Pool2dParams): void {
  const { uniforms, inputs } = poolUniforms(p, 'avgPool2dBackward');
  rt.dispatch({
    file: 'pool.wgsl', entry: 'avg_pool_backward', uniforms: [...uniforms, ['u', inputs]],
    bindings: [{ buf: dy }, { buf: dx, write: true }], workgroups: grid1d(inputs, 256),
  });
}

// ---- dropout ----

function dropoutUniforms(n: number, p: DropoutParams): Uniform[] {
  const threshold = dropoutKeepThreshold(p.p);
  return [
    ['u', n], ['u', Math.max(1, p.spatial)], ['u', dropoutKey(p.seed >>> 0, p.step >>> 0)], ['u', threshold],
    ['f', dropoutKeepScale(p.p)],
  ];
}

export function dropout(rt: Runtime, x: WebgpuBuffer, out: WebgpuBuffer, p: DropoutParams): void {
  const n = out.length;
  rt.dispatch({
    file: 'dropout.wgsl', entry: 'forward', uniforms: dropoutUniforms(n, p),
    bindings: [{ buf: x }, { buf: out, write: true }], workgroups: grid1d(n, 256),
  });
}

export function dropoutBackward(rt: Runtime, dy: WebgpuBuffer, dx: WebgpuBuffer, p: DropoutParams, accumulate: boolean): void {
  const n = dx.length;
  rt.dispatch({
    file: 'dropout.wgsl', entry: 'backward', defines: { ACCUMULATE: accumulate }, uniforms: dropoutUniforms(n, p),
    bindings: [{ buf: dy }, { buf: dx, write: true }], workgroups: grid1d(n, 256),
  });
}

// ---- softmax and cross-entropy ----

/** One workgroup per row, folded into y past 65535 rows. */
function rowGrid(rows: number): [number, number, number] {
  const y = Math.ceil(rows / 65535);
  return [Math.ceil(rows / y), y, 1];
}

export function softmax(rt: Runtime, x: WebgpuBuffer, out: WebgpuBuffer, rows: number, cols: number, log: boolean): void {
  rt.dispatch({
    file: 'softmax.wgsl', entry: 'softmax', defines: { LOG: log }, uniforms: [['u', rows], ['u', cols], ['f', 0]],
    bindings: [{ buf: x }, { buf: out, write: true }], workgroups: rowGrid(rows),
  });
}

export function softmaxCrossEntropy(
  rt: Runtime, logits: WebgpuBuffer, labels: WebgpuBuffer, probs: WebgpuBuffer, loss: WebgpuBuffer, p: CrossEntropyParams,
): void {
  const uniforms: Uniform[] = [['u', p.rows], ['u', p.cols], ['f', p.labelSmoothing]];
  const rowLoss = rt.temp(p.rows);
  rt.dispatch({
    file: 'softmax.wgsl', entry: 'ce_forward', uniforms,
    bindings: [{ buf: logits }, { buf: labels }, { buf: probs, write: true }, { buf: rowLoss, write: true }], workgroups: rowGrid(p.rows),
  });
  rt.dispatch({
    file: 'softmax.wgsl', entry: 'ce_mean', uniforms,
    bindings: [{ buf: rowLoss }, { buf: loss, write: true }], workgroups: [1, 1, 1],
  });
  rt.releaseTemp(rowLoss);
}

export function softmaxCrossEntropyBackward(
  rt: Runtime, probs: WebgpuBuffer, labels: WebgpuBuffer, dloss: WebgpuBuffer, dlogits: WebgpuBuffer, p: CrossEntropyParams,
  accumulate: boolean,
): void {
  rt.dispatch({
    file: 'softmax.wgsl', entry: 'ce_backward', defines: { ACCUMULATE: accumulate },
    uniforms: [['u', p.rows], ['u', p.cols], ['f', p.labelSmoothing]],
    bindings: [{ buf: probs }, { buf: labels }, { buf: dloss }, { buf: dlogits, write: true }],
    workgroups: grid1d(p.rows * p.cols, 256),
  });
}

// ---- optimizers ----

export function sgdStep(rt: Runtime, param: WebgpuBuffer, grad: WebgpuBuffer, velocity: WebgpuBuffer | null, p: SgdParams): void {
  const momentum = p.momentum !== 0;
  if (momentum && !velocity) throw new Error('webgpu sgdStep: momentum needs a velocity buffer');
  const bindings = [{ buf: param, write: true }, { buf: grad }];
  if (momentum && velocity) bindings.push({ buf: velocity, write: true });
  rt.dispatch({
    file: 'optim.wgsl', entry: 'sgd', defines: { MOMENTUM: momentum },
    uniforms: [['u', param.length], ['u', p.nesterov ? 1 : 0], ['f', p.lr], ['f', p.momentum], ['f', p.dampening], ['f', p.weightDecay]],
    bindings, workgroups: grid1d(param.length, 256),
  });
}

export function adamStep(rt: Runtime, param: WebgpuBuffer, grad: WebgpuBuffer, m: WebgpuBuffer, v: WebgpuBuffer, p: AdamParams): void {
  if (!(p.step >= 1)) throw new Error(`webgpu adamStep: step counts from 1, got ${p.step}`);
  rt.dispatch({
    file: 'optim.wgsl', entry: 'adam',
    uniforms: [
      ['u', param.length], ['u', p.decoupled ? 1 : 0], ['f', p.lr], ['f', p.beta1], ['f', p.beta2], ['f', p.eps], ['f', p.weightDecay],
      ['f', 1 - p.beta1 ** p.step], ['f', 1 - p.beta2 ** p.step],
    ],
    bindings: [{ buf: param, write: true }, { buf: grad }, { buf: m, write: true }, { buf: v, write: true }],
    workgroups: grid1d(param.length, 256),
  });
}
