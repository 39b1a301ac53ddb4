// Issue 14, D4, D5, D9, D10, D11 and the shutdown half of D13, against a real PostgreSQL:
// - D4: forged cookies do not buy fresh rate-limit buckets (new identities are limited per IP),
//   and the limiter's memory is bounded (LRU) however many cookies arrive;
// - D5: one case rule for the API (paths are case-sensitive): `/API/PREDICTIONS` is a 404 JSON,
//   never a request that skipped identity and rate limiting;
// - D9: answers during a graceful shutdown say `Connection: close`;
// - D10: validation messages are bounded in size whatever the body holds;
// - D11: 405 and 501 in the JSON error shape (405 with Allow), 401 with WWW-Authenticate, 429 with
//   RateLimit-* headers;
// - D13: the shutdown timeout's timer is cleared once shutdown finished in time.
import t from 'tap';
import { Writable } from 'node:stream';
import net from 'node:net';
import pino from 'pino';
import { startTestDatabase, startTestServer, testConfig, testModel, Client, type TestDatabase, canvasSevenPng } from './helpers.ts';
import { startServer } from '../../src/server/server.ts';
import { rawRequest, head } from './raw-http.ts';

let db: TestDatabase;
let png: Buffer;
const ADMIN = 'hardening-admin-token-0123456789';

t.before(async () => {
  db = await startTestDatabase();
  png = await canvasSevenPng();
});
t.teardown(async () => {
  await db?.destroy();
});

const forgedCookie = (i: number) => `inkling_client=${`forged${String(i).padStart(6, '0')}`.padEnd(22, 'x')}`;

t.test('D4: forged cookies do not buy fresh buckets: new identities are limited per IP', async (t) => {
  const srv = await startTestServer(db, { rateLimit: 5, rateLimitNewClients: 3 });
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await new Client(srv.url, { cookie: forgedCookie(i) }).req('GET', '/api/model')).status);
    const ok = statuses.filter((s) => s === 200).length;
    t.equal(ok, 3, `3 of 20 forged identities admitted (${statuses.join(' ')})`);
    const r = await new Client(srv.url, { cookie: forgedCookie(99) }).req('GET', '/api/model');
    t.equal(r.status, 429);
    t.equal(r.json.error.code, 'rate_limited');
    // A client that keeps its cookie has its own bucket (5 a minute), whatever the IP does.
    const kept = new Client(srv.url, { cookie: forgedCookie(0) });
    const own: number[] = [];
    for (let i = 0; i < 6; i++) own.push((await kept.req('GET', '/api/model')).status);
    t.same(own, [200, 200, 200, 200, 429, 429], 'an admitted client: its own 5 (one used when it was admitted)');
    // Callers without any cookie mint a new identity each time: limited the same way.
    const bare = await fetch(`${srv.url}/api/model`);
    t.equal(bare.status, 429, 'cookie droppers share the IP\'s budget for new identities');
    const admin = await new Client(srv.url, { authorization: `Bearer ${ADMIN}` }).req('GET', '/api/model');
    t.equal(admin.status, 401, 'a wrong bearer is still 401 (no admin token configured here)');
  } finally {
    await srv.close();
  }
});

t.test('D4: the limiter\'s memory is bounded however many cookies and addresses arrive', async (t) => {
  const { RateLimiter } = await import('../../src/server/rate-limit.ts');
  const limiter = new RateLimiter({ perMinute: 600, newClientsPerMinute: 1_000_000, maxClients: 1000, maxAddresses: 500 });
  for (let i = 0; i < 50_000; i++) limiter.take(`client-${i}`, true, `10.0.${i >> 8 & 255}.${i & 255}`, 0);
  t.ok(limiter.clients <= 1000, `${limiter.clients} client buckets kept (cap 1000) after 50,000 identities`);
  t.ok(limiter.addresses <= 500, `${limiter.addresses} address buckets kept (cap 500)`);
  // Recently used buckets survive: the least recently used go first.
  const l2 = new RateLimiter({ perMinute: 2, newClientsPerMinute: 1_000_000, maxClients: 3, maxAddresses: 10 });
  l2.take('a', true, 'ip', 0);
  l2.take('a', false, 'ip', 0);
  t.equal(l2.take('a', false, 'ip', 0).ok, false, 'a is out of tokens');
  l2.take('b', true, 'ip', 0);
  l2.take('c', true, 'ip', 0);
  l2.take('a', false, 'ip', 0); // touches a
  l2.take('d', true, 'ip', 0); // evicts b, the least recently used
  t.equal(l2.take('a', false, 'ip', 0).ok, false, 'a kept its (empty) bucket: evicting it would have refilled it');
});

t.test('API keys (issue 16) get a bucket each, at their own limit, without spending new-client tokens', async (t) => {
  const { RateLimiter } = await import('../../src/server/rate-limit.ts');
  const limiter = new RateLimiter({ perMinute: 600, newClientsPerMinute: 1 });
  t.equal(limiter.take('cookie-1', true, 'ip', 0).ok, true, 'the address\'s one new identity');
  t.equal(limiter.take('cookie-2', true, 'ip', 0).ok, false, 'a second fresh cookie from it is refused');
  t.same([limiter.takeForKey('k1', 2, 0).ok, limiter.takeForKey('k2', 2, 0).ok], [true, true], 'keys are verified identities: no new-client token needed');
  t.equal(limiter.takeForKey('k1', 2, 0).ok, true);
  const third = limiter.takeForKey('k1', 2, 0);
  t.same([third.ok, third.limit], [false, 2], 'the key\'s own limit (2 a minute), not the server\'s 600');
  t.equal(limiter.takeForKey('k2', 2, 0).ok, true, 'another key has its own bucket');
});

