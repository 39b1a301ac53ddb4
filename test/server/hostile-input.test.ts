// Issue 14, D1: no request can crash the service. `inkling serve` runs as a child process (a crash
// is then an observed exit, not the end of this test), and every malformed multipart variant, cut
// and aborted uploads of each body form, and other hostile bodies are sent on raw sockets. After
// each one the service must still answer /healthz; where an answer is possible it is a JSON 4xx.
// The batch endpoint and application/octet-stream bodies (issue 16) get the same treatment.
import t, { type Test } from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestDatabase, makeTestModelDir, spawnServe, type TestDatabase, type ServeProcess, canvasSevenPng } from './helpers.ts';
import { rawRequest, head } from './raw-http.ts';

let db: TestDatabase;
let srv: ServeProcess;
let png: Buffer;

t.before(async () => {
  db = await startTestDatabase();
  const modelDir = await makeTestModelDir();
  srv = await spawnServe({ DATABASE_URL: db.url, INKLING_MODEL_DIR: modelDir, INKLING_SPOOL_DIR: mkdtempSync(join(tmpdir(), 'inkling-hostile-spool-')), INKLING_RATE_LIMIT: '0' });
  png = await canvasSevenPng();
});
t.teardown(async () => {
  await srv?.stop();
  await db?.destroy();
});

