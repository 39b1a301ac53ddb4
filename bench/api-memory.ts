// npm run bench:memory — the service's memory under hostile upload patterns (issue 14, D7).
//
// `inkling serve` runs as a child process (its own PostgreSQL in a temp dir) and its resident set
// (VmRSS of the node process, sampled every 20 ms) is measured through three phases:
//   uploads: 64 concurrent valid 5 MB PNG uploads (a "7" on a noisy photo-like background, just
//            under the 5 MB body limit), raw image/png bodies; the answers are counted by status;
//   bombs:   64 concurrent ~82 KB PNGs of 5000x5000 flat colour (25 megapixels, the default pixel
//            limit): tiny bodies, large decodes (answered 422 no_digit);
//   stalled: 100 connections that declare a 5,000,000-byte body, send 4.9 MB of it and then stall;
//            each is timed until the server cuts it (the body timeout, INKLING_BODY_TIMEOUT_MS,
//            default 30 s here too; BENCH_BODY_TIMEOUT_MS overrides it for a shorter run).
// Prints the baseline, peak and settled RSS of each phase and exits 1 when a peak is over
// BENCH_MAX_RSS_MB (default 500) or a stalled upload outlives the body timeout by more than 3 s.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, chmodSync } from 'node:fs';
import net from 'node:net';
import { tmpdir, loadavg, cpus } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';

const BODY_LIMIT = 5 * 1024 * 1024;
const maxRssMb = Number(process.env.BENCH_MAX_RSS_MB ?? 500);
const bodyTimeoutMs = Number(process.env.BENCH_BODY_TIMEOUT_MS ?? 30_000);

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

class RssSampler {
  peak = 0;
  private timer: NodeJS.Timeout;
  constructor(readonly pid: number) {
    this.peak = rssMb(pid);
    this.timer = setInterval(() => {
      try {
        this.peak = Math.max(this.peak, rssMb(pid));
      } catch {
        // the process is gone: the phase reports it
      }
    }, 20);
  }
  stop(): number {
    clearInterval(this.timer);
    return this.peak;
  }
}

/** A 5 MB-ish PNG of a dark "7" on light, noisy paper (the noise keeps it from compressing, so
 *  the image stays under the pixel limit: ~1,400 px square). */
async function bigPng(): Promise<Buffer> {
  let side = 1300;
  for (;;) {
    const rgb = randomBytes(side * side * 3); // a seeded LCG is not enough: PNG filters see its pattern
    for (let i = 0; i < rgb.length; i++) rgb[i] |= 0x80;
    const stroke = Math.round(side / 14);
    const line = (x0: number, y0: number, x1: number, y1: number) => {
      const steps = Math.ceil(Math.hypot(x1 - x0, y1 - y0));
      for (let s = 0; s <= steps; s++) {
        const cx = Math.round(x0 + ((x1 - x0) * s) / steps);
        const cy = Math.round(y0 + ((y1 - y0) * s) / steps);
        for (let dy = -stroke; dy <= stroke; dy++) {
          for (let dx = -stroke; dx <= stroke; dx++) {
            const x = cx + dx;
            const y = cy + dy;
            if (x >= 0 && y >= 0 && x < side && y < side && dx * dx + dy * dy <= stroke * stroke) rgb.fill(20, (y * side + x) * 3, (y * side + x) * 3 + 3);
          }
        }
      }
    };
    line(side * 0.25, side * 0.2, side * 0.75, side * 0.2);
    line(side * 0.75, side * 0.2, side * 0.4, side * 0.85);
    const png = await sharp(rgb, { raw: { width: side, height: side, channels: 3 } }).png({ compressionLevel: 6 }).toBuffer();
    if (png.length <= BODY_LIMIT && png.length > BODY_LIMIT * 0.9) return png;
    side = Math.floor(side * Math.sqrt((BODY_LIMIT * 0.95) / png.length));
  }
}

