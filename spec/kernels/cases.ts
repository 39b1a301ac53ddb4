// THE conformance table: every kernel of the Backend contract, forward and backward, on odd
// shapes (batch 1, 3x5 images, 7 channels, kernels 1..5, stride 1 and 2, pad 0..2, every matmul
// transpose, accumulate on and off, fused ReLU...). conformance.test.ts runs it on every available
// backend against ref; the kernel benchmarks time the same cases (and `seedCnnShapes` first).
//
// Using a case (any backend):
//   const inst = kernelCase.setup(backend);   // allocates + uploads inputs from the case's seed
//   inst.run();                               // enqueues the kernel once (repeatable)
//   await backend.flush();
//   const outputs = await inst.read();        // { [output name]: Float32Array | Int32Array }
//   inst.dispose();
// and compare with `compareOutput(name, kernelCase.outputs[name], got, want)`.

import type { KernelCase } from './case-kit.ts';
import { convCases, matmulCases } from './cases-dense.ts';
import { dropoutCases, elementwiseCases, optimizerCases, softmaxCases } from './cases-misc.ts';
import { batchNormCases, poolCases } from './cases-norm-pool.ts';
import { fusedCases } from './cases-fused.ts';
import { conv2dMaxPoolCases } from './cases-conv-pool.ts';
import { winogradCases } from './cases-winograd.ts';

export {
  DEFAULT_TOLERANCE, compareOutput, defineCase, normalizedMaxError, bytes,
  type CaseInstance, type Comparison, type ComparisonResult, type HostData, type KernelCase, type KernelName,
} from './case-kit.ts';
export { seedCnnBatches, seedCnnCases, seedCnnShapes, SEED_CNN_PARAMS } from './seed-cnn-cases.ts';
export { CaseRng, seedFromName } from './rng.ts';
export { checkCase, runCase, type CaseCheck } from './run-case.ts';

export const kernelCases: readonly KernelCase[] = [
  ...elementwiseCases(),
  ...matmulCases(),
  ...convCases(),
  ...winogradCases(),
  ...batchNormCases(),
  ...poolCases(),
  ...fusedCases(),
  ...conv2dMaxPoolCases(),
  ...dropoutCases(),
  ...softmaxCases(),
  ...optimizerCases(),
];
