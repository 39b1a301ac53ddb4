// `inkling serve` as a process: config errors name the variable; it starts, answers, and shuts
// down gracefully on SIGTERM (exit 0, log flushed, "inkling stopped").
import t from 'tap';
import { spawn } from 'node:child_process';
import { loadConfig, ConfigError } from '../../src/server/config.ts';
import { startTestDatabase, makeTestModelDir, type TestDatabase } from './helpers.ts';

const BIN = new URL('../../bin/inkling.js', import.meta.url).pathname;

t.test('config: defaults, and a bad value stops with the variable named', async (t) => {
  const c = loadConfig({});
  t.equal(c.port, 3000);
  t.equal(c.backend, 'cpu');
  t.equal(c.rateLimit, 600);
  t.equal(c.maxBodyBytes, 5 * 1024 * 1024);
  t.equal(c.allowLoopbackUrlsForTests, false, 'the test-only URL allowance cannot be set from the environment');
  t.equal(loadConfig({ INKLING_RATE_LIMIT: '0' }).rateLimit, 0);
  t.throws(() => loadConfig({ PORT: 'eighty' }), ConfigError);
  t.throws(() => loadConfig({ PORT: 'eighty' }), /PORT="eighty"/);
  t.throws(() => loadConfig({ INKLING_BACKEND: 'tpu' }), /INKLING_BACKEND="tpu".*cpu/);
  t.throws(() => loadConfig({ DATABASE_URL: 'mysql://x' }), /DATABASE_URL/);
  t.throws(() => loadConfig({ INKLING_ADMIN_TOKEN: 'short' }), /INKLING_ADMIN_TOKEN.*16/);
  t.throws(() => loadConfig({ INKLING_RATE_LIMIT: '-5' }), /INKLING_RATE_LIMIT/);
  // Issue 14: durable by default, a byte-bounded spool, timeouts, budgets.
  t.equal(c.dbSyncCommit, true, 'commits wait for the WAL flush by default');
  t.equal(loadConfig({ INKLING_DB_SYNC_COMMIT: '0' }).dbSyncCommit, false, 'the documented opt-out');
  t.equal(c.spoolMaxBytes, 1024 ** 3);
  t.equal(c.bodyBudgetBytes, 64 * 1024 * 1024);
  t.equal(c.bodyTimeoutMs, 30_000);
  t.equal(c.dbWriteTimeoutMs, 1000);
  t.equal(c.rateLimitNewClients, 60);
  t.throws(() => loadConfig({ INKLING_SPOOL_MAX_ROWS: '10000' }), /INKLING_SPOOL_MAX_ROWS.*INKLING_SPOOL_MAX_BYTES/s, 'the replaced row cap is refused with its successor named');
});

function run(env: Record<string, string>) {
  const child = spawn(process.execPath, [BIN, 'serve'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number>((r) => child.on('exit', (code) => r(code ?? -1)));
  return { child, exited, output: () => out };
}

t.test('a bad variable: exit 2, message names it', async (t) => {
  const p = run({ INKLING_BATCH_MAX: 'lots' });
  t.equal(await p.exited, 2);
  t.match(p.output(), /INKLING_BATCH_MAX="lots"/);
});

let db: TestDatabase;
t.test('starts, serves, shuts down gracefully on SIGTERM', async (t) => {
  db = await startTestDatabase();
  t.teardown(() => db.destroy());
  const modelDir = await makeTestModelDir();
  const p = run({ DATABASE_URL: db.url, INKLING_MODEL_DIR: modelDir, PORT: '0', INKLING_LOG_LEVEL: 'info', INKLING_SPOOL_DIR: `${modelDir}/spool` });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const m = /inkling listening on (http:\/\/[\d.:]+)/.exec(p.output());
      if (m) {
        clearInterval(timer);
        resolve(m[1]);
      }
    }, 50);
    void p.exited.then((code) => {
      clearInterval(timer);
      reject(new Error(`exited ${code}: ${p.output()}`));
    });
  });
  const health = await fetch(`${url}/healthz`);
  t.equal(health.status, 200);
  const ready = await fetch(`${url}/readyz`);
  t.equal(ready.status, 200);
  t.match(p.output(), /"reqId":"[\w-]+"/, 'structured logs carry request ids');
  p.child.kill('SIGTERM');
  t.equal(await p.exited, 0, 'exit 0');
  t.match(p.output(), /inkling stopped/);
});

t.test('started through a shell that does not forward SIGTERM (npm start): exits when the shell dies', async (t) => {
  const tdb = await startTestDatabase();
  t.teardown(() => tdb.destroy());
  const modelDir = await makeTestModelDir();
  // Like npm: SIGTERM reaches the shell, which dies without passing it on; the server must
  // notice it was orphaned and shut down gracefully instead of running on.
  const shell = spawn('sh', ['-c', `"${process.execPath}" "${BIN}" serve & echo "PID $!"; wait`], {
    env: { ...process.env, DATABASE_URL: tdb.url, INKLING_MODEL_DIR: modelDir, PORT: '0', INKLING_LOG_LEVEL: 'info', INKLING_SPOOL_DIR: `${modelDir}/spool` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  shell.stdout.on('data', (d) => (out += d));
  shell.stderr.on('data', (d) => (out += d));
  const deadline = Date.now() + 60_000;
  while (!/inkling listening on/.test(out)) {
    if (Date.now() > deadline) throw new Error(`server did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const pid = Number(/PID (\d+)/.exec(out)?.[1]);
  t.ok(pid > 0, 'server pid known');
  shell.kill('SIGTERM');
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const end = Date.now() + 15_000;
  while (alive() && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  t.notOk(alive(), 'the orphaned server exited');
  if (alive()) process.kill(pid, 'SIGKILL');
  t.match(out, /parent process exited/, 'it says why');
  t.match(out, /inkling stopped/, 'graceful shutdown ran');
});
