// URL input: SSRF refusals (every private/reserved address form, re-checked on each redirect),
// protocol/credential checks, timeouts, size and content-type caps; and the test-only loopback
// allowance (off by default) to fetch from a local HTTP server.
import t from 'tap';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestDatabase, startTestServer, Client, type TestDatabase } from './helpers.ts';
import type { RunningServer } from '../../src/server/server.ts';
import { isPublicAddress } from '../../src/server/url-fetch.ts';
import { drawDigit, encode, SEVEN } from '../preprocess/images.ts';

let db: TestDatabase;
let srv: RunningServer;
let images: http.Server;
let base = '';

t.before(async () => {
  db = await startTestDatabase();
  srv = await startTestServer(db);
  const png = await encode(drawDigit(SEVEN, { width: 280, height: 280, box: { x: 70, y: 50, w: 140, h: 180 }, thickness: 18 }), 280, 280, 'png');
  images = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const hops = Number(u.searchParams.get('hops') ?? 0);
    switch (u.pathname) {
      case '/digit.png': res.writeHead(200, { 'content-type': 'image/png' }).end(png); break;
      case '/redirect': res.writeHead(302, { location: hops > 1 ? `/redirect?hops=${hops - 1}` : '/digit.png' }).end(); break;
      case '/to-metadata': res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end(); break;
      case '/to-private': res.writeHead(301, { location: 'http://10.0.0.7/digit.png' }).end(); break;
      case '/to-file': res.writeHead(302, { location: 'file:///etc/passwd' }).end(); break;
      case '/page.html': res.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>'); break;
      case '/huge.png': res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(6 * 1024 * 1024) }).end(); break;
      case '/endless.png': {
        res.writeHead(200, { 'content-type': 'image/png' });
        const chunk = Buffer.alloc(256 * 1024);
        let sent = 0;
        const pump = () => { while (sent < 8 * 1024 * 1024 && res.write(chunk)) sent += chunk.length; if (sent < 8 * 1024 * 1024) res.once('drain', pump); else res.end(); };
        pump();
        break;
      }
      case '/slow.png': setTimeout(() => res.writeHead(200, { 'content-type': 'image/png' }).end(png), 3000).unref(); break;
      default: res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => images.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(images.address() as AddressInfo).port}`;
});
t.teardown(async () => {
  images?.closeAllConnections();
  images?.close();
  await srv?.close();
  await db?.destroy();
});

t.test('isPublicAddress', async (t) => {
  for (const a of ['8.8.8.8', '1.1.1.1', '93.184.216.34', '2606:4700:4700::1111', '2a00:1450:4001:80b::200e']) t.ok(isPublicAddress(a), `${a} public`);
  for (const a of ['127.0.0.1', '127.255.0.9', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0',
    '224.0.0.1', '239.255.255.250', '255.255.255.255', '192.0.2.5', '198.18.0.1', '::1', '::', 'fe80::1', 'fc00::1', 'fd00:ec2::254', 'ff02::1',
    '::ffff:127.0.0.1', '::ffff:10.0.0.1', '::ffff:7f00:1', '::ffff:a9fe:a9fe', '64:ff9b::a9fe:a9fe', '64:ff9b::127.0.0.1', '2001:db8::1', 'not-an-ip']) {
    t.notOk(isPublicAddress(a), `${a} refused`);
  }
});

t.test('refusals with the default policy (no loopback allowance)', async (t) => {
  const c = new Client(srv.url);
  const cases: [string, number, string][] = [
    [`${base}/digit.png`, 400, 'url_not_allowed'],
    ['http://localhost:9/digit.png', 400, 'url_not_allowed'],
    ['http://169.254.169.254/latest/meta-data/', 400, 'url_not_allowed'],
    ['http://[::1]/x.png', 400, 'url_not_allowed'],
    ['http://[::ffff:127.0.0.1]/x.png', 400, 'url_not_allowed'],
    ['http://[fd00:ec2::254]/latest/', 400, 'url_not_allowed'],
    ['http://10.0.0.1/x.png', 400, 'url_not_allowed'],
    ['http://192.168.0.1/x.png', 400, 'url_not_allowed'],
    ['http://0.0.0.0/x.png', 400, 'url_not_allowed'],
    ['http://224.0.0.1/x.png', 400, 'url_not_allowed'],
    ['http://2130706433/x.png', 400, 'url_not_allowed'], // 127.0.0.1 as a decimal integer
    ['http://0x7f.1/x.png', 400, 'url_not_allowed'],
    ['file:///etc/passwd', 400, 'bad_url'],
    ['ftp://example.com/x.png', 400, 'bad_url'],
    ['gopher://example.com/', 400, 'bad_url'],
    ['http://user:pass@example.com/x.png', 400, 'bad_url'],
    ['not a url', 400, 'bad_url'],
    ['', 400, 'bad_url'],
  ];
  for (const [url, status, code] of cases) {
    const r = await c.json('POST', '/api/predictions', { url });
    t.equal(r.status, status, `${url || '(empty)'}: ${status}`);
    t.equal(r.json?.error?.code, code, `${url || '(empty)'}: ${code}`);
  }
  t.equal((await c.req('GET', '/healthz')).status, 200);
});

t.test('with the test-only loopback allowance: fetch, redirects re-checked, caps', async (t) => {
  t.equal(srv.deps.fetchPolicy.allowLoopback, false, 'off by default');
  srv.deps.fetchPolicy.allowLoopback = true;
  srv.deps.fetchPolicy.timeoutMs = 1000;
  t.teardown(() => {
    srv.deps.fetchPolicy.allowLoopback = false;
    srv.deps.fetchPolicy.timeoutMs = 5000;
  });
  const c = new Client(srv.url);
  const ok = await c.json('POST', '/api/predictions', { url: `${base}/digit.png` });
  t.equal(ok.status, 201);
  t.equal(ok.json.logged, true);
  const h = await c.req('GET', '/api/predictions');
  t.equal(h.json.items[0].source, 'url');
  t.equal((await c.json('POST', '/api/predictions', { url: `${base}/redirect?hops=3` })).status, 201, '3 redirects are followed');
  const cases: [string, number, string][] = [
    [`${base}/redirect?hops=4`, 502, 'url_fetch_failed'],
    [`${base}/to-metadata`, 400, 'url_not_allowed'],
    [`${base}/to-private`, 400, 'url_not_allowed'],
    [`${base}/to-file`, 400, 'bad_url'],
    [`${base}/page.html`, 415, 'unsupported_media_type'],
    [`${base}/huge.png`, 413, 'payload_too_large'],
    [`${base}/endless.png`, 413, 'payload_too_large'],
    [`${base}/missing.png`, 502, 'url_fetch_failed'],
    [`${base}/slow.png`, 504, 'url_timeout'],
    ['http://127.0.0.1:1/x.png', 502, 'url_fetch_failed'],
  ];
  for (const [url, status, code] of cases) {
    const r = await c.json('POST', '/api/predictions', { url });
    t.equal(r.status, status, `${url}: ${status}`);
    t.equal(r.json?.error?.code, code, `${url}: ${code}`);
  }
  t.equal((await c.req('GET', '/healthz')).status, 200);
});
