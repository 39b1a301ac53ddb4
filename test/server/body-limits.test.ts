// Issue 14, D7: bounded memory for request bodies. One process-wide budget of body bytes: a body
// that does not fit is answered 503 server_busy with Retry-After at once (declared length) or when
// it outgrows the budget (chunked); a stalled body is cut at the body timeout with a JSON 408 and
// a closed connection; and every reservation comes back, also from uploads the client aborted.
// (RSS under 64 concurrent 5 MB uploads and 100 stalled ones: npm run bench:memory.)
import t from 'tap';
import net from 'node:net';
import { startTestDatabase, startTestServer, Client, canvasSevenPng, type TestDatabase } from './helpers.ts';
import type { RunningServer } from '../../src/server/server.ts';
import { rawRequest, head } from './raw-http.ts';

let db: TestDatabase;
let srv: RunningServer;
const BUDGET = 1024 * 1024;

t.before(async () => {
  db = await startTestDatabase();
  srv = await startTestServer(db, { bodyBudgetBytes: BUDGET });
});
t.teardown(async () => {
  await srv?.close();
  await db?.destroy();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const inFlight = () => srv.deps.body.budget.inFlight;

async function budgetReturns(t: Tap, what: string) {
  for (let i = 0; i < 100 && inFlight() !== 0; i++) await sleep(20);
  t.equal(inFlight(), 0, `${what}: every reserved byte came back`);
}
type Tap = { equal: (a: unknown, b: unknown, m: string) => unknown };

/** A socket that has sent the head and `first` bytes of a body of `declared` bytes. */
async function partialUpload(declared: number, first: number): Promise<{ socket: net.Socket; rest: () => Promise<string> }> {
  const u = new URL(srv.url);
  const socket = net.connect(Number(u.port), u.hostname);
  await new Promise((r) => socket.once('connect', r));
  let got = '';
  socket.on('data', (d) => (got += d.toString('latin1')));
  socket.write(head(srv.url, '/api/predictions', { 'Content-Type': 'image/png', 'Content-Length': declared }));
  socket.write(Buffer.alloc(first, 1));
  return {
    socket,
    async rest() {
      socket.write(Buffer.alloc(declared - first, 1));
      for (let i = 0; i < 250 && !/\r\n\r\n/.test(got); i++) await sleep(20);
      socket.destroy();
      return got;
    },
  };
}

t.test('a body that does not fit the budget: 503 server_busy with Retry-After, at once', async (t) => {
  const a = await partialUpload(700_000, 100_000);
  await sleep(100);
  t.equal(inFlight(), 700_000, 'the first upload reserved its declared length');
  const b = await rawRequest(srv.url, Buffer.concat([Buffer.from(head(srv.url, '/api/predictions', { 'Content-Type': 'image/png', 'Content-Length': 700_000 })), Buffer.alloc(1000)]), { timeoutMs: 3000 });
  t.equal(b.status, 503, 'the second does not fit');
  t.match(b.body, /"code":"server_busy"/);
  t.equal(b.headers['retry-after'], '1');
  const small = await new Client(srv.url).png('/api/predictions', Buffer.alloc(1000, 1));
  t.equal(small.status, 415, 'a small body still fits (and gets its own answer: not an image)');
  const answer = await a.rest();
  t.match(answer, /^HTTP\/1\.1 415/, 'the admitted upload completes normally');
  await budgetReturns(t, 'declared bodies');
  const metrics = await new Client(srv.url).req('GET', '/metrics');
  t.match(metrics.text, /inkling_body_budget_refused_total [1-9]/);
});

t.test('a chunked body that outgrows the budget is cut with 503', async (t) => {
  const chunk = Buffer.alloc(256 * 1024, 1);
  const body = Array.from({ length: 6 }, () => `${chunk.length.toString(16)}\r\n${chunk.toString('latin1')}\r\n`).join('') + '0\r\n\r\n';
  const r = await rawRequest(srv.url, Buffer.concat([Buffer.from(head(srv.url, '/api/predictions', { 'Content-Type': 'image/png', 'Transfer-Encoding': 'chunked' })), Buffer.from(body, 'latin1')]), { timeoutMs: 5000 });
  t.equal(r.status, 503);
  t.match(r.body, /server_busy/);
  await budgetReturns(t, 'chunked body');
});

t.test('a stalled upload is cut at the body timeout: JSON 408, connection closed', async (t) => {
  const quick = await startTestServer(db, { bodyBudgetBytes: BUDGET, bodyTimeoutMs: 800 });
  t.teardown(() => quick.close());
  const t0 = performance.now();
  const r = await rawRequest(quick.url, Buffer.concat([Buffer.from(head(quick.url, '/api/predictions', { 'Content-Type': 'image/png', 'Content-Length': 500_000 })), Buffer.alloc(50_000)]), { timeoutMs: 10_000, stopAtResponse: false });
  const ms = performance.now() - t0;
  t.equal(r.status, 408);
  t.match(r.body, /"code":"body_timeout"/);
  t.equal(r.headers.connection, 'close');
  t.equal(r.ended, 'closed', 'the server closed the connection');
  t.ok(ms >= 700 && ms < 3000, `cut after ${ms.toFixed(0)} ms (timeout 800 ms)`);
  for (let i = 0; i < 100 && quick.deps.body.budget.inFlight !== 0; i++) await sleep(20);
  t.equal(quick.deps.body.budget.inFlight, 0, 'stalled upload: every reserved byte came back');
});

t.test('uploads the client aborts give their reservation back', async (t) => {
  for (const type of ['image/png', 'multipart/form-data; boundary=XB', 'application/json']) {
    const r = await rawRequest(srv.url, Buffer.concat([Buffer.from(head(srv.url, '/api/predictions', { 'Content-Type': type, 'Content-Length': 300_000 })), Buffer.from('--XB\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\nabc')]), { abortAfterMs: 100 });
    t.equal(r.ended, 'aborted');
  }
  await budgetReturns(t, 'aborted uploads');
  t.equal((await new Client(srv.url).req('GET', '/healthz')).status, 200);
});

/** Sends `body` after `headers` in slices of `slice` bytes, 2 ms apart (many small reads on the
 *  server's side); resolves with the answer's status and JSON. */
async function slicedUpload(headers: Record<string, string | number>, body: Buffer, slice: number): Promise<{ status: number; json: { digit: number; confidence: number } }> {
  const u = new URL(srv.url);
  const socket = net.connect(Number(u.port), u.hostname);
  await new Promise((r) => socket.once('connect', r));
  let got = Buffer.alloc(0);
  socket.on('data', (d: Buffer) => (got = Buffer.concat([got, d])));
  socket.write(head(srv.url, '/api/predictions', { ...headers, Connection: 'close' }));
  for (let at = 0; at < body.length; at += slice) {
    socket.write(body.subarray(at, at + slice));
    await sleep(2);
  }
  await new Promise((r) => socket.once('close', r));
  const text = got.toString('utf8');
  const json = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4).replace(/^[0-9a-f]+\r\n/, ''));
  return { status: Number(text.split(' ')[1]), json };
}