t.test('D5: API paths are case-sensitive everywhere: other spellings are 404, never unscoped', async (t) => {
  const srv = await startTestServer(db, { rateLimit: 1000 });
  try {
    const c = new Client(srv.url);
    const before = (await c.png('/api/predictions', png)).json.id as string;
    t.ok(before, 'the canonical spelling works');
    const calls: [string, string][] = [['POST', '/API/PREDICTIONS'], ['POST', '/Api/Predictions'], ['GET', '/API/PREDICTIONS'], ['GET', '/API/STATS'], ['GET', '/api/STATS'],
      ['DELETE', '/API/PREDICTIONS'], ['DELETE', `/API/PREDICTIONS/${before}`], ['GET', `/api/Predictions/${before}`], ['GET', '/API/MODEL'], ['POST', '/%61pi/predictions'], ['POST', '/api/%70redictions'], ['GET', '/%41PI/stats']];
    for (const [method, path] of calls) {
      const r = method === 'POST' ? await new Client(srv.url).png(path, png) : await new Client(srv.url).req(method, path);
      t.equal(r.status, 404, `${method} ${path}: 404`);
      t.equal(r.json?.error?.code, 'not_found', `${method} ${path}: JSON not_found`);
    }
    t.equal((await c.req('GET', '/api/predictions')).json.total, 1, 'nothing stored by the other spellings, nothing deleted');
  } finally {
    await srv.close();
  }
});

t.test('D10: a JSON body of 100,000 unknown keys gets a short 400', async (t) => {
  const srv = await startTestServer(db);
  try {
    const body = JSON.stringify(Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`key_number_${i}`, 1])));
    const r = await new Client(srv.url).req('POST', '/api/predictions', { body, headers: { 'content-type': 'application/json' } });
    t.equal(r.status, 400);
    t.equal(r.json.error.code, 'invalid_body');
    t.ok(r.text.length < 1000, `the answer is ${r.text.length} bytes for a ${body.length}-byte body`);
    t.match(r.json.error.message, /key_number_0/, 'it still names the first unknown keys');
  } finally {
    await srv.close();
  }
});

t.test('D11: 405, 501, 401 and 429 in the JSON error shape with their headers', async (t) => {
  const srv = await startTestServer(db, { adminToken: ADMIN, rateLimit: 2 });
  try {
    const c = new Client(srv.url);
    const m = await c.req('PATCH', '/api/predictions');
    t.equal(m.status, 405);
    t.equal(m.json?.error?.code, 'method_not_allowed');
    t.match(m.headers.get('allow') ?? '', /GET.*POST|POST.*GET/);
    const raw = await rawRequest(srv.url, head(srv.url, '/api/predictions', {}, 'PROPFIND'));
    t.equal(raw.status, 501);
    t.match(raw.body, /"code":"not_implemented"/);
    const u = await c.req('GET', '/api/predictions', { headers: { authorization: 'Bearer not-the-token-at-all' } });
    t.equal(u.status, 401);
    t.match(u.headers.get('www-authenticate') ?? '', /^Bearer realm="inkling"/);
    let limited = await c.req('GET', '/api/model');
    for (let i = 0; i < 5 && limited.status !== 429; i++) limited = await c.req('GET', '/api/model');
    t.equal(limited.status, 429);
    t.equal(limited.headers.get('ratelimit-limit'), '2');
    t.equal(limited.headers.get('ratelimit-remaining'), '0');
    t.ok(Number(limited.headers.get('ratelimit-reset')) >= 1, 'RateLimit-Reset in seconds');
    t.ok(Number(limited.headers.get('retry-after')) >= 1, 'and Retry-After');
  } finally {
    await srv.close();
  }
});

t.test('D9: answers given during a graceful shutdown say Connection: close', async (t) => {
  const srv = await startTestServer(db);
  const u = new URL(srv.url);
  const socket = net.connect(Number(u.port), u.hostname);
  await new Promise((r) => socket.once('connect', r));
  let got = '';
  socket.on('data', (d) => (got += d.toString('latin1')));
  // A keep-alive request whose body is still arriving when the shutdown begins.
  socket.write(head(srv.url, '/api/predictions', { 'Content-Type': 'image/png', 'Content-Length': png.length, Connection: 'keep-alive' }));
  socket.write(png.subarray(0, 100));
  await new Promise((r) => setTimeout(r, 200));
  const closing = srv.close();
  await new Promise((r) => setTimeout(r, 100));
  socket.write(png.subarray(100));
  for (let i = 0; i < 200 && !/\r\n\r\n/.test(got); i++) await new Promise((r) => setTimeout(r, 25));
  t.match(got, /^HTTP\/1\.1 201/, 'the request in flight is answered');
  t.match(got, /\r\nConnection: close\r\n/i, 'with Connection: close');
  socket.destroy();
  await closing;
});

t.test('D13: the shutdown timeout does not fire after a shutdown that finished in time', async (t) => {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
  const srv = await startServer(testConfig(db, { logLevel: 'info', shutdownTimeoutMs: 300 }), { model: await testModel(), logger: pino({ level: 'info' }, sink), exitWithParent: false });
  await srv.close();
  await new Promise((r) => setTimeout(r, 700));
  t.notOk(lines.some((l) => /shutdown timeout/.test(l)), 'no "shutdown timeout" warning after a clean stop');
  t.ok(lines.some((l) => /inkling stopped/.test(l)));
});
