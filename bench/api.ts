// npm run bench:api  — the service under load on loopback (issue 4's benchmark).
//
// A canvas-like 280x280 RGBA PNG (a "7" in black strokes on transparency, as a browser's
// canvas.toBlob exports it) is POSTed as a raw image/png body:
//   c1:  one connection, sequential requests for BENCH_SECONDS (default 5): p50 / p99 latency,
//        each timed with performance.now on a raw keep-alive socket (sub-millisecond, unlike
//        autocannon's integer ms), plus the server's own timings from the responses;
//   c16, c64: autocannon with 16 and 64 connections: requests per second.
// Every prediction is logged: the server writes each row to PostgreSQL (batched multi-row inserts;
// the cluster runs with fsync on, and the service's commits wait for the WAL flush unless
// INKLING_DB_SYNC_COMMIT=0, see src/server/README.md) before it answers. Afterwards the server is stopped gracefully and the table is
// counted: it must hold one row per successful (201) request.
// The server runs in a child process (this file with --serve) so the load generator does not share
// its event loop. Database: DATABASE_URL, else a fresh local cluster in a temp dir. Model: the one
// under models/ (INKLING_MODEL_DIR), else a random-weight seed CNN (same cost per image), noted.
// Rate limiting is off (INKLING_RATE_LIMIT=0) and the log level is warn. Before the phases, a
// warm-up (1 s at one connection, then BENCH_WARMUP_SECONDS, default 5, at 16) lets the JIT settle.
// The phases run in BENCH_ROUNDS interleaved rounds (default 3) and each final figure is the
// median over the rounds. Ends with:  api c1: p50 1.9 ms, p99 4.1 ms  /  api c16: 1430 req/s  /
// api c64: ...  BENCH_WORKERS=N benchmarks `inkling serve --workers N` instead (same phases).
import { spawn } from 'node:child_process';
import net from 'node:net';
import { once } from 'node:events';
import { appendFileSync, existsSync, mkdtempSync, rmSync, chmodSync, readFileSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { canvasPng } from './canvas-png.ts';
import { sampleCpu, addScaled, zeroSample, describeSplit, type CpuSample } from './cpu-split.ts';
import { median } from './stats.ts';
import { sql } from 'slonik';
import { z } from 'zod';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const warmupSeconds = Number(process.env.BENCH_WARMUP_SECONDS ?? 5);
const rounds = Math.max(1, Math.round(Number(process.env.BENCH_ROUNDS ?? 3)));

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

async function serveChild(): Promise<void> {
  const { loadConfig } = await import('../src/server/config.ts');
  const { startServer } = await import('../src/server/server.ts');
  const server = await startServer({ ...loadConfig(), port: 0, rateLimit: 0, logLevel: 'warn' });
  const cpuAtReady = process.cpuUsage();
  // Garbage collection on the main thread while serving (minor = scavenges, major = mark-compact).
  const gc = { minor: 0, minorMs: 0, major: 0, majorMs: 0 };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) {
        gc.minor++;
        gc.minorMs += e.duration;
      } else {
        gc.major++;
        gc.majorMs += e.duration;
      }
    }
  }).observe({ entryTypes: ['gc'] });
  process.stdout.write(`READY ${server.url}\n`);
  process.once('SIGTERM', () => {
    // The default model's batcher, taken before close() empties the model registry.
    const batcher = server.deps.batcher;
    void server.close().then(async () => {
      // After a graceful close every request has finished: this is the final count of answered
      // predictions (including those whose client hung up when a load phase ended).
      const counted = await server.deps.metrics.predictions.get();
      const answered = counted.values.reduce((a, v) => a + v.value, 0);
      const { preprocess, config, log } = server.deps;
      // CPU time of the whole server process (all its threads) per answered prediction: unlike
      // req/s it barely depends on what else runs on the machine.
      const cpu = process.cpuUsage(cpuAtReady);
      const cpuPerRequest = (cpu.user + cpu.system) / 1000 / Math.max(1, answered);
      const stats = `STATS server CPU ${cpuPerRequest.toFixed(2)} ms per prediction, forward passes ${batcher.batches} (mean batch ${(batcher.images / Math.max(1, batcher.batches)).toFixed(1)}), ` +
        `preprocessed inline ${preprocess.inline}, in ${config.preprocessThreads} thread(s) ${preprocess.offloaded}, ` +
        `rows per INSERT ${(log.inserted / Math.max(1, log.statements)).toFixed(1)}, ` +
        `main-thread GC ${gc.minor} minor (${gc.minorMs.toFixed(0)} ms) + ${gc.major} major (${gc.majorMs.toFixed(0)} ms)`;
      process.stdout.write(`ANSWERED ${answered}\n${stats}\n`, () => process.exit(0));
    });
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

interface ServerTimings {
  decodeMs: number;
  preprocessMs: number;
  inferenceMs: number;
  totalMs: number;
}

/** One keep-alive HTTP/1.1 connection on a raw socket, one request in flight at a time, as
 *  autocannon does: the request is rendered once and written whole; the response's status line
 *  and headers are read and its body framed by Content-Length (the server always sends one; a
 *  response without it, or chunked, fails the connection rather than being miscounted). node:http's
 *  client would add ~0.1-0.2 ms of its own work to every request. */
class Connection {
  private pending: Buffer = Buffer.alloc(0);
  private waiting: ((r: { status: number; body: Buffer }) => void) | null = null;
  private failing: ((e: Error) => void) | null = null;

  private constructor(readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', (e) => this.fail(e)); // one listener, not one per request
    socket.on('close', () => this.fail(new Error('connection closed by the server')));
  }

  static async open(target: URL): Promise<Connection> {
    const socket = net.connect(Number(target.port), target.hostname);
    await once(socket, 'connect');
    return new Connection(socket);
  }

  private fail(e: Error): void {
    const f = this.failing;
    this.waiting = this.failing = null;
    f?.(e);
  }

  private onData(d: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, d]) : d;
    const end = this.pending.indexOf('\r\n\r\n');
    if (end < 0 || !this.waiting) return;
    const headers = this.pending.toString('latin1', 0, end);
    const m = /\r\ncontent-length: *(\d+)/i.exec(headers);
    if (!m || !headers.startsWith('HTTP/1.1 ')) return this.fail(new Error(`unexpected response head: ${headers.slice(0, 200)}`));
    const length = Number(m[1]);
    if (this.pending.length < end + 4 + length) return;
    const status = Number(headers.slice(9, 12));
    const body = this.pending.subarray(end + 4, end + 4 + length);
    this.pending = this.pending.subarray(end + 4 + length);
    const done = this.waiting;
    this.waiting = this.failing = null;
    done({ status, body });
  }

  send(request: Buffer): Promise<{ status: number; body: Buffer }> {
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.failing = reject;
      this.socket.write(request);
    });
  }
}

