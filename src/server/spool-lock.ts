// One spool per instance: a lock file in the spool folder names its owner (host, pid) and is
// touched every few seconds. Another process that finds a fresh lock refuses to start, naming the
// owner and the fix (give each instance its own INKLING_SPOOL_DIR / INKLING_DATA_DIR); a lock whose
// owner is gone (its pid is dead on this host, or the file went stale: no heartbeat for
// STALE_MS, e.g. a container that was removed while its volume lived on) is taken over. Two
// replicas sharing one spool would replay and delete each other's files.
import { hostname } from 'node:os';
import { mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const HEARTBEAT_MS = 5_000;
export const STALE_MS = 30_000;
const FILE = 'owner.lock';

export class SpoolInUseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SpoolInUseError';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the spool folder for this process; returns the release function. */
export function lockSpool(dir: string, now = () => Date.now()): () => void {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, FILE);
  const me = { host: hostname(), pid: process.pid };
  const body = JSON.stringify({ ...me, since: new Date(now()).toISOString() });
  try {
    writeFileSync(path, body, { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    let owner: { host?: string; pid?: number } = {};
    try {
      owner = JSON.parse(readFileSync(path, 'utf8')) as typeof owner;
    } catch {
      // unreadable or half-written: judged by its age alone
    }
    const age = now() - statSync(path).mtimeMs;
    const mine = owner.host === me.host && owner.pid === me.pid;
    const gone = owner.host === me.host && typeof owner.pid === 'number' ? !alive(owner.pid) : age > STALE_MS;
    if (!mine && !gone) {
      throw new SpoolInUseError(
        `the spool ${dir} belongs to another running instance (pid ${owner.pid ?? '?'} on ${owner.host ?? '?'}, heartbeat ${Math.round(age / 1000)} s ago): ` +
          'give every instance its own INKLING_SPOOL_DIR (or INKLING_DATA_DIR); if that instance is gone, wait 30 s or delete the lock file',
      );
    }
    writeFileSync(path, body);
  }
  const beat = setInterval(() => {
    try {
      const t = new Date(now());
      utimesSync(path, t, t);
    } catch {
      // the folder went away: nothing to keep fresh
    }
  }, HEARTBEAT_MS);
  beat.unref();
  return () => {
    clearInterval(beat);
    try {
      const owner = JSON.parse(readFileSync(path, 'utf8')) as { host?: string; pid?: number };
      if (owner.host === me.host && owner.pid === me.pid) rmSync(path, { force: true });
    } catch {
      // already gone
    }
  };
}
