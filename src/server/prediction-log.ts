// Where an answered prediction is stored, and the promise behind a 201: every row is either
// committed in PostgreSQL (durably by default: synchronous_commit=on, see db/pool.ts) or written
// and synced to the on-disk spool, before the request is answered; when neither can take it the
// answer is 503 (issue 14, D2/D3).
//
// - Database up (breaker closed): one multi-row INSERT at a time; rows written while it runs go
//   out together in the next one. Each INSERT has a client-side timeout (a hung server never
//   answers, D6): a timeout or a connection error opens the database's circuit breaker and the
//   batch goes to the spool.
// - Breaker open: rows go straight to the spool (group-synced), at normal latency.
// - When the breaker closes, new rows go to the database again and the spool drains in the
//   background, segment by segment; INSERTs are idempotent on id, so a row that reached both the
//   database (an INSERT that timed out but committed later) and the spool is stored once.
import type { DatabasePool } from 'slonik';
import type { Logger } from 'pino';
import { insertPredictions, type PredictionRow } from './db/predictions.ts';
import type { Spool } from './spool.ts';
import { CircuitOpenError, type CircuitBreaker } from './circuit-breaker.ts';

/** stored: committed in the database; spooled: synced to the spool; unavailable: neither could
 *  take it (answer 503, retry later); rejected: the database refused this row while it was up
 *  (a bug: every value is checked before; answer 500). */
export type WriteOutcome = 'stored' | 'spooled' | 'unavailable' | 'rejected';

interface Pending {
  row: PredictionRow;
  resolve: (outcome: WriteOutcome) => void;
}

export interface PredictionLogOptions {
  /** Client-side timeout of one INSERT; past it the database is treated as down. */
  writeTimeoutMs: number;
  /** Rows per INSERT at most. */
  maxBatch?: number;
  /** INSERTs in flight at most (default one: rows batch up behind it). */
  maxInFlight?: number;
}

export class PredictionLog {
  private queue: Pending[] = [];
  private scheduled = false;
  private inFlight = new Set<Promise<void>>();
  private draining: Promise<void> | null = null;
  private closed = false;
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  inserted = 0;
  /** INSERT statements sent (inserted / statements = rows per statement). */
  statements = 0;
  /** Rows the database refused while reachable (answered 500, logged). */
  rejected = 0;
  /** Rows neither the database nor the spool could take (answered 503). */
  unavailable = 0;
  /** Rows drained from the spool into the database since start. */
  drained = 0;

  constructor(
    private readonly pool: DatabasePool,
    readonly spool: Spool,
    readonly breaker: CircuitBreaker,
    private readonly log: Logger,
    private readonly opts: PredictionLogOptions,
  ) {
    this.maxBatch = opts.maxBatch ?? 256;
    this.maxInFlight = opts.maxInFlight ?? 1;
    breaker.onChange((open) => {
      if (!open) this.startDrain();
    });
    if (spool.hasRows) this.startDrain();
  }

  /** True while rows go to the database (the breaker is closed). */
  get up(): boolean {
    return !this.breaker.isOpen;
  }

