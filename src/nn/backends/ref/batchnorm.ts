// Batch normalisation over x viewed as [n, c, spatial] (spatial = H·W for BN2d, 1 for BN1d), per
// channel c over N' = n·spatial values:
//   mean = Σx / N'    var = Σ(x − mean)² / N' (biased, used to normalise)
//   x̂ = (x − mean)·invStd, invStd = 1/sqrt(var + eps)     y = act(γ·x̂ + β)
//   running_mean = (1 − momentum)·running_mean + momentum·mean
//   running_var  = (1 − momentum)·running_var  + momentum·var·N'/(N' − 1)   (unbiased, as PyTorch)
// Backward (activation 'none'): dx = γ·invStd/N'·(N'·dy − Σdy − x̂·Σ(dy·x̂)); dγ = Σ dy·x̂; dβ = Σ dy.

import type { BatchNormParams } from '../../backend.ts';
import { activate, type Num } from './numeric.ts';

function index(p: BatchNormParams, o: number, c: number, s: number): number {
  return (o * p.c + c) * p.spatial + s;
}

export function batchNormTrain(
  x: Num, gamma: Num, beta: Num, runningMean: Num, runningVar: Num, out: Num, saveMean: Num, saveInvStd: Num, p: BatchNormParams,
): void {
  const count = p.n * p.spatial;
  for (let c = 0; c < p.c; c++) {
    let sum = 0;
    for (let o = 0; o < p.n; o++) for (let s = 0; s < p.spatial; s++) sum += x[index(p, o, c, s)];
    const mean = sum / count;
    let sq = 0;
    for (let o = 0; o < p.n; o++)
      for (let s = 0; s < p.spatial; s++) {
        const d = x[index(p, o, c, s)] - mean;
        sq += d * d;
      }
    const variance = sq / count;
    const invStd = 1 / Math.sqrt(variance + p.eps);
    for (let o = 0; o < p.n; o++)
      for (let s = 0; s < p.spatial; s++) {
        const i = index(p, o, c, s);
        out[i] = activate(gamma[c] * (x[i] - mean) * invStd + beta[c], p.activation);
      }
    runningMean[c] = (1 - p.momentum) * runningMean[c] + p.momentum * mean;
    runningVar[c] = (1 - p.momentum) * runningVar[c] + p.momentum * variance * (count / (count - 1));
    saveMean[c] = mean;
    saveInvStd[c] = invStd;
  }
}

export function batchNormInference(
  x: Num, gamma: Num, beta: Num, runningMean: Num, runningVar: Num, out: Num, p: BatchNormParams,
): void {
  for (let c = 0; c < p.c; c++) {
    const invStd = 1 / Math.sqrt(runningVar[c] + p.eps);
    for (let o = 0; o < p.n; o++)
      for (let s = 0; s < p.spatial; s++) {
        const i = index(p, o, c, s);
        out[i] = activate(gamma[c] * (x[i] - runningMean[c]) * invStd + beta[c], p.activation);
      }
  }
}

/** dx is always overwritten; dγ and dβ accumulate when asked. */
export function batchNormBackward(
  x: Num, dy: Num, gamma: Num, saveMean: Num, saveInvStd: Num, dx: Num, dgamma: Num, dbeta: Num, p: BatchNormParams, accumulate: boolean,
): void {
  const count = p.n * p.spatial;
  for (let c = 0; c < p.c; c++) {
    const mean = saveMean[c];
    const invStd = saveInvStd[c];
    let sumDy = 0;
    let sumDyXhat = 0;
    for (let o = 0; o < p.n; o++)
      for (let s = 0; s < p.spatial; s++) {
        const i = index(p, o, c, s);
        sumDy += dy[i];
        sumDyXhat += dy[i] * (x[i] - mean) * invStd;
      }
    const k = (gamma[c] * invStd) / count;
    for (let o = 0; o < p.n; o++)
      for (let s = 0; s < p.spatial; s++) {
        const i = index(p, o, c, s);
        const xhat = (x[i] - mean) * invStd;
        dx[i] = k * (count * dy[i] - sumDy - xhat * sumDyXhat);
      }
    dgamma[c] = accumulate ? dgamma[c] + sumDyXhat : sumDyXhat;
    dbeta[c] = accumulate ? dbeta[c] + sumDy : sumDy;
  }
}
