// The model catalog lives in the library (src/nn/models/catalog.ts) so that the service can build a
// model without importing the trainer; training/ callers keep this path.
export { dropoutSteps, MODELS, modelSpec, setDropoutSteps, type ModelSpec } from '../src/nn/models/catalog.ts';
