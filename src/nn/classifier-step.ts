// One supervised training step of a classifier, as the benchmarks and the training checks run it.

import { tidy } from './autograd.ts';
import type { Module } from './modules/module.ts';
import * as F from './ops/index.ts';
import type { Optimizer } from './optim/optimizer.ts';
import type { Tensor } from './tensor.ts';

/** Gradients zeroed, softmax cross-entropy of model(x) against the labels y, backward, the
 *  optimizer's step. Returns the loss, which the caller reads and disposes; every other tensor of
 *  the step is freed. */
export function classifierStep(model: Module, optimizer: Optimizer, x: Tensor, y: Tensor): Tensor {
  return tidy(() => {
    optimizer.zeroGrad();
    const loss = F.softmaxCrossEntropy(model.forward(x), y);
    loss.backward();
    optimizer.step();
    return loss;
  });
}
