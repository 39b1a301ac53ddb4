// The smallest protobuf encoder that ONNX needs: varints, 32-bit floats, length-delimited fields
// (strings, bytes, nested messages, packed repeated numbers). A message is built as a list of
// already-encoded fields; nothing is reflected from a schema (onnx.ts names the field numbers).
//
// Wire format: each field is a key varint (field_number << 3 | wire_type) then its payload;
// wire type 0 = varint, 2 = length-delimited, 5 = 32-bit little-endian.

export type Bytes = Uint8Array;

const textEncoder = new TextEncoder();

export function varint(value: number | bigint): Bytes {
  let v = BigInt.asUintN(64, BigInt(value)); // negative int64 → two's complement, 10 bytes
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    out.push(byte);
  } while (v !== 0n);
  return Uint8Array.from(out);
}

export function concat(parts: Bytes[]): Bytes {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const key = (field: number, wire: number) => varint((field << 3) | wire);

/** An int32/int64/enum/bool field. */
export function fieldVarint(field: number, value: number | bigint): Bytes {
  return concat([key(field, 0), varint(value)]);
}

export function fieldFloat(field: number, value: number): Bytes {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, value, true);
  return concat([key(field, 5), b]);
}

/** bytes, or a nested message's encoding. */
export function fieldBytes(field: number, value: Bytes): Bytes {
  return concat([key(field, 2), varint(value.length), value]);
}

export function fieldString(field: number, value: string): Bytes {
  return fieldBytes(field, textEncoder.encode(value));
}

/** Packed repeated int64 (proto3's default for repeated scalars). */
export function fieldPackedVarints(field: number, values: readonly (number | bigint)[]): Bytes {
  return fieldBytes(field, concat(values.map((v) => varint(v))));
}

/** Packed repeated float. */
export function fieldPackedFloats(field: number, values: ArrayLike<number>): Bytes {
  const b = new Uint8Array(values.length * 4);
  const dv = new DataView(b.buffer);
  for (let i = 0; i < values.length; i++) dv.setFloat32(i * 4, values[i], true);
  return fieldBytes(field, b);
}

export function message(fields: (Bytes | null | undefined)[]): Bytes {
  return concat(fields.filter((f): f is Bytes => f != null));
}