t.test('a body that arrives in many pieces is read whole: the same answer as one sent at once', async (t) => {
  const png = await canvasSevenPng();
  const whole = await new Client(srv.url).png('/api/predictions', png);
  t.equal(whole.status, 201);
  // Declared length: read into one buffer of that size as the pieces arrive.
  const declared = await slicedUpload({ 'Content-Type': 'image/png', 'Content-Length': png.length }, png, 97);
  t.equal(declared.status, 201, 'Content-Length, 97-byte pieces: 201');
  t.same([declared.json.digit, declared.json.confidence], [whole.json.digit, whole.json.confidence], 'same digit and confidence');
  // No declared length (chunked transfer encoding): collected piece by piece.
  const chunks = [];
  for (let at = 0; at < png.length; at += 500) {
    const part = png.subarray(at, at + 500);
    chunks.push(Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from('0\r\n\r\n'));
  const chunked = await slicedUpload({ 'Content-Type': 'image/png', 'Transfer-Encoding': 'chunked' }, Buffer.concat(chunks), 131);
  t.equal(chunked.status, 201, 'chunked: 201');
  t.same([chunked.json.digit, chunked.json.confidence], [whole.json.digit, whole.json.confidence], 'same digit and confidence');
  await budgetReturns(t, 'sliced uploads');
});
