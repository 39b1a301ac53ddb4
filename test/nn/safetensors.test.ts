// safetensors: the exact byte layout, round trips (bit-exact), and clear errors on bad files.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import {
  createSeedCnn, decodeSafetensors, encodeSafetensors, loadModuleWeights, readSafetensors, saveModule, tidy,
} from '../../src/nn/index.ts';
import { Rng } from '../../src/nn/random.ts';
import { randn, refBackend } from './helpers.ts';

const be = await refBackend();
const dir = await mkdtemp(join(tmpdir(), 'inkling-st-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

t.test('byte layout: u64 LE header length, space-padded JSON to 8-byte alignment, LE data', async (t) => {
  const bytes = encodeSafetensors(
    {
      b: { dtype: 'i32', shape: [2], data: Int32Array.of(-1, 258) },
      a: { dtype: 'f32', shape: [1, 2], data: Float32Array.of(1.5, -2) },
      n: { dtype: 'i64', shape: [], data: BigInt64Array.of(7n) },
    },
    { format: 'pt', note: 'x' },
  );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  t.equal((8 + n) % 8, 0, 'data starts 8-byte aligned');
  const headerText = Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8');
  t.match(headerText, /^\{.*\} *$/, 'JSON then spaces');
  const header = JSON.parse(headerText);
  t.same(header.__metadata__, { format: 'pt', note: 'x' });
  t.same(header.a, { dtype: 'F32', shape: [1, 2], data_offsets: [0, 8] }, 'names sorted, densely packed');
  t.same(header.b, { dtype: 'I32', shape: [2], data_offsets: [8, 16] });
  t.same(header.n, { dtype: 'I64', shape: [], data_offsets: [16, 24] });
  const data = bytes.subarray(8 + n);
  t.equal(data.length, 24);
  t.equal(new DataView(data.buffer, data.byteOffset).getFloat32(0, true), 1.5);
  t.equal(new DataView(data.buffer, data.byteOffset).getInt32(12, true), 258);
  t.equal(new DataView(data.buffer, data.byteOffset).getBigInt64(16, true), 7n);
  const back = decodeSafetensors(bytes);
  t.same(back.metadata, { format: 'pt', note: 'x' });
  t.same(Array.from(back.tensors.b.data as Int32Array), [-1, 258]);
  t.equal(back.tensors.n.dtype, 'i64');
});

t.test('seed CNN round trip through a file is bit-exact, buffers included', async (t) => {
  const m = createSeedCnn(be, { seed: 3 });
  // move the running statistics off their init values first
  tidy(() => m.train().forward(randn(be, [2, 1, 28, 28], new Rng(4))));
  const path = join(dir, 'seed.safetensors');
  await saveModule(m, path, { model: 'seed-cnn' });
  const m2 = createSeedCnn(be, { seed: 99 });
  const meta = await loadModuleWeights(m2, path);
  t.same(meta, { model: 'seed-cnn' });
  const a = await m.stateDict();
  const b = await m2.stateDict();
  t.same(Object.keys(b), Object.keys(a));
  for (const k of Object.keys(a)) {
    const x = Buffer.from(a[k].data.buffer, a[k].data.byteOffset, a[k].data.byteLength);
    const y = Buffer.from(b[k].data.buffer, b[k].data.byteOffset, b[k].data.byteLength);
    t.ok(x.equals(y), `${k} identical`);
  }
  t.equal(b['bn1.num_batches_tracked'].data[0], 1n);
  const file = await readSafetensors(path);
  t.equal(file.tensors['bn1.num_batches_tracked'].dtype, 'i64', 'num_batches_tracked is stored as I64 (torch strict load)');
  m.dispose();
  m2.dispose();
});

t.test('corrupt and truncated files give clear errors', async (t) => {
  const good = encodeSafetensors({ w: { dtype: 'f32', shape: [4], data: new Float32Array(4) } });
  t.throws(() => decodeSafetensors(good.subarray(0, 5)), /too short/);
  t.throws(() => decodeSafetensors(good.subarray(0, 20)), /truncated/);
  t.throws(() => decodeSafetensors(good.subarray(0, good.length - 4)), /"w" ends at byte 16 of the data but the data has 12 bytes \(truncated file\)/);
  const badJson = good.slice();
  badJson[8] = 0x41;
  t.throws(() => decodeSafetensors(badJson), /not valid JSON/);
  const mk = (header: object, dataLen: number): Uint8Array => {
    let json = JSON.stringify(header);
    while ((8 + json.length) % 8) json += ' ';
    const out = new Uint8Array(8 + json.length + dataLen);
    new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
    out.set(Buffer.from(json), 8);
    return out;
  };
  t.throws(() => decodeSafetensors(mk({ w: { dtype: 'F16', shape: [2], data_offsets: [0, 4] } }, 4)), /dtype "F16"/);
  t.throws(() => decodeSafetensors(mk({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8)), /needs 12 bytes/);
  t.throws(
    () => decodeSafetensors(mk({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, 12)),
    /overlap/,
  );
  t.throws(() => decodeSafetensors(mk({ __metadata__: { k: 1 } }, 0)), /must be a string/);
  const path = join(dir, 'trunc.safetensors');
  await writeFile(path, good.subarray(0, good.length - 1));
  await t.rejects(readSafetensors(path), new RegExp(`${path}: .*truncated`), 'the file path is named');
});

t.test('loadModuleWeights names missing and mis-shaped keys', async (t) => {
  const m = createSeedCnn(be, { seed: 1 });
  const sd = await m.stateDict();
  const { ['bn2.running_var']: _gone, ...rest } = sd;
  const p1 = join(dir, 'missing.safetensors');
  await writeFile(p1, encodeSafetensors(rest));
  await t.rejects(loadModuleWeights(m, p1), /missing key "bn2.running_var"/);
  const p2 = join(dir, 'shape.safetensors');
  await writeFile(p2, encodeSafetensors({ ...sd, 'fc2.bias': { dtype: 'f32', shape: [11], data: new Float32Array(11) } }));
  await t.rejects(loadModuleWeights(m, p2), /"fc2.bias" has shape \[11\] but the model expects \[10\]/);
  const raw = await readFile(p2);
  t.ok(raw.length > 1_600_000, 'the file holds the weights');
  m.dispose();
});
