// Test fixtures for the service: a real PostgreSQL per test file (a fresh copy of a template
// cluster initialised once per machine, so each file starts in well under a second), a throwaway
// model (seed CNN with random weights, saved as safetensors + card), and a started server.
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalPostgres, chooseBinaries, type LocalPostgres } from '../../src/server/db/local-postgres.ts';
import { loadConfig, type Config } from '../../src/server/config.ts';
import { startServer, type RunningServer } from '../../src/server/server.ts';
import { loadModel, type LoadedModel } from '../../src/server/model.ts';
import { createBackend } from '../../src/nn/backends/registry.ts';
import { createSeedCnn } from '../../src/nn/models/seed-cnn.ts';
import { saveModule } from '../../src/nn/safetensors.ts';

const ROOT = join(tmpdir(), 'inkling-test-pg');

function makeTraversable(dir: string) {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
}

/** A cluster initialised once per machine (per binaries flavour), copied for each test file. */
async function templateDir(): Promise<string> {
  makeTraversable(ROOT);
  const { flavour } = chooseBinaries();
  const dir = join(ROOT, `template-${flavour.replace(/\W+/g, '-')}`);
  const lock = `${dir}.lock`;
  for (let i = 0; !existsSync(join(dir, 'READY')); i++) {
    try {
      mkdirSync(lock);
    } catch {
      if (i > 1200) throw new Error(`waited 120 s for ${lock}; remove it if no test is running`);
      await new Promise((r) => setTimeout(r, 100));
      continue;
    }
    try {
      rmSync(dir, { recursive: true, force: true });
      const pg = await startLocalPostgres({ dataDir: join(dir, 'data'), durable: false });
      await pg.stop();
      writeFileSync(join(dir, 'READY'), flavour);
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
  return join(dir, 'data');
}

export interface TestDatabase {
  url: string;
  dataDir: string;
  pg: LocalPostgres;
  /** Stops the server (an outage); restart() brings it back on the same port and data. */
  stop(): Promise<void>;
  restart(): Promise<void>;
  destroy(): Promise<void>;
}

/** A fresh copy of the template cluster (not started); returns its data dir and base folder. */
export async function copyTemplateCluster(): Promise<{ base: string; dataDir: string }> {
  const template = await templateDir();
  makeTraversable(ROOT);
  const base = mkdtempSync(join(ROOT, 'run-'));
  chmodSync(base, 0o755);
  const dataDir = join(base, 'data');
  cpSync(template, dataDir, { recursive: true });
  if (process.getuid?.() === 0) spawnSync('chown', ['-R', 'postgres:postgres', dataDir]);
  rmSync(join(dataDir, 'postmaster.pid'), { force: true });
  return { base, dataDir };
}

export async function startTestDatabase(): Promise<TestDatabase> {
  const { base, dataDir } = await copyTemplateCluster();
  let pg = await startLocalPostgres({ dataDir, durable: false });
  const db: TestDatabase = {
    url: pg.url,
    dataDir,
    pg,
    async stop() {
      await pg.stop();
    },
    async restart() {
      pg = await startLocalPostgres({ dataDir, port: pg.port, durable: false });
      db.pg = pg;
    },
    async destroy() {
      await pg.stop();
      rmSync(base, { recursive: true, force: true });
    },
  };
  return db;
}

/** A seed CNN with random weights saved like `inkling train` saves one (card + safetensors). */
export async function makeTestModelDir(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'inkling-test-model-'));
  const backend = await createBackend('ref');
  const model = createSeedCnn(backend, { seed: 7 });
  await saveModule(model, join(dir, 'model.safetensors'), {});
  model.dispose();
  backend.dispose();
  writeFileSync(join(dir, 'model.json'), JSON.stringify({
    format: 'inkling-model-card/1', name: 'test-seed-cnn', version: 'test-seed-cnn@random', architecture: 'seed-cnn',
    architectureDetail: 'random weights, for tests', parameters: 421834, weights: 'model.safetensors', temperature: 1.5,
    test: { accuracy: 0.1 }, validation: null,
  }));
  return dir;
}

let sharedModel: Promise<LoadedModel> | null = null;
export function testModel(): Promise<LoadedModel> {
  sharedModel ??= makeTestModelDir().then((dir) => loadModel(dir, 'cpu', 1, () => {}));
  return sharedModel;
}

