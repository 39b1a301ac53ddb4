// The API against a real PostgreSQL: every input form, the prediction shape, history with cursor
// pagination and filters, feedback, deletion, scoping per client and for the admin, stats, bad
// input (each a clear 4xx, server healthy after), security headers, rate limiting, static files.
import t from 'tap';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { sql } from 'slonik';
import { z } from 'zod';
import { startTestDatabase, startTestServer, Client, canvasPngs, CANVAS, type TestDatabase } from './helpers.ts';
import type { RunningServer } from '../../src/server/server.ts';
import { drawDigit, encode, SEVEN } from '../preprocess/images.ts';

const ADMIN = 'test-admin-token-0123456789';
let db: TestDatabase;
let srv: RunningServer;
let sevenPng: Buffer;
let zeroPng: Buffer;
let blankPng: Buffer;

t.before(async () => {
  db = await startTestDatabase();
  srv = await startTestServer(db, { adminToken: ADMIN });
  ({ seven: sevenPng, zero: zeroPng, blank: blankPng } = await canvasPngs());
});
t.teardown(async () => {
  await srv?.close();
  await db?.destroy();
});

async function healthy(t: { equal: (a: unknown, b: unknown, m: string) => unknown }) {
  const r = await new Client(srv.url).req('GET', '/healthz');
  t.equal(r.status, 200, 'server still healthy');
}

t.test('POST raw PNG: 201 with the full prediction, logged, cookie set', async (t) => {
  const c = new Client(srv.url);
  const r = await c.png('/api/predictions?source=canvas', sevenPng);
  t.equal(r.status, 201);
  const p = r.json;
  t.match(p.id, /^[0-9a-f-]{36}$/);
  t.ok(Number.isInteger(p.digit) && p.digit >= 0 && p.digit <= 9);
  t.equal(p.probabilities.length, 10);
  t.ok(Math.abs(p.probabilities.reduce((a: number, b: number) => a + b, 0) - 1) < 1e-3, 'probabilities sum to 1');
  t.equal(p.confidence, Math.max(...p.probabilities));
  t.match(p.modelVersion, /^inkling-test-model-\w+@[0-9a-f]{12}$/, 'the version is the model folder name and its weights hash');
  t.equal(p.uncertain, false, 'no detector in the test model: never uncertain');
  t.equal(p.reason, null);
  t.match(p.input, /^data:image\/png;base64,/);
  const input = await sharp(Buffer.from(p.input.split(',')[1], 'base64')).metadata();
  t.same([input.width, input.height], [28, 28], 'input is the 28x28 the model saw');
  for (const k of ['decodeMs', 'preprocessMs', 'inferenceMs', 'totalMs']) t.type(p.timings[k], 'number');
  t.equal(p.logged, true);
  const setCookie = r.headers.get('set-cookie') ?? '';
  t.match(setCookie, /inkling_client=[\w-]{22}/);
  t.match(setCookie.toLowerCase(), /httponly/);
  const h = await c.req('GET', '/api/predictions');
  t.equal(h.json.total, 1);
  t.equal(h.json.items[0].id, p.id);
  t.equal(h.json.items[0].source, 'canvas');
  t.match(h.json.items[0].thumbnail, /^data:image\/png;base64,/);
  t.equal(h.json.items[0].input, p.input, 'the stored 28x28 PNG is byte for byte the one answered');
  t.equal(h.json.items[0].probabilities.length, 10);
  t.ok(Math.abs(h.json.items[0].confidence - p.confidence) < 1e-5, 'stored confidence matches the answer');
  const thumb = await sharp(Buffer.from(h.json.items[0].thumbnail.split(',')[1], 'base64')).metadata();
  t.ok(thumb.width! > 0 && thumb.width! <= 128 && thumb.height! <= 128, 'the stored thumbnail is a PNG of at most 128 px');
});