function renderRequest(url: string, body: Buffer): { target: URL; request: Buffer } {
  const target = new URL('/api/predictions?source=canvas', url);
  const head = `POST ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\nContent-Type: image/png\r\nContent-Length: ${body.length}\r\nConnection: keep-alive\r\n\r\n`;
  return { target, request: Buffer.concat([Buffer.from(head, 'latin1'), body]) };
}

/** One connection, sequential requests, each timed with performance.now (sub-millisecond,
 *  unlike autocannon's integer milliseconds), plus the server's own timings from the responses. */
async function sequential(url: string, body: Buffer, ms: number): Promise<{ latencies: number[]; timings: ServerTimings[]; ok: number; failed: number }> {
  const { target, request } = renderRequest(url, body);
  const conn = await Connection.open(target);
  const latencies: number[] = [];
  const timings: ServerTimings[] = [];
  let ok = 0;
  let failed = 0;
  const stop = performance.now() + ms;
  while (performance.now() < stop) {
    const t0 = performance.now();
    const res = await conn.send(request);
    latencies.push(performance.now() - t0); // before parsing: the client's JSON work is not the server's latency
    if (res.status === 201) {
      ok++;
      timings.push((JSON.parse(res.body.toString('utf8')) as { timings: ServerTimings }).timings);
    } else failed++;
  }
  conn.socket.destroy();
  return { latencies, timings, ok, failed };
}

