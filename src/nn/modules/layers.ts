// Layers with parameters: Conv2d, Linear, BatchNorm2d, BatchNorm1d. Init follows PyTorch's
// defaults from a seeded Rng: conv/linear weights kaiming_uniform(a = sqrt(5)) (bound
// 1/sqrt(fan_in)), biases uniform(±1/sqrt(fan_in)); batchnorm γ = 1, β = 0, running_mean = 0,
// running_var = 1, num_batches_tracked = 0.
//
// Conv2d, Linear and BatchNorm can run with a ReLU fused into their output (`forwardRelu`);
// Sequential uses it when a ReLU follows them.

import type { DeviceBuffer } from '../backend.ts';
import { batchNorm } from '../ops/batchnorm.ts';
import { batchNormMaxPool2d } from '../ops/batchnorm-pool.ts';
import { conv2d } from '../ops/conv.ts';
import { convBatchNormMaxPool2d, convBatchNormMaxPoolFuses, type ConvBatchNormMaxPoolOptions } from '../ops/conv-batchnorm-pool.ts';
import { releaseFold } from './fold.ts';
import { linear } from '../ops/linear.ts';
import { biasUniform, fanIn, kaimingUniform, type Rng } from '../random.ts';
import { keep } from '../scope.ts';
import { Tensor } from '../tensor.ts';
import type { Backend } from '../backend.ts';
import { Module, uploadInto, type HostTensor } from './module.ts';

/** A module whose forward can end in a fused ReLU. */
export interface ReluFusable {
  forwardRelu(x: Tensor): Tensor;
}

export function isReluFusable(m: Module): m is Module & ReluFusable {
  return typeof (m as Partial<ReluFusable>).forwardRelu === 'function';
}

export interface Conv2dOptions {
  stride?: number;
  pad?: number;
  bias?: boolean;
  rng: Rng;
}

export class Conv2d extends Module implements ReluFusable {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly stride: number;
  readonly pad: number;

  constructor(backend: Backend, inChannels: number, outChannels: number, kernelSize: number, opts: Conv2dOptions) {
    super(backend);
    const shape = [outChannels, inChannels, kernelSize, kernelSize];
    this.stride = opts.stride ?? 1;
    this.pad = opts.pad ?? 0;
    this.weight = this.addParameter('weight', kaimingUniform(shape, opts.rng), shape);
    this.bias = (opts.bias ?? true) ? this.addParameter('bias', biasUniform(outChannels, fanIn(shape), opts.rng), [outChannels]) : null;
  }

  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, { stride: this.stride, pad: this.pad });
  }

  forwardRelu(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, { stride: this.stride, pad: this.pad, activation: 'relu' });
  }

  override dispose(): void {
    releaseFold(this);
    super.dispose();
  }
}

export interface LinearOptions {
  bias?: boolean;
  rng: Rng;
}

export class Linear extends Module implements ReluFusable {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(backend: Backend, inFeatures: number, outFeatures: number, opts: LinearOptions) {
    super(backend);
    const shape = [outFeatures, inFeatures];
    this.weight = this.addParameter('weight', kaimingUniform(shape, opts.rng), shape);
    this.bias = (opts.bias ?? true) ? this.addParameter('bias', biasUniform(outFeatures, inFeatures, opts.rng), [outFeatures]) : null;
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }

  forwardRelu(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias, { activation: 'relu' });
  }
}

export interface BatchNormModuleOptions {
  eps?: number;
  momentum?: number;
}

abstract class BatchNormBase extends Module implements ReluFusable {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  readonly eps: number;
  readonly momentum: number;
  /** Training forwards so far. Counted on the host (no device work per step); written into the
   *  num_batches_tracked buffer only when buffers are read. */
  numBatchesTracked = 0;
  private readonly numBatchesTensor: Tensor;

  constructor(backend: Backend, numFeatures: number, opts: BatchNormModuleOptions = {}) {
    super(backend);
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum ?? 0.1;
    this.weight = this.addParameter('weight', new Float32Array(numFeatures).fill(1), [numFeatures]);
    this.bias = this.addParameter('bias', new Float32Array(numFeatures), [numFeatures]);
    this.runningMean = keep(Tensor.zeros(backend, [numFeatures]));
    this.runningVar = keep(Tensor.full(backend, [numFeatures], 1));
    this.numBatchesTensor = keep(Tensor.zeros(backend, [], { dtype: 'i32' }));
  }

