// What integrators get (issue 16): API keys made with the real `inkling keys` command (stored
// hashed; each key sees only its own rows; per-key rate limits; a revoked key gets 401), the
// batch endpoint (256 images in one request, one result each, logged in ONE INSERT), raw
// application/octet-stream bodies, and CORS from INKLING_CORS_ORIGINS (off by default).
import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { sql } from 'slonik';
import { z } from 'zod';
import { startTestDatabase, startTestServer, Client, canvasPngs, type TestDatabase } from './helpers.ts';
import type { RunningServer } from '../../src/server/server.ts';
import { KEY_CACHE_MS } from '../../src/server/api-keys.ts';
import { loadConfig } from '../../src/server/config.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
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

const execFileAsync = promisify(execFile);

/** `inkling keys …` against the test database, as a user runs it (asynchronously: the server
 *  under test runs in this process). */
async function keys(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  try {
    const r = await execFileAsync(process.execPath, ['bin/inkling.js', 'keys', ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, DATABASE_URL: db.url } });
    return { status: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { status: typeof e.code === 'number' ? e.code : null, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

async function createKey(name: string, ...extra: string[]): Promise<{ key: string; id: string; prefix: string }> {
  const r = await keys('create', '--name', name, '--json', ...extra);
  if (r.status !== 0) throw new Error(`inkling keys create failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { key: string; id: string; prefix: string };
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

t.test('API keys: each key sees only its own rows; the admin sees all; a revoked key gets 401', async (t) => {
  const a = await createKey('integrator A');
  const b = await createKey('integrator B');
  t.match(a.key, /^ink_[A-Za-z0-9-]{16}_[A-Za-z0-9_-]{32}$/, 'key format');
  const A = new Client(srv.url, bearer(a.key));
  const B = new Client(srv.url, bearer(b.key));
  const made = await A.png('/api/predictions', sevenPng);
  t.equal(made.status, 201, 'A predicts with its key');
  t.equal(made.headers.get('set-cookie'), null, 'no cookie for a key client');
  const id = made.json.id as string;
  await B.png('/api/predictions', zeroPng);

  t.same((await A.req('GET', '/api/predictions')).json.items.map((i: { id: string }) => i.id), [id], "A's history: its one row");
  const bList = (await B.req('GET', '/api/predictions')).json;
  t.equal(bList.total, 1, 'B sees only its own row');
  t.notOk(bList.items.some((i: { id: string }) => i.id === id), "A's row is not in B's history");
  t.equal((await B.req('GET', `/api/predictions/${id}`)).status, 404, "B cannot read A's row");
  t.equal((await B.json('PUT', `/api/predictions/${id}/feedback`, { label: 1 })).status, 404, "B cannot label A's row");
  t.equal((await B.req('DELETE', `/api/predictions/${id}`)).status, 404, "B cannot delete A's row");
  t.equal((await B.req('DELETE', '/api/predictions')).json.deleted, 1, "B's delete-all removes B's row only");
  t.equal((await A.req('GET', `/api/predictions/${id}`)).status, 200, "A's row is still there");
  t.equal((await A.req('GET', '/api/stats')).json.total, 1, "A's stats count A's row");
  t.equal((await B.req('GET', '/api/stats')).json.total, 0, "B's stats are empty");
  const cookieClient = new Client(srv.url);
  t.equal((await cookieClient.req('GET', '/api/predictions')).json.total, 0, 'a cookie client sees none of them');
  const admin = await new Client(srv.url, bearer(ADMIN)).req('GET', `/api/predictions/${id}`);
  t.equal(admin.status, 200, 'the admin sees every row');

  const stored = await srv.deps.pool.one(sql.type(z.object({ n: z.number(), leaked: z.number() }))`
    SELECT count(*)::int AS n, count(*) FILTER (WHERE encode(secret_hash, 'escape') LIKE '%' || prefix || '%')::int AS leaked FROM api_keys`);
  t.same(stored, { n: 2, leaked: 0 }, 'only hashes are stored');
  const listed = await keys('list', '--json');
  t.equal(listed.status, 0, 'keys list runs');
  const rows = JSON.parse(listed.stdout) as { prefix: string; revokedAt: string | null }[];
  t.same(rows.map((r) => r.prefix).sort(), [a.prefix, b.prefix].sort(), 'keys list shows both');
  t.notMatch(listed.stdout, a.key.slice(-32), 'and never a secret');

  const revoked = await keys('revoke', a.prefix);
  t.equal(revoked.status, 0, `keys revoke: ${revoked.stdout.trim()}`);
  await new Promise((r) => setTimeout(r, KEY_CACHE_MS + 100));
  const after = await A.req('GET', '/api/predictions');
  t.equal(after.status, 401, 'a revoked key gets 401');
  t.equal(after.json.error.message, 'this API key was revoked');
  t.equal((await A.png('/api/predictions', sevenPng)).status, 401, 'and cannot predict');
  t.equal((await B.req('GET', '/api/predictions')).status, 200, 'the other key still works');
  const bogus = await new Client(srv.url, bearer(`${b.key.slice(0, -4)}AAAA`)).req('GET', '/api/predictions');
  t.equal(bogus.status, 401, 'a key with a wrong secret gets 401');
  t.equal((await new Client(srv.url, bearer('ink_nope')).req('GET', '/api/stats')).status, 401, 'a malformed key gets 401');
  t.equal((await keys('revoke', 'no-such-prefix')).status, 2, 'revoking an unknown key is a usage error');
  t.equal((await keys('create')).status, 2, 'create without --name is a usage error');
});

t.test('API keys: a per-key rate limit applies even when the server default is off', async (t) => {
  const k = await createKey('slow integrator', '--rate-limit', '3');
  const c = new Client(srv.url, bearer(k.key));
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) statuses.push((await c.req('GET', '/api/stats')).status);
  t.same(statuses, [200, 200, 200, 429], '3 a minute, the 4th is limited');
  const other = await createKey('unlimited');
  t.equal((await new Client(srv.url, bearer(other.key)).req('GET', '/api/stats')).status, 200, 'another key has its own bucket');
});

t.test('batch: 256 images in one request, one result each, logged in one INSERT', async (t) => {
  const c = new Client(srv.url);
  const form = new FormData();
  for (let i = 0; i < 256; i++) form.append('images', new Blob([new Uint8Array(i % 2 ? zeroPng : sevenPng)], { type: 'image/png' }), `${i}.png`);
  form.append('source', 'upload');
  const statementsBefore = srv.deps.log.statements;
  const r = await c.req('POST', '/api/predictions/batch', { body: form });
  t.equal(r.status, 200, 'answered');
  t.equal(r.json.count, 256);
  t.equal(r.json.succeeded, 256, 'every image predicted');
  t.same(r.json.items.map((i: { index: number }) => i.index), [...Array(256).keys()], 'one result per image, in order');
  t.ok(r.json.items.every((i: { status: number; prediction: { logged: boolean } }) => i.status === 201 && i.prediction.logged), 'each logged');
  t.equal(srv.deps.log.statements - statementsBefore, 1, 'all 256 rows in one INSERT statement');
  const single = await Promise.all([sevenPng, zeroPng].map(async (png) => (await c.png('/api/predictions', png)).json.probabilities));
  t.same(r.json.items.slice(0, 2).map((i: { prediction: { probabilities: number[] } }) => i.prediction.probabilities), single, 'each image gets the answer the single endpoint gives it');
  t.equal((await c.req('GET', '/api/predictions?limit=1')).json.total, 258, 'all 256 in the history (+ the 2 single ones)');

  const j = await c.json('POST', '/api/predictions/batch', [sevenPng.toString('base64'), 'not base64!', `data:image/png;base64,${blankPng.toString('base64')}`]);
  t.equal(j.status, 200, 'JSON array form');
  t.same(j.json.items.map((i: { status: number }) => i.status), [201, 400, 422], 'a bad item fails alone, with the single endpoint status');
  t.equal(j.json.items[1].error.code, 'invalid_base64');
  t.equal(j.json.items[2].error.code, 'no_digit');
  const obj = await c.json('POST', '/api/predictions/batch', { images: [zeroPng.toString('base64')], source: 'canvas' });
  t.equal(obj.json.items[0].status, 201, 'JSON object form');

  const tooMany = await c.json('POST', '/api/predictions/batch', Array(257).fill(sevenPng.toString('base64')));
  t.same([tooMany.status, tooMany.json.error.code], [400, 'too_many_images'], '257 images: 400');
  const big = new FormData();
  for (let i = 0; i < 257; i++) big.append('images', new Blob([new Uint8Array(sevenPng)], { type: 'image/png' }), `${i}.png`);
  t.equal((await c.req('POST', '/api/predictions/batch', { body: big })).json.error.code, 'too_many_images', '257 files: 400');
  t.equal((await c.json('POST', '/api/predictions/batch', [])).json.error.code, 'empty_batch', 'empty: 400');
  t.equal((await c.req('POST', '/api/predictions/batch', { body: 'x', headers: { 'content-type': 'text/plain' } })).status, 415, 'other types: 415');
  t.equal((await c.req('GET', '/healthz')).status, 200, 'server healthy');
});

t.test('application/octet-stream bodies are accepted (the format is sniffed)', async (t) => {
  const c = new Client(srv.url);
  const r = await c.png('/api/predictions', sevenPng, 'application/octet-stream');
  t.equal(r.status, 201);
  t.equal(r.json.logged, true);
  const junk = await c.png('/api/predictions', Buffer.from('definitely not an image'), 'application/octet-stream');
  t.same([junk.status, junk.json.error.code], [415, 'unsupported_media_type'], 'bytes that are no image: 415');
});

t.test('CORS: off by default; INKLING_CORS_ORIGINS allows exactly the listed origins', async (t) => {
  const origin = 'https://app.example.com';
  const off = await new Client(srv.url, { origin }).req('GET', '/api/model');
  t.equal(off.headers.get('access-control-allow-origin'), null, 'off by default');

  const on = await startTestServer(db, { corsOrigins: [origin] });
  t.teardown(() => on.close());
  const pre = await fetch(`${on.url}/api/predictions`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } });
  t.equal(pre.status, 204, 'preflight answered');
  t.equal(pre.headers.get('access-control-allow-origin'), origin);
  t.match(pre.headers.get('access-control-allow-headers') ?? '', /Authorization/);
  t.match(pre.headers.get('access-control-allow-methods') ?? '', /POST/);
  const get = await new Client(on.url, { origin }).req('GET', '/api/model');
  t.equal(get.headers.get('access-control-allow-origin'), origin, 'allowed origin: header set');
  t.match(get.headers.get('access-control-expose-headers') ?? '', /X-Request-Id/);
  t.equal(get.headers.get('access-control-allow-credentials'), null, 'no credentials cross-origin');
  const other = await new Client(on.url, { origin: 'https://evil.example' }).req('GET', '/api/model');
  t.equal(other.headers.get('access-control-allow-origin'), null, 'another origin: no header');
  const page = await fetch(`${on.url}/`, { headers: { origin } });
  t.equal(page.headers.get('access-control-allow-origin'), null, 'only /api/ is cross-origin');
  t.throws(() => loadConfig({ INKLING_CORS_ORIGINS: 'https://ok.example, https://bad.example/path' }), /INKLING_CORS_ORIGINS.*not an origin/, 'a bad origin stops the start');
  t.same(loadConfig({ INKLING_CORS_ORIGINS: 'https://a.example, http://localhost:5173' }).corsOrigins, ['https://a.example', 'http://localhost:5173']);
});
