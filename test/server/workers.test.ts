// `inkling serve --workers 2`: two processes share the port (node:cluster), both answer, every
// prediction is logged once; a worker that dies is replaced while the other keeps serving; SIGTERM
// stops everything gracefully. Plus the spool lock that keeps two instances off one spool.
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'slonik';
import { z } from 'zod';
import { startTestDatabase, type TestDatabase } from './helpers.ts';
import { connectPool } from '../../src/server/db/pool.ts';
import { lockSpool, SpoolInUseError, STALE_MS } from '../../src/server/spool-lock.ts';
import { drawDigit, encode, SEVEN } from '../preprocess/images.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
let db: TestDatabase;
t.before(async () => {
  db = await startTestDatabase();
});
t.teardown(() => db?.destroy());

interface LogLine { msg?: string; worker?: number; pid?: number; path?: string; status?: number }

function serve(env: Record<string, string>): { child: ChildProcess; lines: LogLine[]; url: Promise<string> } {
  const child = spawn(process.execPath, ['bin/inkling.js', 'serve', '--workers', '2'], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: LogLine[] = [];
  let resolveUrl!: (u: string) => void;
  const url = new Promise<string>((r) => (resolveUrl = r));
  let buf = '';
  child.stdout!.on('data', (c: Buffer) => {
    buf += c.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        const j = JSON.parse(line) as LogLine;
        lines.push(j);
        const m = /^inkling listening on (\S+) \(2 workers\)$/.exec(j.msg ?? '');
        if (m) resolveUrl(m[1]);
      } catch {
        // not JSON
      }
    }
  });
  child.stderr!.resume();
  return { child, lines, url };
}

t.test('two workers share the port, both serve, a dead one is replaced, SIGTERM stops all', async (t) => {
  const spool = mkdtempSync(join(tmpdir(), 'inkling-workers-spool-'));
  const { child, lines, url: urlP } = serve({ PORT: '0', DATABASE_URL: db.url, INKLING_LOG_LEVEL: 'info', INKLING_RATE_LIMIT: '0', INKLING_SPOOL_DIR: spool, INKLING_PREPROCESS_THREADS: '0' });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const url = await Promise.race([urlP, new Promise<string>((_, rej) => setTimeout(() => rej(new Error('no "listening" line in 60 s')), 60_000))]);
  const png = await encode(drawDigit(SEVEN, { width: 280, height: 280, box: { x: 70, y: 50, w: 140, h: 180 }, thickness: 18, transparent: true }), 280, 280, 'png');
  const post = () => fetch(`${url}/api/predictions`, { method: 'POST', headers: { 'content-type': 'image/png', connection: 'close' }, body: new Uint8Array(png) }).then(async (r) => [r.status, (await r.json()) as { id: string }] as const);
  // Both workers must be listening before the round-robin reaches both.
  for (let i = 0; i < 100 && lines.filter((l) => /^inkling listening/.test(l.msg ?? '') && l.worker).length < 2; i++) await new Promise((r) => setTimeout(r, 200));

  const results = await Promise.all(Array.from({ length: 40 }, post));
  t.ok(results.every(([s]) => s === 201), '40 concurrent predictions answered');
  await new Promise((r) => setTimeout(r, 300));
  const served = new Set(lines.filter((l) => l.path === '/api/predictions' && l.status === 201).map((l) => l.worker));
  t.same([...served].sort(), [1, 2], 'both workers served requests');
  const pool = await connectPool(db.url);
  t.teardown(() => pool.end());
  const ids = results.map(([, j]) => j.id);
  const n = await pool.oneFirst(sql.type(z.object({ n: z.number() }))`SELECT count(*)::int AS n FROM predictions WHERE id = ANY(${sql.array(ids, 'uuid')})`);
  t.equal(n, 40, 'every prediction logged once');
  t.ok(existsSync(join(spool, 'owner.lock')) && existsSync(join(spool, 'worker-2', 'owner.lock')), 'one spool per worker (worker 2 under worker-2/)');

  const victim = lines.find((l) => l.worker === 1 && l.pid)!.pid!;
  process.kill(victim, 'SIGKILL');
  const t0 = Date.now();
  for (let i = 0; i < 100 && !lines.some((l) => /worker 1 exited/.test(l.msg ?? '')); i++) await new Promise((r) => setTimeout(r, 100));
  t.ok(lines.some((l) => /worker 1 exited/.test(l.msg ?? '')), `the primary noticed the dead worker (${Date.now() - t0} ms)`);
  // (A connection handed to the worker in the instant it died fails, as behind any balancer.)
  const after = await Promise.all(Array.from({ length: 10 }, post));
  t.ok(after.every(([s]) => s === 201), 'the other worker kept serving');
  for (let i = 0; i < 300 && !lines.some((l) => l.worker === 1 && l.pid && l.pid !== victim && /listening/.test(l.msg ?? '')); i++) await new Promise((r) => setTimeout(r, 200));
  t.ok(lines.some((l) => l.worker === 1 && l.pid !== victim && /listening/.test(l.msg ?? '')), 'and started a new worker 1');

  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const t1 = Date.now();
  child.kill('SIGTERM');
  const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('timeout'), 30_000))]);
  t.equal(code, 0, `SIGTERM: the primary exits 0 after its workers (${Date.now() - t1} ms)`);
  t.ok(lines.some((l) => l.msg === 'inkling stopped' && l.worker === 2), 'worker 2 stopped gracefully');
});

t.test('spool lock: a live owner keeps it; a dead or stale one is taken over', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'inkling-spool-lock-'));
  const lockFile = join(dir, 'owner.lock');
  writeFileSync(lockFile, JSON.stringify({ host: 'another-container', pid: 1 }));
  t.throws(() => lockSpool(dir), SpoolInUseError, 'a fresh lock of another host: refused');
  const old = new Date(Date.now() - STALE_MS - 5000);
  utimesSync(lockFile, old, old);
  const release = lockSpool(dir);
  t.pass('a stale lock (no heartbeat for 30 s) is taken over');
  release();
  t.notOk(existsSync(lockFile), 'released on close');

  const { hostname } = await import('node:os');
  const sleeper = spawn('sleep', ['30']);
  t.teardown(() => sleeper.kill());
  writeFileSync(lockFile, JSON.stringify({ host: hostname(), pid: sleeper.pid }));
  t.throws(() => lockSpool(dir), /another running instance \(pid \d+/, 'a live process on this host: refused, naming it');
  sleeper.kill();
  await new Promise((r) => sleeper.once('exit', r));
  const again = lockSpool(dir);
  t.pass('its pid dead: taken over');
  again();
});