  /** Stores the row; resolves with where it went. Never rejects. */
  write(row: PredictionRow): Promise<WriteOutcome> {
    if (this.breaker.isOpen) return this.toSpool([row]);
    return new Promise((resolve) => {
      this.queue.push({ row, resolve });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flushQueue());
      }
    });
  }

  /** Stores rows that belong together (a batch request, up to 256) in ONE INSERT of their own,
   *  next to the queue, with the same promise as write(): each row is committed or synced to the
   *  spool before its outcome resolves. While the breaker is open they go to the spool in one
   *  append (all of them, or none: 'unavailable'). Never rejects. */
  writeMany(rows: PredictionRow[]): Promise<WriteOutcome[]> {
    if (rows.length === 0) return Promise.resolve([]);
    if (this.breaker.isOpen) return this.toSpool(rows).then((outcome) => rows.map(() => outcome));
    const outcomes: Promise<WriteOutcome>[] = [];
    const batch: Pending[] = rows.map((row) => {
      let resolve!: (outcome: WriteOutcome) => void;
      outcomes.push(new Promise<WriteOutcome>((r) => (resolve = r)));
      return { row, resolve };
    });
    const p: Promise<void> = this.writeBatch(batch).finally(() => {
      this.inFlight.delete(p);
      // Rows queued meanwhile may have been held back by this INSERT (maxInFlight).
      if (this.queue.length > 0 && !this.scheduled) this.flushQueue();
    });
    this.inFlight.add(p);
    return Promise.all(outcomes);
  }

  /** At most `maxInFlight` INSERTs run at once (default one); rows that arrive meanwhile wait and
   *  go out together when it finishes. Under load that turns many one-row statements into a few
   *  multi-row ones: measured with `npm run bench:api` at 16 connections, one in flight gave ~4
   *  rows per statement and 1.40 ms of server CPU per prediction, two in flight ~2.6 rows and
   *  1.47-1.59 ms (PostgreSQL's own CPU per row drops too). A lone row never waits. */
  private flushQueue(): void {
    this.scheduled = false;
    while (this.queue.length > 0 && this.inFlight.size < this.maxInFlight) {
      const batch = this.queue.splice(0, this.maxBatch);
      const p: Promise<void> = this.writeBatch(batch).finally(() => {
        this.inFlight.delete(p);
        if (this.queue.length > 0 && !this.scheduled) this.flushQueue();
      });
      this.inFlight.add(p);
    }
  }

  private insert(rows: PredictionRow[]): Promise<void> {
    this.statements++;
    return this.breaker.call(() => insertPredictions(this.pool, rows), { timeoutMs: this.opts.writeTimeoutMs, tripOnTimeout: true });
  }

  private async writeBatch(batch: Pending[]): Promise<void> {
    const rows = batch.map((b) => b.row);
    try {
      await this.insert(rows);
      this.inserted += rows.length;
      for (const b of batch) b.resolve('stored');
      return;
    } catch (err) {
      if (this.breaker.isOpen) {
        if (!(err instanceof CircuitOpenError)) this.log.error({ err: (err as Error).message }, `database write failed; spooling ${rows.length} row(s)`);
        await this.spoolBatch(batch);
        return;
      }
    }
    // The database is up but refused the statement: find the row(s) it refuses, store the rest.
    for (let i = 0; i < batch.length; i++) {
      const b = batch[i];
      try {
        await this.insert([b.row]);
        this.inserted++;
        b.resolve('stored');
      } catch (err) {
        if (this.breaker.isOpen) {
          await this.spoolBatch(batch.slice(i));
          return;
        }
        this.rejected++;
        this.log.error({ err: (err as Error).message, id: b.row.id }, 'the database refused a prediction row; answered 500');
        b.resolve('rejected');
      }
    }
  }

  private async spoolBatch(batch: Pending[]): Promise<void> {
    const outcome = await this.toSpool(batch.map((b) => b.row));
    for (const b of batch) b.resolve(outcome);
  }

  private async toSpool(rows: PredictionRow[]): Promise<WriteOutcome> {
    if (await this.spool.append(rows)) return 'spooled';
    this.unavailable += rows.length;
    this.log.error(`spool full (${this.spool.bytes} of ${this.spool.maxBytes} bytes) or failing: ${rows.length} prediction(s) answered 503`);
    return 'unavailable';
  }

  /** Moves spooled rows into the database in the background while new rows go there directly.
   *  Stops when the breaker opens again (the next close restarts it) or at shutdown. */
  private startDrain(): void {
    if (this.draining || this.closed) return;
    this.draining = (async () => {
      try {
        while (this.spool.hasRows && !this.closed && !this.breaker.isOpen) {
          const n = await this.spool.drain(async (rows) => {
            if (this.closed) throw new Error('shutting down');
            await this.breaker.call(() => insertPredictions(this.pool, rows), { timeoutMs: Math.max(5000, this.opts.writeTimeoutMs * 5), tripOnTimeout: true });
          });
          this.drained += n;
          if (n > 0) this.log.info(`moved ${n} spooled prediction(s) into the database`);
        }
      } catch (err) {
        if (!this.closed) this.log.warn({ err: (err as Error).message }, 'spool drain interrupted; it resumes when the database answers');
      } finally {
        this.draining = null;
      }
      // Rows spooled by a write that failed while the drain was finishing: go again.
      if (this.spool.hasRows && !this.closed && !this.breaker.isOpen) this.startDrain();
    })();
  }

  /** Waits for queued and in-flight writes (used by graceful shutdown and tests). */
  async flush(): Promise<void> {
    while (this.queue.length > 0 || this.inFlight.size > 0 || this.scheduled) {
      if (this.scheduled) await new Promise((r) => setImmediate(r));
      await Promise.all([...this.inFlight]);
    }
  }

  /** Resolves once the breaker is closed and the spool is empty (tests). */
  async waitUntilUp(timeoutMs = 30_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (this.breaker.isOpen || this.spool.hasRows || this.draining) {
      if (Date.now() > end) throw new Error(`the prediction log did not get back to the database within ${timeoutMs} ms (${this.spool.size} rows spooled)`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Graceful shutdown: every queued row stored or spooled; draining stops (the next start
   *  resumes it); the spool's file closed. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    await this.breaker.stop();
    await this.draining;
    await this.spool.close();
  }
}

