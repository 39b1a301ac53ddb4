// Shape and dtype checks shared by the ops: bad input fails here, before any kernel, with the
// op's name and what to change.

import type { DeviceBuffer } from '../backend.ts';
import type { Tensor } from '../tensor.ts';

export function fmt(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export function requireF32(op: string, name: string, t: Tensor): void {
  t.assertAlive(op);
  if (t.dtype !== 'f32') throw new Error(`${op}: ${name} must be f32, got ${t.dtype}`);
}

export function requireRank(op: string, name: string, t: Tensor, ranks: readonly number[]): void {
  requireF32(op, name, t);
  if (!ranks.includes(t.shape.length)) {
    throw new Error(`${op}: ${name} must have rank ${ranks.join(' or ')}, got shape ${fmt(t.shape)}`);
  }
}

export function requireSameShape(op: string, a: Tensor, b: Tensor): void {
  requireF32(op, 'a', a);
  requireF32(op, 'b', b);
  const sa = a.shape;
  const sb = b.shape;
  let same = sa.length === sb.length;
  for (let i = 0; same && i < sa.length; i++) same = sa[i] === sb[i];
  if (!same) throw new Error(`${op}: shapes ${fmt(sa)} and ${fmt(sb)} differ (elementwise ops do not broadcast)`);
}

export function requireShape(op: string, name: string, t: Tensor, shape: readonly number[]): void {
  requireF32(op, name, t);
  let same = t.shape.length === shape.length;
  for (let i = 0; same && i < shape.length; i++) same = t.shape[i] === shape[i];
  if (!same) throw new Error(`${op}: ${name} must have shape ${fmt(shape)}, got ${fmt(t.shape)}`);
}

export function requireSameBackend(op: string, a: Tensor, b: Tensor | null): void {
  if (b !== null && b.backend !== a.backend) {
    throw new Error(`${op}: tensors live on different backends (${a.backend.name} and ${b.backend.name}); move one first`);
  }
}

/** A tensor's buffer as f32 (ops check the dtype first). */
export function f32(t: Tensor): DeviceBuffer<'f32'> {
  return t.buffer as DeviceBuffer<'f32'>;
}
