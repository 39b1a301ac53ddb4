// Loads a module of the browser UI (plain ES modules under web/, no build step) into Node for
// the unit tests. The UI is JavaScript with JSDoc types, which this TypeScript project does not
// type-check; each test states the part of the module's shape it relies on.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export async function loadWebModule<T>(relative: string): Promise<T> {
  return (await import(pathToFileURL(path.join(repoRoot, 'web', relative)).href)) as T;
}
