// safetensors (https://github.com/huggingface/safetensors), the format PyTorch and Hugging Face
// load without executing code:
//   [8 bytes: header length N, u64 little-endian][N bytes: JSON header][raw data]
// The header maps each tensor name to {dtype, shape, data_offsets: [begin, end]} (byte offsets into
// the data section) and may hold "__metadata__": a string → string map. We pad the header with
// spaces so the data starts 8-byte aligned, and write tensors in name order, densely packed.
// Data is little-endian, row-major.

import { readFile, writeFile, rename } from 'node:fs/promises';
import type { HostTensor, StateDict } from './modules/module.ts';
import type { Module } from './modules/module.ts';

export type SafetensorsDType = 'F32' | 'I32' | 'I64' | 'F64' | 'U8';

export interface SafetensorsFile {
  tensors: Record<string, HostTensor>;
  metadata: Record<string, string>;
}

const itemSize: Record<SafetensorsDType, number> = { F32: 4, I32: 4, I64: 8, F64: 8, U8: 1 };

const toFileDType: Record<HostTensor['dtype'], SafetensorsDType> = { f32: 'F32', i32: 'I32', i64: 'I64' };

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function bytesOf(t: HostTensor): Uint8Array {
  const d = t.data;
  const bytes = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  if (LITTLE_ENDIAN) return bytes;
  // big-endian host: swap each element into little-endian order
  const size = d.BYTES_PER_ELEMENT;
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += size) for (let j = 0; j < size; j++) out[i + j] = bytes[i + size - 1 - j];
  return out;
}

