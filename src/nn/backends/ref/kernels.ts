// Every ref kernel in one namespace (generic over Float32Array | Float64Array).
export * from './elementwise.ts';
export * from './matmul.ts';
export * from './conv.ts';
export * from './batchnorm.ts';
export * from './pool.ts';
export * from './fused.ts';
export * from './dropout.ts';
export * from './softmax.ts';
export * from './optim.ts';
