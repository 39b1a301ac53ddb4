// Starts the real inkling service for the browser tests, the way a person does (`inkling serve`):
// a fresh data directory, so the embedded PostgreSQL is initialised from scratch and the history
// starts empty; rate limiting off (the tests click fast). INKLING_E2E_URL points the tests at a
// service that is already running instead (its history must be empty for the counts to hold).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from './load-web.ts';

export interface RunningService {
  baseUrl: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForReady(baseUrl: string, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`inkling serve exited with code ${child.exitCode} before it was ready:\n${output()}`);
    }
    if (/^inkling serve: /m.test(output())) {
      throw new Error(`inkling serve failed to start:\n${output()}`);
    }
    try {
      const res = await fetch(`${baseUrl}/readyz`);
      if (res.ok) return;
      lastError = `readyz answered ${res.status}`;
    } catch (error) {
      lastError = String(error);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`inkling serve was not ready after ${timeoutMs} ms (${lastError}):\n${output()}`);
}

/**
 * If the service died without stopping its local PostgreSQL, stop that cluster (the first line
 * of postmaster.pid is the postmaster's pid; SIGINT is PostgreSQL's "fast shutdown").
 */
async function stopOrphanedPostgres(clusterDir: string): Promise<void> {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(path.join(clusterDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return; // no cluster, or it shut down cleanly (the file is removed on exit)
  }
  const isPostgres = () => {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres');
    } catch {
      return false;
    }
  };
  if (!Number.isInteger(pid) || pid <= 0 || !isPostgres()) return;
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 50 && isPostgres(); i++) await new Promise((r) => setTimeout(r, 100));
}

export async function startService(): Promise<RunningService> {
  const external = process.env.INKLING_E2E_URL;
  if (external) return { baseUrl: external.replace(/\/$/, ''), stop: async () => {} };

  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'inkling-e2e-'));
  fs.chmodSync(dataDir, 0o755); // the embedded postgres runs as its own user and must get in
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin/inkling.js'), 'serve'], {
    cwd: repoRoot,
    env: { ...process.env, PORT: String(port), INKLING_DATA_DIR: dataDir, INKLING_RATE_LIMIT: '0', DATABASE_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const baseUrl = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM'); // graceful: finishes requests, stops the embedded database
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    }
    await stopOrphanedPostgres(path.join(dataDir, 'postgres'));
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitForReady(baseUrl, child, () => log, 120_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { baseUrl, stop };
}
