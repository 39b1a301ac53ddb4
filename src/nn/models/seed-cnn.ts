// The seed CNN, the reference model of the project (421,834 parameters):
//   conv1 3x3 1→32 pad 1 → bn1 → ReLU → maxpool 2      [N, 32, 14, 14]
//   conv2 3x3 32→64 pad 1 → bn2 → ReLU → maxpool 2     [N, 64, 7, 7]
//   dropout2d 0.25 → flatten 3136 → fc1 128 → ReLU → dropout 0.5 → fc2 10
// Input [N, 1, 28, 28] float32, MNIST-normalised ((x/255 − 0.1307)/0.3081); output logits [N, 10].
// It is a named Sequential, so its state_dict names are PyTorch's for
//   nn.Sequential(OrderedDict(conv1=..., bn1=..., relu1=..., pool1=..., ...))
// (conv1.weight, bn1.running_mean, fc2.bias...); BN+ReLU and fc1+ReLU run fused.

import type { Backend } from '../backend.ts';
import { BatchNorm2d, Conv2d, Linear } from '../modules/layers.ts';
import { Sequential } from '../modules/sequential.ts';
import { Dropout, Dropout2d, Flatten, MaxPool2d, ReLU } from '../modules/simple.ts';
import { Rng } from '../random.ts';

export const SEED_CNN_PARAMETERS = 421834;

export interface SeedCnnOptions {
  /** Seeds the weight init and the two dropout layers' masks. */
  seed: number;
}

export function createSeedCnn(backend: Backend, opts: SeedCnnOptions): Sequential {
  const rng = new Rng(opts.seed);
  const dropSeed1 = rng.nextU32();
  const dropSeed2 = rng.nextU32();
  return new Sequential(backend, [
    ['conv1', new Conv2d(backend, 1, 32, 3, { pad: 1, rng })],
    ['bn1', new BatchNorm2d(backend, 32)],
    ['relu1', new ReLU(backend)],
    ['pool1', new MaxPool2d(backend, 2)],
    ['conv2', new Conv2d(backend, 32, 64, 3, { pad: 1, rng })],
    ['bn2', new BatchNorm2d(backend, 64)],
    ['relu2', new ReLU(backend)],
    ['pool2', new MaxPool2d(backend, 2)],
    ['drop1', new Dropout2d(backend, 0.25, { seed: dropSeed1 })],
    ['flatten', new Flatten(backend)],
    ['fc1', new Linear(backend, 3136, 128, { rng })],
    ['relu3', new ReLU(backend)],
    ['drop2', new Dropout(backend, 0.5, { seed: dropSeed2 })],
    ['fc2', new Linear(backend, 128, 10, { rng })],
  ]);
}
