// npm run test:deploy — the compose layout end to end under podman: build the image, bring up
// PostgreSQL, 2 replicas and HAProxy (compose.yaml through podman-compose), send load through the
// load balancer for 20 s recording every 201's id, SIGKILL one replica at 10 s. Afterwards every
// acknowledged prediction must be in the table, and the failures must all fall in a short window
// after the kill (HAProxy routed around the dead replica). Prints req/s, the error window and how
// long the dead replica took to be marked DOWN. Needs root, podman, runc, podman-compose and
// mmdebstrap (base images: scripts/container-base.sh); skips, saying which is missing, without
// them (INKLING_REQUIRE_DEPLOY=1 turns that into a failure).
import t from 'tap';
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { canvasPng } from '../../bench/canvas-png.ts';
import { containersOf, must, onPath, podmanEnv, removeProject, run } from './podman.ts';
import { runLoad } from './load.ts';

const LOAD_SECONDS = 20;
const KILL_AT = 10;
const CONNECTIONS = 16;
const execFileAsync = promisify(execFile);

const missing = ['podman', 'runc', 'podman-compose', 'mmdebstrap'].filter((p) => !onPath(p));
if (process.getuid?.() !== 0) missing.push('root');
const skip = missing.length ? `needs ${missing.join(', ')} (apt-get install podman runc podman-compose mmdebstrap, as root)` : false;
if (skip && process.env.INKLING_REQUIRE_DEPLOY === '1') {
  t.fail(`INKLING_REQUIRE_DEPLOY=1 but the deploy test ${skip}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** HAProxy's view of the replicas (its stats CSV, read from inside a replica that is alive). */
async function backendStates(via: string): Promise<string[]> {
  const script = "fetch('http://haproxy:8404/;csv').then(r=>r.text()).then(t=>process.stdout.write(t),()=>process.exit(1))";
  const { stdout } = await execFileAsync('podman', ['exec', via, 'node', '-e', script], { env: podmanEnv(), timeout: 10_000 });
  return stdout.split('\n').filter((l) => l.startsWith('inkling,inkling')).map((l) => l.split(',')[17]).filter((s) => s !== 'MAINT');
}

const seconds = (t0: number) => ((performance.now() - t0) / 1000).toFixed(1);

t.test('compose: 2 replicas behind HAProxy, one killed under load, nothing acknowledged is lost', { skip, timeout: 1_800_000 }, async (t) => {
  const project = `inkling-deploy-${process.pid}`;
  const port = await freePort();
  const env = podmanEnv({
    INKLING_PORT: String(port),
    INKLING_REPLICAS: '2',
    INKLING_RATE_LIMIT: '0', // one client address (the test) sends all the load
    POSTGRES_PASSWORD: randomBytes(12).toString('hex'),
  });
  removeProject(project);
  t.teardown(() => removeProject(project));

  let t0 = performance.now();
  must('bash', ['scripts/container-base.sh'], { env, timeoutMs: 900_000 });
  t.comment(`base images ready in ${seconds(t0)} s`);
  t0 = performance.now();
  must('podman', ['build', '--format', 'docker', '-t', 'inkling:latest', '.'], { env, timeoutMs: 1_200_000 });
  t.comment(`image built in ${seconds(t0)} s`);

  t0 = performance.now();
  must('podman-compose', ['-p', project, '-f', 'compose.yaml', 'up', '-d'], { env, timeoutMs: 300_000 });
  const replicas = containersOf(project, 'inkling');
  t.equal(replicas.length, 2, `two replicas: ${replicas.join(', ')}`);
  const [victim, survivor] = replicas;
  // Ready = HAProxy sees both replicas UP (its health checks pass) and answers /readyz.
  for (let i = 0; ; i++) {
    const states = await backendStates(survivor).catch(() => []);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status === 200, () => false);
    if (ready && states.filter((s) => s === 'UP').length === 2) break;
    if (i > 240) throw new Error(`not ready after 120 s: HAProxy states ${states.join(',')}; logs: ${run('podman', ['logs', '--tail', '20', victim], { env }).stderr}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  t.comment(`stack up and both replicas UP in HAProxy after ${seconds(t0)} s`);

  const body = await canvasPng();
  const url = `http://127.0.0.1:${port}/api/predictions?source=canvas`;
  await runLoad({ url, body, connections: CONNECTIONS, seconds: 3 }); // warm-up (JIT, pools)

  let killedAt = -1;
  let downAfter = -1;
  const tLoad = performance.now();
  const load = runLoad({
    url, body, connections: CONNECTIONS, seconds: LOAD_SECONDS, eventAt: KILL_AT,
    onEvent: () => {
      killedAt = (performance.now() - tLoad) / 1000;
      void execFileAsync('podman', ['kill', '--signal', 'KILL', victim], { env }).then(async () => {
        for (let i = 0; i < 100 && downAfter < 0; i++) {
          const states = await backendStates(survivor).catch(() => []);
          if (states.filter((s) => s === 'UP').length < 2) downAfter = (performance.now() - tLoad) / 1000 - killedAt;
          else await new Promise((r) => setTimeout(r, 100));
        }
      });
    },
  });
  const result = await load;

  const pg = containersOf(project, 'postgres')[0];
  // A row answered with logged:false sits in its replica's spool until the database takes it;
  // give such rows time to be replayed (the killed replica's come back when it restarts).
  const spooled = result.acknowledged.filter((a) => !a.logged).length;
  let stored = new Set<string>();
  for (let i = 0; i < (spooled ? 60 : 1); i++) {
    const out = must('podman', ['exec', pg, 'psql', '-U', 'inkling', '-d', 'inkling', '-At', '-c', 'SELECT id FROM predictions'], { env });
    stored = new Set(out.split('\n').filter(Boolean));
    if (result.acknowledged.every((a) => stored.has(a.id))) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  const lost = result.acknowledged.filter((a) => !stored.has(a.id));
  const ids = new Set(result.acknowledged.map((a) => a.id));

  const rps = result.acknowledged.length / result.durationS;
  const before = result.acknowledged.filter((a) => a.atS < killedAt).length / killedAt;
  const after = result.acknowledged.filter((a) => a.atS >= killedAt + 3).length / Math.max(0.001, result.durationS - killedAt - 3);
  const failTimes = result.failures.map((f) => f.atS);
  const window = failTimes.length ? `${failTimes.length} failed requests between ${(Math.min(...failTimes) - killedAt).toFixed(2)} s and ${(Math.max(...failTimes) - killedAt).toFixed(2)} s after the kill` : 'no failed request';
  const kinds = [...new Set(result.failures.map((f) => f.what))].slice(0, 5);
  t.comment(`deploy: ${result.acknowledged.length} predictions acknowledged in ${result.durationS.toFixed(1)} s through HAProxy at c${CONNECTIONS}: ${rps.toFixed(0)} req/s (${before.toFixed(0)} req/s with 2 replicas, ${after.toFixed(0)} req/s with 1 from 3 s after the kill)`);
  t.comment(`deploy: replica ${victim} SIGKILLed at ${killedAt.toFixed(2)} s; HAProxy marked it DOWN ${downAfter >= 0 ? `${downAfter.toFixed(2)} s` : 'never (within 10 s)'} later; error window: ${window}${kinds.length ? ` (${kinds.join('; ')})` : ''}`);
  t.comment(`deploy: ${lost.length} acknowledged predictions missing from the table (${stored.size} rows stored, ${spooled} answered logged:false)`);

  t.equal(ids.size, result.acknowledged.length, 'every acknowledged id is distinct');
  t.ok(killedAt > 0, 'the replica was killed during the load');
  t.ok(result.acknowledged.length > LOAD_SECONDS * 10, 'the stack served the load');
  t.equal(lost.length, 0, '0 acknowledged predictions missing from the table');
  t.ok(downAfter >= 0, 'HAProxy marked the killed replica DOWN');
  t.ok(result.failures.every((f) => f.atS >= killedAt - 0.1 && f.atS <= killedAt + 5), `failures only within 5 s of the kill (${window})`);
  t.ok(result.acknowledged.some((a) => a.atS > killedAt + 3), 'predictions kept being answered after the kill');

  // The database goes away: the replicas keep answering (rows spooled, logged:false) and the rows
  // reach the table once it is back.
  must('podman', ['stop', '-t', '10', pg], { env });
  const outage = await runLoad({ url, body, connections: 4, seconds: 4 });
  must('podman', ['start', pg], { env });
  const spooledIds = outage.acknowledged.filter((a) => !a.logged).map((a) => a.id);
  let back = new Set<string>();
  for (let i = 0; i < 60; i++) {
    const r = run('podman', ['exec', pg, 'psql', '-U', 'inkling', '-d', 'inkling', '-At', '-c', 'SELECT id FROM predictions'], { env });
    if (r.status === 0) {
      back = new Set(r.stdout.split('\n').filter(Boolean));
      if (outage.acknowledged.every((a) => back.has(a.id))) break;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  const outageLost = outage.acknowledged.filter((a) => !back.has(a.id)).length;
  t.comment(`deploy: database stopped for 4 s under load: ${outage.acknowledged.length} predictions answered (${spooledIds.length} spooled), ${outage.failures.length} failed; ${outageLost} missing after it returned`);
  t.ok(outage.acknowledged.length > 0 && spooledIds.length > 0, 'replicas kept answering without their database (rows spooled)');
  t.equal(outageLost, 0, 'every spooled row reached the table once the database returned');
});
