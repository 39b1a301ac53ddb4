export { Module, uploadInto, type HostTensor, type StateDict, type LoadStateDictOptions } from './module.ts';
export { Conv2d, Linear, BatchNorm2d, BatchNorm1d, isReluFusable, type ReluFusable, type Conv2dOptions, type LinearOptions, type BatchNormModuleOptions } from './layers.ts';
export { ReLU, MaxPool2d, AvgPool2d, GlobalAvgPool2d, Flatten, Dropout, Dropout2d, type DropoutModuleOptions } from './simple.ts';
export { Sequential, type SequentialEntry } from './sequential.ts';
