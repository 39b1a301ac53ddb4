// ONNX messages (onnx/onnx.proto3) as protobuf bytes, built with protobuf.ts. Only the fields an
// exported inference graph needs; field numbers as in the .proto file.
import { fieldBytes, fieldFloat, fieldPackedFloats, fieldPackedVarints, fieldString, fieldVarint, message, type Bytes } from './protobuf.ts';

export const DataType = { FLOAT: 1, INT64: 7 } as const;
const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

export type AttributeValue = number | string | number[] | { float: number };

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name: string;
  attributes?: Record<string, AttributeValue>;
}

/** AttributeProto: name 1, f 2, i 3, s 4, floats 7, ints 8, type 20. Integers become INT(S);
 *  `{ float: x }` a FLOAT. */
export function attribute(name: string, v: AttributeValue): Bytes {
  if (typeof v === 'string') return message([fieldString(1, name), fieldBytes(4, new TextEncoder().encode(v)), fieldVarint(20, AttributeType.STRING)]);
  if (Array.isArray(v)) return message([fieldString(1, name), fieldPackedVarints(8, v), fieldVarint(20, AttributeType.INTS)]);
  if (typeof v === 'object') return message([fieldString(1, name), fieldFloat(2, v.float), fieldVarint(20, AttributeType.FLOAT)]);
  if (!Number.isInteger(v)) throw new Error(`ONNX attribute ${name}: ${v} is not an integer; pass { float: ${v} } for a FLOAT`);
  return message([fieldString(1, name), fieldVarint(3, v), fieldVarint(20, AttributeType.INT)]);
}

/** NodeProto: input 1, output 2, name 3, op_type 4, attribute 5. */
export function node(n: NodeSpec): Bytes {
  return message([
    ...n.inputs.map((i) => fieldString(1, i)),
    ...n.outputs.map((o) => fieldString(2, o)),
    fieldString(3, n.name),
    fieldString(4, n.op),
    ...Object.entries(n.attributes ?? {}).map(([k, v]) => fieldBytes(5, attribute(k, v))),
  ]);
}

/** TensorProto (float): dims 1, data_type 2, name 8, raw_data 9 (little-endian float32). */
export function floatTensor(name: string, dims: readonly number[], data: Float32Array): Bytes {
  const raw = new Uint8Array(data.length * 4);
  const dv = new DataView(raw.buffer);
  for (let i = 0; i < data.length; i++) dv.setFloat32(i * 4, data[i], true);
  return message([fieldPackedVarints(1, dims), fieldVarint(2, DataType.FLOAT), fieldString(8, name), fieldBytes(9, raw)]);
}

/** A scalar float tensor stored as float_data (field 4). */
export function floatScalar(name: string, value: number): Bytes {
  return message([fieldVarint(2, DataType.FLOAT), fieldPackedFloats(4, [value]), fieldString(8, name)]);
}

/** ValueInfoProto for a float tensor; a string dim is symbolic (dim_param), a number fixed. */
export function valueInfo(name: string, dims: readonly (number | string)[]): Bytes {
  const shape = message(dims.map((d) => fieldBytes(1, typeof d === 'string' ? fieldString(2, d) : fieldVarint(1, d))));
  const tensorType = message([fieldVarint(1, DataType.FLOAT), fieldBytes(2, shape)]);
  const type = fieldBytes(1, tensorType);
  return message([fieldString(1, name), fieldBytes(2, type)]);
}

export interface GraphSpec {
  name: string;
  nodes: Bytes[];
  initializers: Bytes[];
  inputs: Bytes[];
  outputs: Bytes[];
  doc?: string;
}

/** GraphProto: node 1, name 2, initializer 5, doc_string 10, input 11, output 12. */
export function graph(g: GraphSpec): Bytes {
  return message([
    ...g.nodes.map((n) => fieldBytes(1, n)),
    fieldString(2, g.name),
    ...g.initializers.map((t) => fieldBytes(5, t)),
    g.doc ? fieldString(10, g.doc) : null,
    ...g.inputs.map((v) => fieldBytes(11, v)),
    ...g.outputs.map((v) => fieldBytes(12, v)),
  ]);
}

export interface ModelSpec {
  irVersion: number;
  opset: number;
  producer: string;
  producerVersion: string;
  graph: Bytes;
  doc?: string;
  metadata?: Record<string, string>;
}

/** ModelProto: ir_version 1, producer_name 2, producer_version 3, doc_string 6, graph 7,
 *  opset_import 8 (OperatorSetIdProto: domain 1, version 2), metadata_props 14. */
export function model(m: ModelSpec): Bytes {
  return message([
    fieldVarint(1, m.irVersion),
    fieldString(2, m.producer),
    fieldString(3, m.producerVersion),
    m.doc ? fieldString(6, m.doc) : null,
    fieldBytes(7, m.graph),
    fieldBytes(8, message([fieldString(1, ''), fieldVarint(2, m.opset)])),
    ...Object.entries(m.metadata ?? {}).map(([k, v]) => fieldBytes(14, message([fieldString(1, k), fieldString(2, v)]))),
  ]);
}
