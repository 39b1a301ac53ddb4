// Errors every backend shares. Additive to the contract in backend.ts.

/** Thrown by a backend for a kernel (or a variant of one) it does not implement. The conformance
 *  table reports it as a failing case naming the op, so a missing kernel never passes silently. */
export class UnsupportedOpError extends Error {
  readonly backend: string;
  readonly op: string;

  constructor(backend: string, op: string, detail?: string) {
    super(`backend "${backend}" does not implement ${op}${detail ? ` (${detail})` : ''}`);
    this.name = 'UnsupportedOpError';
    this.backend = backend;
    this.op = op;
  }
}
