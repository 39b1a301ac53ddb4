// The functional ops, exported from src/nn/index.ts as the namespace F.
export { add, sub, mul, scale, relu } from './elementwise.ts';
export { conv2d, conv2dMaxPool, type Conv2dOptions, type Conv2dMaxPoolOptions } from './conv.ts';
export { linear, matmul, type LinearOptions } from './linear.ts';
export { maxPool2d, avgPool2d, globalAvgPool2d, type Pool2dOptions } from './pool.ts';
export { batchNorm, type BatchNormOptions } from './batchnorm.ts';
export { batchNormMaxPool2d, type BatchNormMaxPoolOptions } from './batchnorm-pool.ts';
export { convBatchNormMaxPool2d, type ConvBatchNormMaxPoolOptions } from './conv-batchnorm-pool.ts';
export { dropout, type DropoutOptions } from './dropout.ts';
export { softmaxCrossEntropy, softmax, logSoftmax, type CrossEntropyOptions, type SoftmaxOptions } from './softmax.ts';
export { sum, mean, argmax, flatten, reshape } from './reduce.ts';