/** Encodes tensors (and string metadata) as a safetensors byte array. */
export function encodeSafetensors(tensors: Record<string, HostTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') throw new Error(`safetensors: metadata value for "${k}" must be a string, got ${typeof v}`);
  }
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  const chunks: Uint8Array[] = [];
  for (const name of names) {
    if (name === '__metadata__') throw new Error('safetensors: "__metadata__" cannot name a tensor');
    const t = tensors[name];
    const n = t.shape.reduce((p, d) => p * d, 1);
    if (n !== t.data.length) throw new Error(`safetensors: "${name}" has ${t.data.length} values for shape [${t.shape.join(', ')}]`);
    const bytes = bytesOf(t);
    header[name] = { dtype: toFileDType[t.dtype], shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  const jsonBytesLen = Buffer.byteLength(json, 'utf8');
  const padded = Math.ceil((8 + jsonBytesLen) / 8) * 8 - 8;
  json += ' '.repeat(padded - jsonBytesLen);
  const out = new Uint8Array(8 + padded + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(Buffer.from(json, 'utf8'), 8);
  let pos = 8 + padded;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.length;
  }
  return out;
}

function corrupt(what: string): Error {
  return new Error(`safetensors: ${what}`);
}

/** Little-endian bytes → a fresh, aligned typed array of the element type. */
function readElements(bytes: Uint8Array, dtype: SafetensorsDType): Float32Array | Int32Array | BigInt64Array | Float64Array | Uint8Array {
  const copy = bytes.slice(); // aligned, owned
  const size = itemSize[dtype];
  if (!LITTLE_ENDIAN && size > 1) {
    for (let i = 0; i < copy.length; i += size) copy.subarray(i, i + size).reverse();
  }
  switch (dtype) {
    case 'F32':
      return new Float32Array(copy.buffer);
    case 'I32':
      return new Int32Array(copy.buffer);
    case 'I64':
      return new BigInt64Array(copy.buffer);
    case 'F64':
      return new Float64Array(copy.buffer);
    case 'U8':
      return copy;
  }
}

/** Decodes a safetensors byte array. F64 tensors become f32 and U8 become i32 (what our tensors
 *  hold); F32, I32 and I64 keep their type. Truncated or inconsistent files throw. */
export function decodeSafetensors(bytes: Uint8Array): SafetensorsFile {
  if (bytes.length < 8) throw corrupt(`the file is ${bytes.length} bytes, too short for the 8-byte header length (truncated?)`);
  const headerLen = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  if (headerLen > BigInt(bytes.length - 8)) {
    throw corrupt(`the header claims ${headerLen} bytes but only ${bytes.length - 8} follow (truncated or not a safetensors file)`);
  }
  const n = Number(headerLen);
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, n).toString('utf8'));
  } catch (e) {
    throw corrupt(`the header is not valid JSON (${(e as Error).message}); the file is corrupt or not safetensors`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw corrupt('the header must be a JSON object');
  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const tensors: Record<string, HostTensor> = {};
  const ranges: [number, number, string][] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (entry === null || typeof entry !== 'object') throw corrupt('"__metadata__" must be an object of strings');
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== 'string') throw corrupt(`"__metadata__.${k}" must be a string`);
        metadata[k] = v;
      }
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== 'object' || e === null) throw corrupt(`"${name}" is not a tensor entry`);
    const dtype = e.dtype as SafetensorsDType;
    if (typeof dtype !== 'string' || !(dtype in itemSize)) {
      throw corrupt(`"${name}" has dtype ${JSON.stringify(e.dtype)}; supported: ${Object.keys(itemSize).join(', ')}`);
    }
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw corrupt(`"${name}" has a bad shape ${JSON.stringify(shape)}`);
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isInteger(o) && o >= 0) || offs[0] > offs[1]) {
      throw corrupt(`"${name}" has bad data_offsets ${JSON.stringify(offs)}`);
    }
    const [begin, end] = offs as [number, number];
    const count = (shape as number[]).reduce((p, d) => p * d, 1);
    if (end - begin !== count * itemSize[dtype]) {
      throw corrupt(`"${name}": shape [${shape.join(', ')}] of ${dtype} needs ${count * itemSize[dtype]} bytes, data_offsets give ${end - begin}`);
    }
    if (end > dataLen) throw corrupt(`"${name}" ends at byte ${end} of the data but the data has ${dataLen} bytes (truncated file)`);
    ranges.push([begin, end, name]);
    const raw = readElements(bytes.subarray(dataStart + begin, dataStart + end), dtype);
    const s = shape as number[];
    if (raw instanceof Float32Array) tensors[name] = { dtype: 'f32', shape: s, data: raw };
    else if (raw instanceof Float64Array) tensors[name] = { dtype: 'f32', shape: s, data: Float32Array.from(raw) };
    else if (raw instanceof Int32Array) tensors[name] = { dtype: 'i32', shape: s, data: raw };
    else if (raw instanceof BigInt64Array) tensors[name] = { dtype: 'i64', shape: s, data: raw };
    else tensors[name] = { dtype: 'i32', shape: s, data: Int32Array.from(raw) };
  }
  ranges.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i][0] < ranges[i - 1][1]) throw corrupt(`tensors "${ranges[i - 1][2]}" and "${ranges[i][2]}" overlap in the data`);
  }
  return { tensors, metadata };
}

export async function writeSafetensors(path: string, tensors: Record<string, HostTensor>, metadata: Record<string, string> = {}): Promise<void> {
  // write then rename: a crash mid-write never leaves a truncated file under the real name
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, encodeSafetensors(tensors, metadata));
  await rename(tmp, path);
}

export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  const buf = await readFile(path);
  try {
    return decodeSafetensors(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** Saves a module's state_dict (parameters and buffers, PyTorch names) as safetensors. */
export async function saveModule(module: Module, path: string, metadata: Record<string, string> = {}): Promise<void> {
  const sd: StateDict = await module.stateDict();
  await writeSafetensors(path, sd, metadata);
}

/** Loads weights saved by saveModule (or by PyTorch's safetensors.torch.save_file) into a module.
 *  Missing, mis-shaped or unexpected keys throw an error naming the key. Returns the metadata. */
export async function loadModuleWeights(module: Module, path: string): Promise<Record<string, string>> {
  const file = await readSafetensors(path);
  try {
    module.loadStateDict(file.tensors);
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`, { cause: e });
  }
  return file.metadata;
}