/** One raw POST; resolves with the status (0: the connection failed or closed without one). */
function post(url: URL, body: Buffer): Promise<number> {
  return new Promise((resolve) => {
    const socket = net.connect(Number(url.port), url.hostname);
    let got = '';
    const done = (status: number) => {
      socket.destroy();
      resolve(status);
    };
    socket.on('connect', () => {
      socket.write(`POST /api/predictions HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: image/png\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
      socket.write(body);
    });
    socket.on('data', (d) => {
      got += d.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(got);
      if (m && got.includes('\r\n\r\n')) done(Number(m[1]));
    });
    socket.on('error', () => done(0));
    socket.on('close', () => done(0));
  });
}

/** Declares `declared` bytes, sends `sent` of them, then stalls; resolves with how long after the
 *  stall the server cut the connection (and the status it sent, if any). */
function stalled(url: URL, declared: number, sent: number): { cut: Promise<{ ms: number; status: number }>; sentAll: Promise<void>; destroy: () => void } {
  const socket = net.connect(Number(url.port), url.hostname);
  let stallAt = 0;
  let status = 0;
  let got = '';
  const sentAll = new Promise<void>((resolve) => {
    socket.on('connect', () => {
      socket.write(`POST /api/predictions HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: image/png\r\nContent-Length: ${declared}\r\n\r\n`);
      socket.write(Buffer.alloc(sent, 0x42), () => {
        stallAt = performance.now();
        resolve();
      });
    });
    socket.on('error', () => resolve());
  });
  const cut = new Promise<{ ms: number; status: number }>((resolve) => {
    socket.on('data', (d) => {
      got += d.toString('latin1');
      status = Number(/^HTTP\/1\.1 (\d{3})/.exec(got)?.[1] ?? 0);
    });
    socket.on('close', () => resolve({ ms: stallAt ? performance.now() - stallAt : 0, status }));
    socket.on('error', () => {});
  });
  return { cut, sentAll, destroy: () => socket.destroy() };
}

/** The main thread's V8 heap and external (Buffer) memory, from the service's /metrics. */
async function heapSummary(url: URL): Promise<string> {
  const text = await fetch(`${url.origin}/metrics`).then((r) => r.text(), () => '');
  const get = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN) / 1048576;
  return `main thread: V8 heap ${get('nodejs_heap_size_used_bytes').toFixed(0)} MB used of ${get('nodejs_heap_size_total_bytes').toFixed(0)}, external ${get('nodejs_external_memory_bytes').toFixed(0)} MB`;
}

/** `count` concurrent POSTs of `body`, the server's RSS sampled throughout: its baseline and
 *  peak, the wall time, the answers by status ("13x201, 51x503") and how many got none. */
async function concurrentPosts(pid: number, url: URL, body: Buffer, count: number): Promise<{ base: number; peak: number; ms: number; answers: string; unanswered: number }> {
  const base = rssMb(pid);
  const sampler = new RssSampler(pid);
  const t0 = performance.now();
  const statuses = await Promise.all(Array.from({ length: count }, () => post(url, body)));
  const ms = performance.now() - t0;
  const peak = sampler.stop();
  const counts = new Map<number, number>();
  for (const s of statuses) counts.set(s, (counts.get(s) ?? 0) + 1);
  return { base, peak, ms, answers: [...counts].map(([s, n]) => `${n}x${s || 'none'}`).join(', '), unanswered: counts.get(0) ?? 0 };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
};

async function main(): Promise<void> {
  const { startLocalPostgres } = await import('../src/server/db/local-postgres.ts');
  const { findModelDir } = await import('../src/server/model.ts');
  let modelDir: string;
  try {
    modelDir = findModelDir(process.env.INKLING_MODEL_DIR ?? 'models');
  } catch {
    const { makeTestModelDir } = await import('../test/server/helpers.ts');
    modelDir = await makeTestModelDir();
  }
  const tmp = mkdtempSync(join(tmpdir(), 'inkling-bench-memory-'));
  chmodSync(tmp, 0o755);
  const pg = await startLocalPostgres({ dataDir: join(tmp, 'pg') });
  const child = spawn(process.execPath, [new URL('../bin/inkling.js', import.meta.url).pathname, 'serve'], {
    env: {
      ...process.env, DATABASE_URL: pg.url, PORT: '0', INKLING_MODEL_DIR: modelDir, INKLING_SPOOL_DIR: join(tmp, 'spool'),
      INKLING_RATE_LIMIT: '0', INKLING_LOG_LEVEL: process.env.INKLING_LOG_LEVEL ?? 'warn', INKLING_BODY_TIMEOUT_MS: String(bodyTimeoutMs),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const url = new URL(await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const m = /listening on (http:\/\/[\d.:]+)/.exec(out);
      if (m) {
        clearInterval(timer);
        resolve(m[1]);
      }
    }, 25);
    child.once('exit', (code) => reject(new Error(`inkling serve exited ${code}:\n${out}`)));
  }));
  const pid = child.pid!;
  const failures: string[] = [];
  try {
    const png = await bigPng();
    console.log(`server ${url.origin}; test image ${png.length} bytes`);
    // Warm up: the first requests load code paths and sharp.
    for (let i = 0; i < 3; i++) await post(url, png);
    await new Promise((r) => setTimeout(r, 500));
    const overrides = Object.entries(process.env).filter(([k]) => /^(INKLING_|MALLOC_|VIPS_)/.test(k) && k !== 'INKLING_LOG_LEVEL').map(([k, v]) => `${k}=${v}`);
    console.log(`inkling serve pid ${pid}; CPU ${cpus()[0]?.model ?? '?'} x${cpus().length}; body ${png.length} bytes; body timeout ${bodyTimeoutMs} ms${overrides.length ? `; ${overrides.join(' ')}` : ''}`);

    const up = await concurrentPosts(pid, url, png, 64);
    await new Promise((r) => setTimeout(r, 2000));
    const after1 = rssMb(pid);
    console.log(`uploads: 64 concurrent 5 MB PNGs in ${(up.ms / 1000).toFixed(1)} s, answers ${up.answers}`);
    console.log(`uploads: RSS ${up.base.toFixed(0)} MB before, peak ${up.peak.toFixed(0)} MB, ${after1.toFixed(0)} MB 2 s after (${await heapSummary(url)})`);
    if (!(up.peak <= maxRssMb)) failures.push(`uploads: peak RSS ${up.peak.toFixed(0)} MB > ${maxRssMb} MB`);
    if (up.unanswered) failures.push(`uploads: ${up.unanswered} got no answer`);

    // Pixel bombs: small bodies that declare the most pixels allowed. The body budget cannot see
    // them (~82 KB each); two decoded at once took +61 MB, so the large-decode slots bound them.
    const bomb = await sharp({ create: { width: 5000, height: 5000, channels: 3, background: { r: 250, g: 250, b: 250 } } }).png().toBuffer();
    const bombs = await concurrentPosts(pid, url, bomb, 64);
    console.log(`bombs: 64 concurrent 5000x5000 (25-megapixel) flat PNGs of ${Math.round(bomb.length / 1024)} KB in ${(bombs.ms / 1000).toFixed(1)} s, answers ${bombs.answers}`);
    console.log(`bombs: RSS ${bombs.base.toFixed(0)} MB before, peak ${bombs.peak.toFixed(0)} MB, ${rssMb(pid).toFixed(0)} MB after`);
    if (!(bombs.peak <= maxRssMb)) failures.push(`bombs: peak RSS ${bombs.peak.toFixed(0)} MB > ${maxRssMb} MB`);
    if (bombs.unanswered) failures.push(`bombs: ${bombs.unanswered} got no answer`);

    const base2 = rssMb(pid);
    const s2 = new RssSampler(pid);
    const conns = Array.from({ length: 100 }, () => stalled(url, 5_000_000, 4_900_000));
    await Promise.all(conns.map((c) => c.sentAll));
    const cuts = await Promise.race([
      Promise.all(conns.map((c) => c.cut)),
      new Promise<null>((r) => setTimeout(() => r(null), bodyTimeoutMs + 30_000)),
    ]);
    const peak2 = s2.stop();
    for (const c of conns) c.destroy();
    await new Promise((r) => setTimeout(r, 1000));
    const after2 = rssMb(pid);
    if (!cuts) failures.push(`stalled: connections still open ${(bodyTimeoutMs + 30_000) / 1000} s after the stall`);
    else {
      const ms = cuts.map((c) => c.ms);
      const st = new Map<number, number>();
      for (const c of cuts) st.set(c.status, (st.get(c.status) ?? 0) + 1);
      console.log(`stalled: 100 uploads stalled at 4.9 of 5 MB, cut after median ${(median(ms) / 1000).toFixed(1)} s, max ${(Math.max(...ms) / 1000).toFixed(1)} s (statuses ${[...st].map(([s, n]) => `${n}x${s || 'none'}`).join(', ')})`);
      if (Math.max(...ms) > bodyTimeoutMs + 3000) failures.push(`stalled: cut after ${(Math.max(...ms) / 1000).toFixed(1)} s, over the ${bodyTimeoutMs / 1000} s body timeout`);
    }
    console.log(`stalled: RSS ${base2.toFixed(0)} MB before, peak ${peak2.toFixed(0)} MB, ${after2.toFixed(0)} MB after`);
    if (!(peak2 <= maxRssMb)) failures.push(`stalled: peak RSS ${peak2.toFixed(0)} MB > ${maxRssMb} MB`);
    const health = await fetch(`${url.origin}/healthz`).then((r) => r.status, () => 0);
    console.log(`after: /healthz ${health}; load average ${loadavg()[0].toFixed(2)}`);
    if (health !== 200) failures.push('the service does not answer /healthz afterwards');
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await pg.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
  if (failures.length) {
    console.log(`memory check: FAILED\n  ${failures.join('\n  ')}`);
    process.exitCode = 1;
  } else console.log(`memory check: OK (peak RSS <= ${maxRssMb} MB, stalled uploads cut at the body timeout)`);
}

await main();