const PATH = '/api/predictions';
const mp = (boundary = 'XB') => `multipart/form-data; boundary=${boundary}`;
const filePart = (boundary: string, body: Buffer | string, name = 'image') =>
  Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`), Buffer.from(body)]);

async function stillAnswers(t: Test, what: string) {
  const r = await rawRequest(srv.url, head(srv.url, '/healthz', {}, 'GET'), { timeoutMs: 5000 });
  t.equal(r.status, 200, `${what}: the service still answers /healthz`);
  t.ok(srv.alive(), `${what}: the process is alive${srv.alive() ? '' : `; its output:\n${srv.output().slice(-3000)}`}`);
}

interface Case {
  name: string;
  bytes: () => Buffer;
  /** Expected status, or null where the client cuts the upload and no answer can arrive. */
  status: number | null;
  abortAfterMs?: number;
}

function send(headers: Record<string, string | number>, body: Buffer | string, path = PATH): Buffer {
  return Buffer.concat([Buffer.from(head(srv.url, path, headers)), Buffer.from(body)]);
}
const exact = (type: string, body: Buffer | string, path = PATH) => send({ 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) }, body, path);
const BATCH = '/api/predictions/batch';

const cases: Case[] = [
  {
    // The issue's 95-byte body: the file part ends without a closing boundary.
    name: 'the 95-byte truncated multipart body (issue 14, D1)',
    bytes: () => exact(mp(), '--XB\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\nContent-Type: image/png\r\n\r\nabc'),
    status: 400,
  },
  { name: 'multipart cut mid-file (full PNG part, no closing boundary)', bytes: () => exact(mp(), filePart('XB', png.subarray(0, 500))), status: 400 },
  { name: 'multipart whose file is complete but the closing boundary is missing', bytes: () => exact(mp(), Buffer.concat([filePart('XB', png), Buffer.from('\r\n')])), status: 400 },
  { name: 'multipart with a boundary that the body never uses', bytes: () => exact(mp('NOPE'), Buffer.concat([filePart('XB', png), Buffer.from('\r\n--XB--\r\n')])), status: 400 },
  { name: 'multipart without a boundary parameter', bytes: () => exact('multipart/form-data', Buffer.concat([filePart('XB', png), Buffer.from('\r\n--XB--\r\n')])), status: 400 },
  { name: 'a part without headers', bytes: () => exact(mp(), '--XB\r\n\r\nabc\r\n--XB--\r\n'), status: 400 },
  { name: 'a part with a malformed header line', bytes: () => exact(mp(), '--XB\r\nthis is not a header\r\n\r\nabc\r\n--XB--\r\n'), status: 400 },
  { name: 'a part header over the size limit', bytes: () => exact(mp(), `--XB\r\nContent-Disposition: form-data; name="image"; filename="${'a'.repeat(100_000)}"\r\n\r\nabc\r\n--XB--\r\n`), status: 400 },
  {
    name: 'two files',
    bytes: () => exact(mp(), Buffer.concat([filePart('XB', png), Buffer.from('\r\n'), filePart('XB', png), Buffer.from('\r\n--XB--\r\n')])),
    status: 400,
  },
  { name: 'an empty multipart body', bytes: () => exact(mp(), ''), status: 400 },
  { name: 'only a closing boundary', bytes: () => exact(mp(), '--XB--\r\n'), status: 400 },
  { name: 'multipart upload aborted by the client mid-file', bytes: () => send({ 'Content-Type': mp(), 'Content-Length': 100_000 }, filePart('XB', png.subarray(0, 300))), status: null, abortAfterMs: 200 },
  { name: 'multipart upload that stops after the part headers', bytes: () => send({ 'Content-Type': mp(), 'Content-Length': 100_000 }, filePart('XB', '')), status: null, abortAfterMs: 200 },
  { name: 'raw PNG upload aborted by the client', bytes: () => send({ 'Content-Type': 'image/png', 'Content-Length': png.length * 4 }, png), status: null, abortAfterMs: 200 },
  { name: 'JSON upload aborted by the client', bytes: () => send({ 'Content-Type': 'application/json', 'Content-Length': 100_000 }, '{"image":"iVBORw0KGgo'), status: null, abortAfterMs: 200 },
  {
    name: 'a malformed chunked body',
    bytes: () => send({ 'Content-Type': 'image/png', 'Transfer-Encoding': 'chunked' }, `10\r\n${'x'.repeat(16)}\r\nZZZ\r\nnot a chunk\r\n`),
    status: 400,
  },
  {
    name: 'a malformed chunked multipart body',
    bytes: () => send({ 'Content-Type': mp(), 'Transfer-Encoding': 'chunked' }, `${(60).toString(16)}\r\n${filePart('XB', '').subarray(0, 60).toString('latin1')}\r\nZZZ\r\n\r\n`),
    status: 400,
  },
  { name: 'octet-stream upload aborted by the client', bytes: () => send({ 'Content-Type': 'application/octet-stream', 'Content-Length': png.length * 4 }, png), status: null, abortAfterMs: 200 },
  { name: 'a malformed chunked octet-stream body', bytes: () => send({ 'Content-Type': 'application/octet-stream', 'Transfer-Encoding': 'chunked' }, `10\r\n${'x'.repeat(16)}\r\nZZZ\r\n`), status: 400 },
  // The batch endpoint reads its bodies through the same reader (multipart.ts, request-body.ts).
  {
    name: 'batch: the 95-byte truncated multipart body',
    bytes: () => exact(mp(), '--XB\r\nContent-Disposition: form-data; name="images"; filename="a.png"\r\nContent-Type: image/png\r\n\r\nabc', BATCH),
    status: 400,
  },
  { name: 'batch: multipart cut mid-file', bytes: () => exact(mp(), Buffer.concat([filePart('XB', png, 'images'), Buffer.from('\r\n'), filePart('XB', png.subarray(0, 500), 'images')]), BATCH), status: 400 },
  { name: 'batch: a part without headers', bytes: () => exact(mp(), '--XB\r\n\r\nabc\r\n--XB--\r\n', BATCH), status: 400 },
  { name: 'batch: multipart upload aborted by the client mid-file', bytes: () => send({ 'Content-Type': mp(), 'Content-Length': 100_000 }, filePart('XB', png.subarray(0, 300), 'images'), BATCH), status: null, abortAfterMs: 200 },
  { name: 'batch: JSON upload aborted by the client', bytes: () => send({ 'Content-Type': 'application/json', 'Content-Length': 100_000 }, '["iVBORw0KGgo', BATCH), status: null, abortAfterMs: 200 },
  { name: 'batch: deeply nested JSON', bytes: () => exact('application/json', '['.repeat(200_000) + ']'.repeat(200_000), BATCH), status: 400 },
  { name: 'deeply nested JSON', bytes: () => exact('application/json', '['.repeat(200_000) + ']'.repeat(200_000)), status: 400 },
  { name: 'JSON with a huge string of a wrong type', bytes: () => exact('application/json', JSON.stringify({ image: { nested: 'x'.repeat(1_000_000) } })), status: 400 },
  { name: 'a body on a GET', bytes: () => Buffer.concat([Buffer.from(head(srv.url, PATH, { 'Content-Type': mp(), 'Content-Length': 95 }, 'GET')), Buffer.alloc(95, 0x2d)]), status: 200 },
];

t.test('every hostile body gets a JSON 4xx or a closed socket, and the service keeps answering', async (t) => {
  for (const c of cases) {
    const r = await rawRequest(srv.url, c.bytes(), { abortAfterMs: c.abortAfterMs, timeoutMs: 10_000 });
    if (c.status === null) t.not(r.ended, 'timeout', `${c.name}: the exchange ended`);
    else {
      t.equal(r.status, c.status, `${c.name}: status ${c.status} (got ${r.status}, ${r.body.slice(0, 200)})`);
      if (c.status >= 400) t.match(r.body, /^\{"error":\{"code":"[a-z_]+","message":".+"\}\}$/, `${c.name}: the JSON error shape`);
    }
    await stillAnswers(t, c.name);
    if (!srv.alive()) break;
  }
});

t.test('after all of it, a valid multipart upload is still answered 201', async (t) => {
  const body = Buffer.concat([filePart('XB', png), Buffer.from('\r\n--XB--\r\n')]);
  const r = await rawRequest(srv.url, exact(mp(), body));
  t.equal(r.status, 201, r.body.slice(0, 300));
  await stillAnswers(t, 'valid upload');
});