t.test('POST multipart, JSON data URL and JSON base64', async (t) => {
  const c = new Client(srv.url);
  const form = new FormData();
  form.append('source', 'canvas');
  form.append('image', new Blob([new Uint8Array(sevenPng)], { type: 'image/png' }), 'digit.png');
  const m = await c.req('POST', '/api/predictions', { body: form });
  t.equal(m.status, 201, 'multipart');
  const d = await c.json('POST', '/api/predictions', { image: `data:image/png;base64,${zeroPng.toString('base64')}`, source: 'upload' });
  t.equal(d.status, 201, 'data URL');
  const b = await c.json('POST', '/api/predictions', { image: zeroPng.toString('base64') });
  t.equal(b.status, 201, 'bare base64');
  const h = await c.req('GET', '/api/predictions');
  t.same(h.json.items.map((i: { source: string }) => i.source), ['upload', 'upload', 'canvas'], 'newest first, sources kept');
});

t.test('a blank image is 422 no_digit, not a guess', async (t) => {
  const r = await new Client(srv.url).png('/api/predictions', blankPng);
  t.equal(r.status, 422);
  t.equal(r.json.error.code, 'no_digit');
  t.type(r.json.error.message, 'string');
});

t.test('bad input: clear 4xx with { error: { code, message } }, server healthy after', async (t) => {
  const c = new Client(srv.url);
  const truncated = sevenPng.subarray(0, sevenPng.length >> 1);
  const corrupt = Buffer.from(sevenPng);
  for (let i = 60; i < corrupt.length - 20; i++) corrupt[i] ^= 0x33;
  const jpeg = await encode(drawDigit(SEVEN, { ...CANVAS, transparent: false }), 280, 280, 'jpeg');
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(20000, 0);
  ihdr.writeUInt32BE(20000, 4);
  ihdr[8] = 1;
  const chunk = (type: string, body: Buffer) => {
    const b = Buffer.alloc(12 + body.length);
    b.writeUInt32BE(body.length, 0);
    b.write(type, 4, 'ascii');
    body.copy(b, 8);
    return b;
  };
  const bomb = Buffer.concat([sevenPng.subarray(0, 8), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(Buffer.alloc(2501 * 20000))), chunk('IEND', Buffer.alloc(0))]);
  const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>');
  const cases: [string, () => ReturnType<Client['req']>, number, string][] = [
    ['empty body', () => c.png('/api/predictions', new Uint8Array(0)), 400, 'empty_body'],
    ['truncated PNG', () => c.png('/api/predictions', truncated), 400, 'invalid_image'],
    ['corrupt PNG', () => c.png('/api/predictions', corrupt), 400, 'invalid_image'],
    ['truncated JPEG', () => c.png('/api/predictions', jpeg.subarray(0, 300), 'image/jpeg'), 400, 'invalid_image'],
    ['text with an image content type', () => c.png('/api/predictions', Buffer.from('definitely not an image'), 'image/png'), 415, 'unsupported_media_type'],
    ['SVG as image/png', () => c.png('/api/predictions', svg, 'image/png'), 415, 'unsupported_media_type'],
    ['SVG content type', () => c.png('/api/predictions', svg, 'image/svg+xml'), 415, 'unsupported_media_type'],
    ['20000x20000 decompression bomb', () => c.png('/api/predictions', bomb), 413, 'image_too_large'],
    ['body over 5 MB', () => c.png('/api/predictions', Buffer.alloc(5 * 1024 * 1024 + 10, 1)), 413, 'payload_too_large'],
    ['JSON base64 over 5 MB', () => c.json('POST', '/api/predictions', { image: Buffer.alloc(5 * 1024 * 1024 + 10).toString('base64') }), 413, 'payload_too_large'],
    ['bad base64', () => c.json('POST', '/api/predictions', { image: 'not base64 at all!!' }), 400, 'invalid_base64'],
    ['non-base64 data URL', () => c.json('POST', '/api/predictions', { image: 'data:image/png,abc' }), 400, 'invalid_base64'],
    ['invalid JSON', () => c.req('POST', '/api/predictions', { body: '{"image": ', headers: { 'content-type': 'application/json' } }), 400, 'invalid_json'],
    ['wrong JSON type', () => c.json('POST', '/api/predictions', { image: 42 }), 400, 'invalid_body'],
    ['JSON array', () => c.json('POST', '/api/predictions', [1, 2]), 400, 'invalid_body'],
    ['both image and url', () => c.json('POST', '/api/predictions', { image: 'aGk=', url: 'https://example.com/a.png' }), 400, 'invalid_body'],
    ['unknown source', () => c.json('POST', '/api/predictions', { image: zeroPng.toString('base64'), source: "canvas'; DROP TABLE predictions;--" }), 400, 'invalid_body'],
    ['unknown JSON field', () => c.json('POST', '/api/predictions', { picture: 'x' }), 400, 'invalid_body'],
    ['no content type', () => c.req('POST', '/api/predictions', { body: 'x' }), 415, 'unsupported_media_type'],
    ['multipart without the image field', () => { const f = new FormData(); f.append('source', 'canvas'); return c.req('POST', '/api/predictions', { body: f }); }, 400, 'missing_image'],
    ['label 10', () => c.json('PUT', '/api/predictions/00000000-0000-4000-8000-000000000000/feedback', { label: 10 }), 400, 'invalid_label'],
    ['label -1', () => c.json('PUT', '/api/predictions/00000000-0000-4000-8000-000000000000/feedback', { label: -1 }), 400, 'invalid_label'],
    ['label 3.5', () => c.json('PUT', '/api/predictions/00000000-0000-4000-8000-000000000000/feedback', { label: 3.5 }), 400, 'invalid_label'],
    ['label "7"', () => c.json('PUT', '/api/predictions/00000000-0000-4000-8000-000000000000/feedback', { label: '7' }), 400, 'invalid_label'],
    ['unknown id feedback', () => c.json('PUT', '/api/predictions/00000000-0000-4000-8000-000000000000/feedback', { label: 7 }), 404, 'not_found'],
    ['SQL in the id', () => c.json('PUT', `/api/predictions/${encodeURIComponent("1' OR '1'='1")}/feedback`, { label: 7 }), 404, 'not_found'],
    ['unknown id delete', () => c.req('DELETE', '/api/predictions/00000000-0000-4000-8000-000000000000'), 404, 'not_found'],
    ['SQL in a delete id', () => c.req('DELETE', `/api/predictions/${encodeURIComponent('x; DELETE FROM predictions')}`), 404, 'not_found'],
    ['SQL in a filter', () => c.req('GET', `/api/predictions?source=${encodeURIComponent("canvas' OR 1=1--")}`), 400, 'invalid_query'],
    ['SQL in the digit filter', () => c.req('GET', `/api/predictions?digit=${encodeURIComponent('1;DROP TABLE predictions')}`), 400, 'invalid_query'],
    ['bad cursor', () => c.req('GET', '/api/predictions?cursor=Zm9v'), 400, 'invalid_query'],
    ['limit 0', () => c.req('GET', '/api/predictions?limit=0'), 400, 'invalid_query'],
    ['unknown filter', () => c.req('GET', '/api/predictions?colour=red'), 400, 'invalid_query'],
    ['wrong admin token', () => c.req('GET', '/api/predictions', { headers: { authorization: 'Bearer wrong-token-wrong-token' } }), 401, 'unauthorized'],
    ['unknown API route', () => c.req('GET', '/api/nothing-here'), 404, 'not_found'],
  ];
  for (const [name, call, status, code] of cases) {
    const r = await call();
    t.equal(r.status, status, `${name}: status ${status}`);
    t.equal(r.json?.error?.code, code, `${name}: code ${code}`);
    t.ok(typeof r.json?.error?.message === 'string' && r.json.error.message.length > 5, `${name}: a message`);
  }
  await healthy(t);
  const still = await c.req('GET', '/api/predictions');
  t.equal(still.status, 200, 'the table is still there after the SQL metacharacters');
});

