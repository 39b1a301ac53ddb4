export { Optimizer, type OptimizerStateDict, type ParamsInput } from './optimizer.ts';
export { SGD, type SgdOptions } from './sgd.ts';
export { Adam, AdamW, type AdamOptions } from './adam.ts';