/** `connections` of the above, each sending its next request when its response has arrived, for
 *  `duration` seconds (autocannon's model: responses still in flight at the end are not counted;
 *  the server still answers and logs them). */
async function rawLoad(url: string, body: Buffer, connections: number, duration = seconds): Promise<{ rps: number; ok: number; other: number }> {
  const { target, request } = renderRequest(url, body);
  const conns = await Promise.all(Array.from({ length: connections }, () => Connection.open(target)));
  let ok = 0;
  let other = 0;
  let stopped = false;
  let timer!: NodeJS.Timeout;
  const ended = new Promise<null>((r) => (timer = setTimeout(() => { stopped = true; r(null); }, duration * 1000)));
  await Promise.all(conns.map(async (conn) => {
    try {
      while (!stopped) {
        const res = await Promise.race([conn.send(request), ended]);
        if (res === null || stopped) break; // the phase ended with this request in flight
        if (res.status >= 200 && res.status < 300) ok++;
        else other++;
      }
    } catch {
      other++;
    }
  }));
  clearTimeout(timer);
  for (const c of conns) c.socket.destroy();
  return { rps: ok / duration, ok, other };
}

async function autocannonLoad(url: string, body: Buffer, connections: number, duration = seconds): Promise<{ rps: number; ok: number; other: number }> {
  const r = await autocannon({
    url: `${url}/api/predictions?source=canvas`,
    method: 'POST',
    headers: { 'content-type': 'image/png' },
    body,
    connections,
    duration,
  });
  const ok = r['2xx'];
  return { rps: ok / duration, ok, other: r.non2xx + r.errors + r.timeouts };
}

/** c16/c64's load generator: autocannon (default), or BENCH_CLIENT=raw, the connections above
 *  (the same HTTP/1.1 work; measured 0.11 against 0.16 ms of this process's CPU per request at
 *  c16 on the 2-core host, CPU the server gets instead: src/server/README.md). */
const client = process.env.BENCH_CLIENT === 'raw' ? 'raw' : 'autocannon';
const cannon = client === 'autocannon' ? autocannonLoad : rawLoad;