t.test('history: cursor pagination, filters, total; feedback; scoping; admin; delete', async (t) => {
  const a = new Client(srv.url);
  const b = new Client(srv.url);
  const ids: string[] = [];
  for (let i = 0; i < 7; i++) {
    const r = await a.png(`/api/predictions?source=${i % 2 ? 'upload' : 'canvas'}`, i % 3 ? sevenPng : zeroPng);
    t.equal(r.status, 201);
    ids.unshift(r.json.id);
  }
  await b.png('/api/predictions', sevenPng);

  // Pages of 3: 3 + 3 + 1, newest first, no overlap, total = 7 on every page.
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const r: Awaited<ReturnType<Client['req']>> = await a.req('GET', `/api/predictions?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
    t.equal(r.status, 200);
    t.equal(r.json.total, 7);
    seen.push(...r.json.items.map((i: { id: string }) => i.id));
    cursor = r.json.nextCursor;
    pages++;
  } while (cursor);
  t.equal(pages, 3);
  t.same(seen, ids, 'all of a\'s predictions, newest first, once each');

  // Feedback: label the newest as its own digit (correct) and the next as another (incorrect).
  const first = (await a.req('GET', '/api/predictions?limit=2')).json.items;
  const ok = await a.json('PUT', `/api/predictions/${first[0].id}/feedback`, { label: first[0].digit });
  t.equal(ok.status, 200);
  t.equal(ok.json.label, first[0].digit);
  t.equal(ok.json.correct, true);
  const wrong = (first[1].digit + 1) % 10;
  const bad = await a.json('PUT', `/api/predictions/${first[1].id}/feedback`, { label: wrong });
  t.equal(bad.json.correct, false);

  const q = async (query: string) => (await a.req('GET', `/api/predictions?${query}`)).json;
  t.equal((await q('status=correct')).total, 1);
  t.equal((await q('status=incorrect')).total, 1);
  t.equal((await q('status=unlabelled')).total, 5);
  t.equal((await q('source=canvas')).total, 4);
  t.equal((await q('source=upload')).total, 3);
  const d = first[0].digit;
  const byDigit = await q(`digit=${d}`);
  t.ok(byDigit.total >= 1 && byDigit.items.every((i: { digit: number }) => i.digit === d), 'digit filter');
  t.equal((await q('minConfidence=1')).total, 0, 'min confidence');
  t.equal((await q('minConfidence=0')).total, 7);
  const future = new Date(Date.now() + 3600_000).toISOString();
  t.equal((await q(`from=${encodeURIComponent(future)}`)).total, 0, 'date range: from the future');
  t.equal((await q(`to=${encodeURIComponent(future)}`)).total, 7, 'date range: up to the future');

  // Scoping: b sees only its own; b cannot label, read or delete a's.
  t.equal((await b.req('GET', '/api/predictions')).json.total, 1);
  t.equal((await b.json('PUT', `/api/predictions/${ids[0]}/feedback`, { label: 1 })).status, 404);
  t.equal((await b.req('GET', `/api/predictions/${ids[0]}`)).status, 404);
  t.equal((await b.req('DELETE', `/api/predictions/${ids[0]}`)).status, 404);
  t.equal((await a.req('GET', `/api/predictions/${ids[0]}`)).status, 200);

  // Admin sees everyone's (a's 7, b's 1, plus the earlier tests' rows).
  const admin = new Client(srv.url, { authorization: `Bearer ${ADMIN}` });
  const all = (await admin.req('GET', '/api/predictions?limit=100')).json;
  t.ok(all.total >= 8, `admin sees all (${all.total})`);
  t.ok(all.items.some((i: { id: string }) => i.id === ids[0]));

  // Delete one, then clear: only a's rows go.
  t.equal((await a.req('DELETE', `/api/predictions/${ids[0]}`)).status, 204);
  t.equal((await a.req('GET', '/api/predictions')).json.total, 6);
  const cleared = await a.req('DELETE', '/api/predictions');
  t.equal(cleared.json.deleted, 6);
  t.equal((await a.req('GET', '/api/predictions')).json.total, 0);
  t.equal((await b.req('GET', '/api/predictions')).json.total, 1, 'b untouched by a\'s clear');
});

t.test('stats: totals, accuracy, confusion, per day, latency', async (t) => {
  const c = new Client(srv.url);
  const made = [];
  for (const png of [sevenPng, zeroPng, sevenPng]) made.push((await c.png('/api/predictions', png)).json);
  await c.json('PUT', `/api/predictions/${made[0].id}/feedback`, { label: made[0].digit });
  await c.json('PUT', `/api/predictions/${made[1].id}/feedback`, { label: (made[1].digit + 1) % 10 });
  const s = (await c.req('GET', '/api/stats')).json;
  t.equal(s.total, 3);
  t.equal(s.labelled, 2);
  t.equal(s.correct, 1);
  t.equal(s.accuracy, 0.5);
  t.equal(s.confusion[made[0].digit][made[0].digit], 1);
  t.equal(s.confusion[(made[1].digit + 1) % 10][made[1].digit], 1);
  t.equal(s.confusion.flat().reduce((x: number, y: number) => x + y, 0), 2);
  t.equal(s.perDay.length, 1);
  t.equal(s.perDay[0].count, 3);
  t.equal(s.perDay[0].day, new Date().toISOString().slice(0, 10));
  t.ok(s.latency.p50 > 0 && s.latency.p99 >= s.latency.p50);
  t.equal(s.byDigit.reduce((x: number, y: number) => x + y, 0), 3);
});

t.test('commits wait for the WAL flush by default; INKLING_DB_SYNC_COMMIT=0 opts out', async (t) => {
  const mode = (pool: typeof srv.deps.pool) => pool.oneFirst(sql.type(z.object({ synchronous_commit: z.string() }))`SHOW synchronous_commit`);
  t.equal(await mode(srv.deps.pool), 'on', 'default: durable (the test cluster itself runs with off)');
  const fast = await startTestServer(db, { dbSyncCommit: false });
  try {
    t.equal(await mode(fast.deps.pool), 'off', 'opted out');
  } finally {
    await fast.close();
  }
});

t.test('model, health, readiness, metrics', async (t) => {
  const c = new Client(srv.url);
  const m = (await c.req('GET', '/api/model')).json;
  t.match(m.version, /^inkling-test-model-\w+@[0-9a-f]{12}$/);
  t.equal(m.architecture, 'seed-cnn');
  t.equal(m.parameters, 421834);
  t.equal(m.temperature, 1.5);
  t.equal(m.accuracy, 0.1);
  t.ok(['cpu', 'ref'].includes(m.backend));
  t.same((await c.req('GET', '/healthz')).json, { status: 'ok' });
  const ready = await c.req('GET', '/readyz');
  t.equal(ready.status, 200);
  t.equal(ready.json.checks.database, true);
  const metrics = await c.req('GET', '/metrics');
  t.equal(metrics.status, 200);
  t.match(metrics.text, /inkling_predictions_total\{digit="\d",logged="true"\} \d+/);
  t.match(metrics.text, /inkling_inference_batch_size_bucket/);
  t.match(metrics.text, /inkling_http_requests_total/);
  t.match(metrics.text, /inkling_database_up 1/);
});

t.test('security headers, request ids, static UI with the vendor import map', async (t) => {
  const c = new Client(srv.url);
  const r = await c.req('GET', '/api/model', { headers: { 'x-request-id': 'trace-abc-123' } });
  t.equal(r.headers.get('x-request-id'), 'trace-abc-123');
  const gen = await c.req('GET', '/api/model', { headers: { 'x-request-id': 'bad id with spaces' } });
  t.match(gen.headers.get('x-request-id') ?? '', /^[\w-]{8,}$/, 'a fresh id replaces an invalid one');
  const csp = r.headers.get('content-security-policy') ?? '';
  t.match(csp, /default-src 'self'/);
  t.match(csp, /object-src 'none'/);
  t.match(csp, /frame-ancestors 'none'/);
  t.equal(r.headers.get('x-content-type-options'), 'nosniff');
  t.equal(r.headers.get('x-frame-options'), 'DENY');
  t.equal(r.headers.get('referrer-policy'), 'no-referrer');
  const index = await c.req('GET', '/');
  t.equal(index.status, 200);
  t.match(index.headers.get('content-type') ?? '', /text\/html/);
  t.match(index.text, /importmap/);
  t.match(csp, /script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/, 'the inline import map is allowed by hash');
  const preact = await c.req('GET', '/vendor/preact/dist/preact.mjs');
  t.equal(preact.status, 200);
  t.match(preact.headers.get('content-type') ?? '', /text\/javascript/);
  t.equal((await c.req('GET', '/vendor/htm/dist/htm.mjs')).status, 200);
  t.equal((await c.req('GET', '/vendor/preact/package.json')).status, 404, 'only JS from vendor packages');
  t.equal((await c.req('GET', '/vendor/../package.json')).status, 404);
  t.equal((await c.req('GET', '/%2e%2e/package.json')).status, 404, 'no path traversal');
  t.equal((await c.req('GET', '/app.js')).status, 200);
});

t.test('rate limiting per client (INKLING_RATE_LIMIT), 0 = off', async (t) => {
  const limited = await startTestServer(db, { rateLimit: 3, rateLimitNewClients: 3 });
  try {
    // The first, cookie-less request creates the client (one of the IP's 3 new clients a
    // minute) and its bucket of 3, of which it takes one.
    const c = new Client(limited.url);
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await c.req('GET', '/api/model')).status);
    t.same(statuses, [200, 200, 200, 429, 429, 429]);
    const r = await c.req('GET', '/api/model');
    t.equal(r.json.error.code, 'rate_limited');
    t.ok(Number(r.headers.get('retry-after')) >= 1);
    const other = new Client(limited.url);
    t.equal((await other.req('GET', '/api/model')).status, 200, 'another client has its own bucket');
    // Callers that drop the cookie are a new client every time: the IP's budget of new clients
    // (2 of 3 used above, 1 just now).
    const noCookie = () => fetch(`${limited.url}/api/model`).then((x) => x.status);
    t.same([await noCookie(), await noCookie()], [200, 429], 'cookie droppers are limited by IP');
    t.equal((await c.req('GET', '/healthz')).status, 200, 'probes are not limited');
  } finally {
    await limited.close();
  }
  const c = new Client(srv.url);
  for (let i = 0; i < 20; i++) t.equal((await c.req('GET', '/api/model')).status, 200);
});

t.test('OpenAPI 3.1 document describes every route and every $ref resolves', async (t) => {
  const doc = (await new Client(srv.url).req('GET', '/api/openapi.json')).json;
  t.equal(doc.openapi, '3.1.0');
  const routes = ['post /api/predictions', 'get /api/predictions', 'delete /api/predictions', 'get /api/predictions/{id}', 'delete /api/predictions/{id}',
    'put /api/predictions/{id}/feedback', 'get /api/stats', 'get /api/model', 'get /api/models', 'post /api/admin/reload', 'get /api/openapi.json', 'get /healthz', 'get /readyz', 'get /metrics'];
  for (const r of routes) {
    const [m, p] = r.split(' ');
    t.ok(doc.paths[p]?.[m]?.responses, `${r} documented with responses`);
  }
  const refs: string[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) k === '$ref' ? refs.push(String(x)) : walk(x);
  };
  walk(doc);
  t.ok(refs.length > 10);
  for (const ref of refs) {
    const target = ref.replace(/^#\//, '').split('/').reduce((o: any, k) => o?.[k], doc); // any: walking arbitrary JSON
    t.ok(target, `${ref} resolves`);
  }
});