export function testConfig(db: TestDatabase, overrides: Partial<Config> = {}): Config {
  const spool = mkdtempSync(join(tmpdir(), 'inkling-test-spool-'));
  return {
    ...loadConfig({}),
    port: 0,
    databaseUrl: db.url,
    spoolDir: spool,
    logLevel: 'silent',
    rateLimit: 0,
    shutdownTimeoutMs: 2000,
    ...overrides,
  };
}

export async function startTestServer(db: TestDatabase, overrides: Partial<Config> = {}): Promise<RunningServer> {
  return startServer(testConfig(db, overrides), { model: await testModel() });
}

export const CANVAS = { width: 280, height: 280, box: { x: 70, y: 50, w: 140, h: 180 }, thickness: 18, transparent: true };

/** A 280x280 canvas export of a "7" (black strokes on transparency), as the web UI sends it. */
export async function canvasSevenPng(): Promise<Buffer> {
  const { drawDigit, encode, SEVEN } = await import('../preprocess/images.ts');
  return encode(drawDigit(SEVEN, CANVAS), 280, 280, 'png');
}

/** Canvas exports of a "7", a "0" and a blank canvas. */
export async function canvasPngs(): Promise<{ seven: Buffer; zero: Buffer; blank: Buffer }> {
  const { drawDigit, encode, SEVEN, ZERO } = await import('../preprocess/images.ts');
  const [seven, zero, blank] = await Promise.all([SEVEN, ZERO, []].map((strokes) => encode(drawDigit(strokes, CANVAS), 280, 280, 'png')));
  return { seven, zero, blank };
}

/** A tiny cookie jar: one anonymous client per instance. */
export class Client {
  cookie = '';
  constructor(readonly base: string, readonly headers: Record<string, string> = {}) {}
  async req(method: string, path: string, init: { body?: BodyInit; headers?: Record<string, string> } = {}) {
    const res = await fetch(this.base + path, {
      method,
      body: init.body,
      headers: { ...this.headers, ...(this.cookie ? { cookie: this.cookie } : {}), ...init.headers },
      redirect: 'manual',
    });
    const set = res.headers.get('set-cookie');
    if (set) this.cookie = set.split(';')[0];
    const text = await res.text();
    let json: any = null; // any: response JSON of many shapes, asserted field by field in tests
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    return { status: res.status, headers: res.headers, json, text };
  }
  json(method: string, path: string, body: unknown) {
    return this.req(method, path, { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  }
  png(path: string, bytes: Uint8Array, type = 'image/png') {
    return this.req('POST', path, { body: new Uint8Array(bytes), headers: { 'content-type': type } });
  }
}

export interface ServeProcess {
  url: string;
  child: import('node:child_process').ChildProcess;
  output(): string;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
  alive(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it exited. */
  stop(graceMs?: number): Promise<number | string>;
}

export const INKLING_BIN = new URL('../../bin/inkling.js', import.meta.url).pathname;

/** `inkling serve` as a child process (the real CLI path), started on a free port; resolves once it
 *  logs that it listens. A crash of the service shows as `alive() === false` with its output kept,
 *  instead of killing the test process. */
export async function spawnServe(env: Record<string, string>, timeoutMs = 90_000): Promise<ServeProcess> {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [INKLING_BIN, 'serve'], {
    env: { ...process.env, PORT: '0', INKLING_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out = (out + d).slice(-200_000)));
  child.stderr!.on('data', (d) => (out = (out + d).slice(-200_000)));
  const exited = new Promise<number | string>((r) => child.once('exit', (code, signal) => r(code ?? signal ?? -1)));
  let done = false;
  void exited.then(() => (done = true));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const m = /listening on (http:\/\/[\d.:[\]]+)/.exec(out);
      if (m) {
        clearInterval(timer);
        resolve(m[1]);
      }
    }, 25);
    const limit = setTimeout(() => {
      clearInterval(timer);
      child.kill('SIGKILL');
      reject(new Error(`inkling serve did not start within ${timeoutMs} ms:\n${out.slice(-4000)}`));
    }, timeoutMs);
    void exited.then((code) => {
      clearInterval(timer);
      clearTimeout(limit);
      reject(new Error(`inkling serve exited (${code}) before listening:\n${out.slice(-4000)}`));
    });
  });
  return {
    url,
    child,
    output: () => out,
    exited,
    alive: () => !done,
    async stop(graceMs = 15_000) {
      if (done) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
