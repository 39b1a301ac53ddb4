// A model's identity: its name (the folder's name) plus a content hash of its weights file, so
// that two models trained the same day from the same commit never share a version, and a logged
// prediction names exactly the bytes that made it. `sha256sum model.safetensors` shows the same
// hash: the version is `NAME@` + its first 12 hex digits.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** Hex digits of the SHA-256 kept in the version (48 bits: collisions need ~16 million models). */
export const VERSION_HASH_DIGITS = 12;

export interface ModelIdentity {
  /** The model folder's name: what `INKLING_MODEL`, `?model=` and `--model` select by. */
  name: string;
  /** SHA-256 of the weights file, hex (64 digits). */
  sha256: string;
  /** `name@` + the first 12 hex digits of sha256. */
  version: string;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function modelVersion(name: string, sha256: string): string {
  return `${name}@${sha256.slice(0, VERSION_HASH_DIGITS)}`;
}

export function identityOf(name: string, weightsBytes: Uint8Array): ModelIdentity {
  const sha256 = sha256Hex(weightsBytes);
  return { name, sha256, version: modelVersion(name, sha256) };
}

export function identityOfFile(name: string, weightsPath: string): ModelIdentity {
  return identityOf(name, readFileSync(weightsPath));
}