  protected abstract checkInput(x: Tensor): void;

  /** num_batches_tracked is counted on the host; its tensor gets the count when buffers are read. */
  protected override syncBuffers(): void {
    if (!this.numBatchesTensor.disposed) {
      this.backend.upload(this.numBatchesTensor.buffer as DeviceBuffer<'i32'>, Int32Array.of(this.numBatchesTracked));
    }
  }

  protected override ownBuffers(): [string, Tensor][] {
    return [
      ['running_mean', this.runningMean],
      ['running_var', this.runningVar],
      ['num_batches_tracked', this.numBatchesTensor],
    ];
  }

  protected override loadBuffer(name: string, value: HostTensor, target: Tensor): void {
    uploadInto(target, value, name);
    if (name === 'num_batches_tracked') this.numBatchesTracked = Number(value.data[0]);
  }

  private run(x: Tensor, activation: 'none' | 'relu'): Tensor {
    this.checkInput(x);
    if (this.training) this.numBatchesTracked++;
    return batchNorm(x, this.weight, this.bias, this.runningMean, this.runningVar, {
      training: this.training,
      momentum: this.momentum,
      eps: this.eps,
      activation,
    });
  }

  forward(x: Tensor): Tensor {
    return this.run(x, 'none');
  }

  forwardRelu(x: Tensor): Tensor {
    return this.run(x, 'relu');
  }
}

/** BatchNorm over [N, C, H, W]. */
export class BatchNorm2d extends BatchNormBase {
  protected checkInput(x: Tensor): void {
    if (x.shape.length !== 4) throw new Error(`BatchNorm2d: input must be [N, C, H, W], got [${x.shape.join(', ')}]`);
  }

  /** Training forward fused with the activation and a following max pool (one kernel that never
   *  stores the normalised tensor); Sequential uses it for BatchNorm2d → ReLU → MaxPool2d. */
  forwardMaxPool(x: Tensor, activation: 'none' | 'relu', kernel: number, stride: number): Tensor {
    if (!this.training) throw new Error('BatchNorm2d.forwardMaxPool: only in training mode (eval folds the batch norm into the convolution)');
    this.checkInput(x);
    this.numBatchesTracked++;
    return batchNormMaxPool2d(x, this.weight, this.bias, this.runningMean, this.runningVar, {
      momentum: this.momentum, eps: this.eps, activation, kernel, stride,
    });
  }

  /** Training forward of conv → this batch norm → activation → max pool as one fused op whose
   *  input gets no gradient (ops/conv-batchnorm-pool.ts); Sequential uses it for a first layer. */
  forwardConvMaxPool(conv: Conv2d, x: Tensor, activation: 'none' | 'relu', kernel: number, stride: number): Tensor {
    if (!this.training) throw new Error('BatchNorm2d.forwardConvMaxPool: only in training mode (eval folds the batch norm into the convolution)');
    this.numBatchesTracked++;
    return convBatchNormMaxPool2d(x, conv.weight, conv.bias, this.weight, this.bias, this.runningMean, this.runningVar,
      this.convMaxPoolOptions(conv, activation, kernel, stride));
  }

  /** Whether forwardConvMaxPool runs as one kernel on this backend for x (else Sequential keeps the
   *  unfused layers: the composed op would recompute the convolution in its backward). */
  fusesConvMaxPool(conv: Conv2d, x: Tensor, activation: 'none' | 'relu', kernel: number, stride: number): boolean {
    return convBatchNormMaxPoolFuses(x, conv.weight, conv.bias, this.weight, this.bias, this.runningMean, this.runningVar,
      this.convMaxPoolOptions(conv, activation, kernel, stride));
  }

  private convMaxPoolOptions(conv: Conv2d, activation: 'none' | 'relu', kernel: number, stride: number): ConvBatchNormMaxPoolOptions {
    return { stride: conv.stride, pad: conv.pad, momentum: this.momentum, eps: this.eps, activation, poolKernel: kernel, poolStride: stride };
  }
}

/** BatchNorm over [N, C] or [N, C, L]. */
export class BatchNorm1d extends BatchNormBase {
  protected checkInput(x: Tensor): void {
    if (x.shape.length !== 2 && x.shape.length !== 3) {
      throw new Error(`BatchNorm1d: input must be [N, C] or [N, C, L], got [${x.shape.join(', ')}]`);
    }
  }
}
