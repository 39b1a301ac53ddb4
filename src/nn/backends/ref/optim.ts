// Optimizer updates, in place on the parameter and its state (PyTorch's formulas):
// SGD: g = grad + wd·p; with momentum μ: v = μ·v + (1 − dampening)·g, g = nesterov ? g + μ·v : v;
//      p −= lr·g. (v starts at whatever the caller put there — zeros; see the note in README.)
// Adam: g = grad + wd·p.  AdamW: p −= lr·wd·p first, g = grad.
//      m = β1·m + (1 − β1)·g; v = β2·v + (1 − β2)·g²;
//      p −= lr · (m / (1 − β1^t)) / (sqrt(v / (1 − β2^t)) + eps).

import type { AdamParams, SgdParams } from '../../backend.ts';
import type { Num } from './numeric.ts';

export function sgdStep(param: Num, grad: Num, velocity: Num | null, p: SgdParams): void {
  for (let i = 0; i < param.length; i++) {
    let g = grad[i] + p.weightDecay * param[i];
    if (p.momentum !== 0) {
      if (!velocity) throw new Error('sgdStep: momentum != 0 needs a velocity buffer');
      const v = p.momentum * velocity[i] + (1 - p.dampening) * g;
      velocity[i] = v;
      g = p.nesterov ? g + p.momentum * v : v;
    }
    param[i] = param[i] - p.lr * g;
  }
}

export function adamStep(param: Num, grad: Num, m: Num, v: Num, p: AdamParams): void {
  const bias1 = 1 - Math.pow(p.beta1, p.step);
  const bias2 = 1 - Math.pow(p.beta2, p.step);
  for (let i = 0; i < param.length; i++) {
    let w = param[i];
    let g = grad[i];
    if (p.decoupled) w = w - p.lr * p.weightDecay * w;
    else g = g + p.weightDecay * w;
    const mi = p.beta1 * m[i] + (1 - p.beta1) * g;
    const vi = p.beta2 * v[i] + (1 - p.beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i] = w - (p.lr * (mi / bias1)) / (Math.sqrt(vi / bias2) + p.eps);
  }
}
