// The tensor layer's public API. Backends come from ./backends/registry.ts (createBackend).
export type * from './backend.ts';
export { convOutputSize, poolOutputSize } from './backend.ts';
export { Tensor, shapeSize, type TensorOptions } from './tensor.ts';
export { noGrad, isGradEnabled, tidy, keep } from './autograd.ts';
export { scopeDepth } from './scope.ts';
export * as F from './ops/index.ts';
export * from './modules/index.ts';
export * from './optim/index.ts';
export { Rng, shuffle, permutation, kaimingUniform, biasUniform, fanIn, fillUniform } from './random.ts';
export {
  encodeSafetensors,
  decodeSafetensors,
  readSafetensors,
  writeSafetensors,
  saveModule,
  loadModuleWeights,
  type SafetensorsFile,
  type SafetensorsDType,
} from './safetensors.ts';
export { RunningMetrics, type MetricsSnapshot } from './running-metrics.ts';
export { classifierStep } from './classifier-step.ts';
export { createSeedCnn, SEED_CNN_PARAMETERS, type SeedCnnOptions } from './models/seed-cnn.ts';
export { createBackend, backendNames, registeredBackendNames, probeBackend, type BackendName } from './backends/registry.ts';