async function main(): Promise<void> {
  const { startLocalPostgres } = await import('../src/server/db/local-postgres.ts');
  const { connectPool } = await import('../src/server/db/pool.ts');
  const { migrate } = await import('../src/server/db/migrate.ts');
  const { findModelDir } = await import('../src/server/model.ts');
  let modelDir = process.env.INKLING_MODEL_DIR ?? 'models';
  let modelNote = '';
  try {
    modelDir = findModelDir(modelDir);
  } catch {
    const { makeTestModelDir } = await import('../test/server/helpers.ts');
    modelDir = await makeTestModelDir();
    modelNote = ' (no trained model under models/: random-weight seed CNN, same cost per image)';
  }
  let dbUrl = process.env.DATABASE_URL;
  let local: Awaited<ReturnType<typeof startLocalPostgres>> | null = null;
  let tmp = '';
  if (!dbUrl) {
    tmp = mkdtempSync(join(tmpdir(), 'inkling-bench-'));
    chmodSync(tmp, 0o755);
    local = await startLocalPostgres({ dataDir: join(tmp, 'pg') });
    dbUrl = local.url;
  }
  const pool = await connectPool(dbUrl);
  await migrate(pool);
  const countRows = () => pool.oneFirst(sql.type(z.object({ n: z.number().int() }))`SELECT count(*)::int AS n FROM predictions`);
  const before = await countRows();

  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : process.env.BENCH_NODE_FLAGS ? process.env.BENCH_NODE_FLAGS.split(' ') : [];
  // BENCH_WORKERS=N (> 1): the server is `inkling serve --workers N` (node:cluster) instead of
  // this file's --serve child; it prints no STATS, so the db check compares rows with what the
  // clients saw.
  const workers = Math.max(1, Math.round(Number(process.env.BENCH_WORKERS ?? 1)));
  const childEnv = { ...process.env, DATABASE_URL: dbUrl, INKLING_MODEL_DIR: modelDir, INKLING_SPOOL_DIR: join(tmp || tmpdir(), 'bench-spool'), INKLING_RATE_LIMIT: '0' };
  let child: ReturnType<typeof spawn>;
  let url: string;
  if (workers > 1) {
    const { freePort } = await import('../src/server/db/local-postgres.ts');
    const port = await freePort();
    child = spawn(process.execPath, ['bin/inkling.js', 'serve', '--workers', String(workers)], {
      cwd: new URL('../', import.meta.url).pathname,
      env: { ...childEnv, PORT: String(port), HOST: '127.0.0.1', INKLING_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    url = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      if (await fetch(`${url}/readyz`).then((r) => r.ok, () => false)) break;
      if (i > 600 || child.exitCode !== null) throw new Error(`inkling serve --workers ${workers} did not become ready`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } else {
    child = spawn(process.execPath, [...profile, '--import', 'tsx', new URL(import.meta.url).pathname, '--serve'], { env: childEnv, stdio: ['ignore', 'pipe', 'inherit'] });
    url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const childLog = process.env.BENCH_CHILD_LOG; // the server's stdout, e.g. with BENCH_NODE_FLAGS=--trace-gc
      if (childLog) child.stdout!.on('data', (d) => appendFileSync(childLog, d));
      child.stdout!.on('data', (d) => {
        out += d;
        const m = /READY (\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });
  }
  const body = await canvasPng();
  const loadBefore = loadavg()[0].toFixed(2);
  const durable = !['0', 'false'].includes(process.env.INKLING_DB_SYNC_COMMIT ?? '1');
  console.log(`server ${url}${workers > 1 ? ` (${workers} workers)` : ''}, client ${client === 'raw' ? 'raw HTTP/1.1 keep-alive sockets' : 'autocannon'} for c16/c64, model ${modelDir}${modelNote}, body ${body.length} bytes, ${rounds} round(s) of ${seconds} s per phase, commits ${durable ? 'durable (synchronous_commit=on)' : 'asynchronous (INKLING_DB_SYNC_COMMIT=0)'}`);

  const phases = new Set((process.env.BENCH_PHASES ?? 'c1,c16,c64').split(','));
  // Warm-up, logged too: one connection (the inline path) then 16 (the preprocessing threads,
  // batching): V8 keeps optimizing hot code for several seconds of load (measured: ~200
  // TurboFan compilations/s in the first second of concurrent load, ~15/s after ten), and the
  // phases should measure the steady state, not the JIT.
  const warmSeq = await sequential(url, body, 1000);
  const warmLoad = await cannon(url, body, 16, warmupSeconds);
  const warm = { ok: warmSeq.ok + warmLoad.ok, failed: warmSeq.failed + warmLoad.other };
  // Rounds of c1, c16, c64 (BENCH_ROUNDS, default 3): the machine's speed drifts by tens of
  // percent within a minute, so each figure is the median of the rounds, and the rounds are
  // interleaved rather than run back to back per phase.
  const c1Rounds: Awaited<ReturnType<typeof sequential>>[] = [];
  const c16Rounds: Awaited<ReturnType<typeof cannon>>[] = [];
  const c64Rounds: Awaited<ReturnType<typeof cannon>>[] = [];
  // CPU per request of each kind of phase, split between the server's threads, PostgreSQL and
  // this load generator (bench/cpu-split.ts; one server process only).
  const pgPid = local ? Number(readFileSync(join(tmp, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]) : null;
  const cpu = { c1: zeroSample(), c16: zeroSample(), c64: zeroSample() };
  const timed = async <T extends { ok: number }>(kind: keyof typeof cpu, run: () => Promise<T>): Promise<T> => {
    const a: CpuSample | null = workers === 1 ? sampleCpu(child.pid!, pgPid) : null;
    const r = await run();
    if (a) cpu[kind] = addScaled(cpu[kind], addScaled(sampleCpu(child.pid!, pgPid), a, -1), 1);
    return r;
  };
  for (let r = 0; r < rounds; r++) {
    if (phases.has('c1')) c1Rounds.push(await timed('c1', () => sequential(url, body, seconds * 1000)));
    if (phases.has('c16')) c16Rounds.push(await timed('c16', () => cannon(url, body, 16)));
    if (phases.has('c64')) c64Rounds.push(await timed('c64', () => cannon(url, body, 64)));
  }
  const c1 = { latencies: c1Rounds.flatMap((x) => x.latencies), timings: c1Rounds.flatMap((x) => x.timings), ok: sum(c1Rounds.map((x) => x.ok)), failed: sum(c1Rounds.map((x) => x.failed)) };
  const sorted = [...c1.latencies].sort((a, b) => a - b);
  const c1P50s = c1Rounds.map((x) => percentile([...x.latencies].sort((a, b) => a - b), 50));
  const c16 = { ok: sum(c16Rounds.map((x) => x.ok)), other: sum(c16Rounds.map((x) => x.other)), rps: c16Rounds.map((x) => x.rps) };
  const c64 = { ok: sum(c64Rounds.map((x) => x.ok)), other: sum(c64Rounds.map((x) => x.other)), rps: c64Rounds.map((x) => x.rps) };

  // The server's own count of answered predictions (printed after its graceful shutdown): the
  // table must hold exactly this many new rows.
  let childOut = '';
  child.stdout!.on('data', (d) => (childOut += d));
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  const serverStats = /STATS (.*)/.exec(childOut)?.[1] ?? '';
  const after = await countRows();
  const answered = workers > 1 ? after - before : Number(/ANSWERED (\d+)/.exec(childOut)?.[1] ?? -1);
  await pool.end();
  if (local) await local.stop();
  if (tmp && existsSync(tmp)) rmSync(tmp, { recursive: true, force: true });

  const seen = warm.ok + c1.ok + c16.ok + c64.ok;
  console.log(`warm-up: ${warm.ok} ok; c1: ${c1.ok} ok, ${c1.failed} failed; c16: ${c16.ok} ok, ${c16.other} other; c64: ${c64.ok} ok, ${c64.other} other`);
  console.log(`server: ${serverStats}`);
  console.log(`machine load (1-min average): ${loadBefore} before, ${loadavg()[0].toFixed(2)} after (the server, PostgreSQL and this load generator share the cores)`);
  console.log(`db rows: ${after - before} new; server answered ${answered} predictions (201); clients saw ${seen} before each phase's cut-off`);
  const logsOk = after - before === answered && answered >= seen && warm.failed + c1.failed + c16.other + c64.other === 0;
  console.log(logsOk ? 'db check: one row per successful request: OK' : 'db check: FAILED (rows missing or requests failed)');
  if (workers === 1) {
    if (phases.has('c1')) console.log(`CPU per request c1: ${describeSplit(cpu.c1, c1.ok)}`);
    if (phases.has('c16')) console.log(`CPU per request c16: ${describeSplit(cpu.c16, c16.ok)}`);
    if (phases.has('c64')) console.log(`CPU per request c64: ${describeSplit(cpu.c64, c64.ok)}`);
  }
  const med = (k: keyof ServerTimings) => percentile(c1.timings.map((x) => x[k]).sort((a, b) => a - b), 50)?.toFixed(2);
  if (c1.timings.length) console.log(`c1 inside the server (p50, the response's timings): decode ${med('decodeMs')} ms, preprocess ${med('preprocessMs')} ms, inference ${med('inferenceMs')} ms, total before logging ${med('totalMs')} ms; the rest is the database insert, HTTP and the client`);
  const list = (xs: number[], digits: number) => xs.map((x) => x.toFixed(digits)).join(' / ');
  if (rounds > 1) {
    console.log(`rounds (${rounds}, interleaved): c1 p50 ${list(c1P50s, 1)} ms; c16 ${list(c16.rps, 0)} req/s; c64 ${list(c64.rps, 0)} req/s`);
  }
  // Final lines: medians over the rounds (p99: of all c1 requests together).
  if (phases.has('c1')) console.log(`api c1: p50 ${median(c1P50s).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms`);
  if (phases.has('c16')) console.log(`api c16: ${Math.round(median(c16.rps))} req/s`);
  if (phases.has('c64')) console.log(`api c64: ${Math.round(median(c64.rps))} req/s`);
  if (!logsOk) process.exitCode = 1;
}

if (process.argv.includes('--serve')) await serveChild();
else await main();
