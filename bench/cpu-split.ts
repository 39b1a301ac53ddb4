// Where the CPU goes while bench:api runs: the server's main thread, its other threads
// (preprocessing worker, libuv pool, V8's GC helpers), every PostgreSQL process, and the load
// generator (this process). Read from /proc (ticks of 1/CLK_TCK s, 10 ms on Linux), so each figure
// is the CPU a phase used divided by the requests it answered: a budget on a shared 2-core host,
// where req/s depends on what else runs but CPU per request barely does.
import { readFileSync, readdirSync } from 'node:fs';

const TICK_MS = 10; // getconf CLK_TCK = 100 on Linux

/** utime + stime of /proc/<path>/stat in ms, and the thread or process name. */
function readStat(path: string): { ms: number; comm: string; ppid: number } | null {
  try {
    const s = readFileSync(`/proc/${path}/stat`, 'latin1');
    const close = s.lastIndexOf(')');
    const comm = s.slice(s.indexOf('(') + 1, close);
    const f = s.slice(close + 2).split(' '); // f[0] = state, f[1] = ppid, f[11] = utime, f[12] = stime
    return { ms: (Number(f[11]) + Number(f[12])) * TICK_MS, comm, ppid: Number(f[1]) };
  } catch {
    return null; // the process or thread is gone
  }
}

export interface CpuSample {
  /** The server's main thread (tid = pid). */
  serverMain: number;
  /** Each other server thread, by name#tid (Node's threads are all called "node"). */
  serverThreads: Map<string, number>;
  /** The postmaster and all its children (backends, walwriter, checkpointer, ...). */
  postgres: number;
  /** This process (the load generator), all threads. */
  loadGenerator: number;
}

function postgresMs(postmasterPid: number | null): number {
  if (!postmasterPid) return 0;
  let ms = readStat(String(postmasterPid))?.ms ?? 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const st = readStat(d);
    if (st && st.ppid === postmasterPid) ms += st.ms;
  }
  return ms;
}

export function sampleCpu(serverPid: number, postmasterPid: number | null): CpuSample {
  const serverThreads = new Map<string, number>();
  let serverMain = 0;
  for (const tid of readdirSync(`/proc/${serverPid}/task`)) {
    const st = readStat(`${serverPid}/task/${tid}`);
    if (!st) continue;
    if (Number(tid) === serverPid) serverMain = st.ms;
    else serverThreads.set(`${st.comm}#${tid}`, st.ms); // by thread: the busiest at c16 is the preprocessing worker
  }
  const self = process.cpuUsage();
  return { serverMain, serverThreads, postgres: postgresMs(postmasterPid), loadGenerator: (self.user + self.system) / 1000 };
}

/** a + k·b, thread by thread: k = −1 gives the CPU a phase used (addScaled(after, before, −1)),
 *  k = 1 adds phases of one kind up. */
export function addScaled(a: CpuSample, b: CpuSample, k: 1 | -1): CpuSample {
  const serverThreads = new Map(a.serverThreads);
  for (const [name, ms] of b.serverThreads) serverThreads.set(name, (serverThreads.get(name) ?? 0) + k * ms);
  const f = (x: number, y: number) => x + k * y;
  return { serverMain: f(a.serverMain, b.serverMain), serverThreads, postgres: f(a.postgres, b.postgres), loadGenerator: f(a.loadGenerator, b.loadGenerator) };
}

export const zeroSample = (): CpuSample => ({ serverMain: 0, serverThreads: new Map(), postgres: 0, loadGenerator: 0 });

/** CPU ms per request of a phase's CPU (addScaled(after, before, -1)): one line, the largest server
 *  threads named. Backends that exited during it drop out of the postgres sum (none do during a
 *  phase: the pool keeps its connections). */
export function describeSplit(d: CpuSample, requests: number): string {
  const per = (x: number) => x / Math.max(1, requests);
  const threads = [...d.serverThreads].map(([name, ms]) => [name, per(ms)] as const).sort((x, y) => y[1] - x[1]);
  const other = threads.reduce((s, [, v]) => s + v, 0);
  const total = per(d.serverMain) + other + per(d.postgres) + per(d.loadGenerator);
  const top = threads.filter(([, v]) => v >= 0.01).slice(0, 4).map(([n, v]) => `${n} ${v.toFixed(2)}`).join(', ');
  return `server main thread ${per(d.serverMain).toFixed(2)} + other server threads ${other.toFixed(2)} (${top}) + postgres ${per(d.postgres).toFixed(2)} + load generator ${per(d.loadGenerator).toFixed(2)} = ${total.toFixed(2)} ms`;
}
