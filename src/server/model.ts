// The service's models come from src/model/: folders (folder.ts), identity (identity.ts), loading
// and inference with the "not a digit" detector (runtime.ts), several models and hot reload
// (registry.ts). This file keeps the names the service and its tests import.
import { defaultModelFolder } from '../model/folder.ts';

export { cardSchema, type Card } from '../model/folder.ts';
export { loadModel, createBackendOrRef as createServingBackend, type LoadedModel } from '../model/runtime.ts';

/** The folder served when none is chosen (see defaultModelFolder). */
export function findModelDir(dir: string): string {
  return defaultModelFolder(dir).dir;
}
