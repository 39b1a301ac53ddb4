// Load with a ledger, for the durability tests and the fault-injection suite: N concurrent
// keep-alive loops POST the same image and record the id of every 201 (the acknowledged
// predictions), every other status, and each request's latency with its start time. Afterwards
// `lostIds` says which acknowledged ids are not in the table.
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';

export interface Sample {
  /** ms since the load started */
  at: number;
  ms: number;
  status: number; // 0 = connection error
}

export class Load {
  /** ids answered 201, with the `logged` flag they came with */
  readonly acked = new Map<string, boolean>();
  readonly statuses = new Map<number, number>();
  readonly samples: Sample[] = [];
  /** 503 answers without a Retry-After header (must stay 0) */
  missingRetryAfter = 0;
  private running = false;
  private loops: Promise<void>[] = [];
  private t0 = 0;

  constructor(
    readonly url: string,
    readonly body: Uint8Array,
    readonly connections = 16,
    readonly path = '/api/predictions?source=canvas',
  ) {}

  start(): this {
    this.running = true;
    this.t0 = performance.now();
    for (let i = 0; i < this.connections; i++) this.loops.push(this.loop());
    return this;
  }

  get elapsedMs(): number {
    return performance.now() - this.t0;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const start = performance.now();
      let status = 0;
      try {
        const res = await fetch(this.url + this.path, {
          method: 'POST',
          body: this.body as Uint8Array<ArrayBuffer>,
          headers: { 'content-type': 'image/png' },
          signal: AbortSignal.timeout(30_000),
        });
        status = res.status;
        const text = await res.text();
        if (status === 201) {
          const j = JSON.parse(text) as { id: string; logged: boolean };
          this.acked.set(j.id, j.logged);
        } else if (status === 503 && !res.headers.get('retry-after')) this.missingRetryAfter++;
      } catch {
        status = 0;
        // A refused connection (service restarting) must not spin: back off a little.
        await new Promise((r) => setTimeout(r, 20));
      }
      this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
      this.samples.push({ at: start - this.t0, ms: performance.now() - start, status });
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.loops = [];
  }

  count(status: number): number {
    return this.statuses.get(status) ?? 0;
  }

  get requests(): number {
    return this.samples.length;
  }

  /** Latencies of requests that started in [fromMs, toMs). */
  latencies(fromMs: number, toMs: number): number[] {
    return this.samples.filter((s) => s.at >= fromMs && s.at < toMs).map((s) => s.ms).sort((a, b) => a - b);
  }
}

export const percentile = (sorted: number[], p: number): number => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN);

/** The acknowledged ids that are not rows of the predictions table. */
export async function lostIds(pool: DatabasePool, ids: Iterable<string>): Promise<string[]> {
  const all = [...ids];
  const present = new Set<string>();
  for (let i = 0; i < all.length; i += 5000) {
    const chunk = all.slice(i, i + 5000);
    const rows = await pool.anyFirst(sql.type(z.object({ id: z.string() }))`SELECT id::text AS id FROM predictions WHERE id = ANY(${sql.array(chunk, 'uuid')})`);
    for (const id of rows) present.add(id);
  }
  return all.filter((id) => !present.has(id));
}

/** The postmaster and its children (every process of the cluster), for SIGSTOP/SIGCONT. */
export async function clusterPids(dataDir: string): Promise<number[]> {
  const { readFileSync, readdirSync } = await import('node:fs');
  const postmaster = Number(readFileSync(`${dataDir}/postmaster.pid`, 'utf8').split('\n')[0]);
  const pids = [postmaster];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === postmaster) pids.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

export function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}
