// The on-disk spool: where prediction rows go while the database cannot take them, so that a 201
// still means "stored". A row counts as spooled only once its bytes are on disk (written and
// fdatasync'd); rows appended while a write is in flight share the next write and its sync (group
// commit), so a full-speed outage costs one sync per batch, not per row.
//
// Bounded by bytes on disk (`maxBytes`), not rows: an append that does not fit is refused as a
// whole and the caller answers 503 (issue 14, D2). Rows live in segment files of JSON lines
// (`seg-<ms>-<seq>.jsonl`, at most ~`segmentBytes` each); draining replays closed segments oldest
// first and deletes each once all its rows are in the database, so a drain never reads more than
// one segment into memory. A crash can tear only the last line of the segment being written (never
// acknowledged: its sync had not returned); a new process never appends to an old segment, so a
// torn line cannot swallow the next row, and draining skips it.
import { mkdirSync, readdirSync, statSync, openSync, readSync, closeSync, fsyncSync } from 'node:fs';
import { open, readFile, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { PredictionRow } from './db/predictions.ts';

interface SpooledJson extends Omit<PredictionRow, 'createdAt' | 'inputPng' | 'thumbnailPng'> {
  createdAt: string;
  inputPng: string;
  thumbnailPng: string;
}

function toJson(r: PredictionRow): string {
  const j: SpooledJson = { ...r, createdAt: r.createdAt.toISOString(), inputPng: r.inputPng.toString('base64'), thumbnailPng: r.thumbnailPng.toString('base64') };
  return JSON.stringify(j);
}

function fromJson(line: string): PredictionRow {
  const j = JSON.parse(line) as SpooledJson;
  return { ...j, createdAt: new Date(j.createdAt), inputPng: Buffer.from(j.inputPng, 'base64'), thumbnailPng: Buffer.from(j.thumbnailPng, 'base64') };
}

/** Segment files, in replay order. Older versions' names (spool.jsonl, replay-*.jsonl) sort first. */
const SEGMENT = /^(seg-\d+-\d+|replay-\d+-\d+|spool)\.jsonl$/;

interface PendingAppend {
  text: string;
  bytes: number;
  rows: number;
  resolve: (stored: boolean) => void;
}

export interface SpoolOptions {
  dir: string;
  maxBytes: number;
  /** A segment is closed once it holds this many bytes (default 8 MiB). */
  segmentBytes?: number;
  log?: (message: string) => void;
}

export class Spool {
  readonly dir: string;
  readonly maxBytes: number;
  private readonly segmentBytes: number;
  private readonly log: (message: string) => void;
  /** Closed segments waiting to be drained, oldest first, with their sizes. */
  private closed: { name: string; bytes: number; rows: number }[] = [];
  private active: { name: string; fh: FileHandle; bytes: number; rows: number } | null = null;
  private pending: PendingAppend[] = [];
  /** A flush of `pending` is queued or running. */
  private flushing = false;
  /** Every file operation (writes, rotation) runs in this chain, one at a time. */
  private io: Promise<void> = Promise.resolve();
  private seq = 0;
  private totalBytes = 0;
  private totalRows = 0;
  /** Rows refused because they did not fit (or the disk failed). */
  refused = 0;

  constructor(opts: SpoolOptions) {
    this.dir = opts.dir;
    this.maxBytes = opts.maxBytes;
    this.segmentBytes = opts.segmentBytes ?? 8 * 1024 * 1024;
    this.log = opts.log ?? (() => {});
    mkdirSync(this.dir, { recursive: true });
    for (const name of readdirSync(this.dir).filter((f) => SEGMENT.test(f)).sort(segmentOrder)) {
      const path = join(this.dir, name);
      const bytes = statSync(path).size;
      const rows = countLines(path);
      this.closed.push({ name, bytes, rows });
      this.totalBytes += bytes;
      this.totalRows += rows;
    }
  }

  /** Rows on disk (or being written). */
  get size(): number {
    return this.totalRows;
  }

  /** Bytes on disk (or being written). */
  get bytes(): number {
    return this.totalBytes;
  }

  /** Appends the rows as one unit: resolves true once they are on disk (synced), false when they
   *  were refused (no room under maxBytes, or the disk failed) and nothing of them counts. */
  append(rows: PredictionRow[]): Promise<boolean> {
    if (rows.length === 0) return Promise.resolve(true);
    const text = rows.map(toJson).join('\n') + '\n';
    const bytes = Buffer.byteLength(text);
    if (this.totalBytes + bytes > this.maxBytes) {
      this.refused += rows.length;
      return Promise.resolve(false);
    }
    this.totalBytes += bytes; // counted now, so concurrent appends cannot overshoot the cap
    this.totalRows += rows.length;
    return new Promise((resolve) => {
      this.pending.push({ text, bytes, rows: rows.length, resolve });
      if (!this.flushing) {
        this.flushing = true;
        void this.exclusive(() => this.flush());
      }
    });
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.io.then(fn);
    this.io = run.then(() => {}, () => {});
    return run;
  }

  /** Writes whatever is pending in one write + one fdatasync. Rows that arrive meanwhile go in
   *  the next round, queued behind anything else waiting for the file (a rotation). */
  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    const text = batch.length === 1 ? batch[0].text : batch.map((p) => p.text).join('');
    const bytes = batch.reduce((a, p) => a + p.bytes, 0);
    const rows = batch.reduce((a, p) => a + p.rows, 0);
    try {
      const seg = await this.activeSegment();
      await seg.fh.write(text);
      await seg.fh.datasync();
      seg.bytes += bytes;
      seg.rows += rows;
      if (seg.bytes >= this.segmentBytes) await this.closeActive();
      for (const p of batch) p.resolve(true);
    } catch (err) {
      // A failed write may have left part of a line: that segment takes no more appends.
      this.log(`spool write failed (${(err as Error).message}); ${rows} row(s) refused`);
      this.totalBytes -= bytes;
      this.totalRows -= rows;
      this.refused += rows;
      await this.closeActive().catch(() => {});
      for (const p of batch) p.resolve(false);
    }
    if (this.pending.length > 0) void this.exclusive(() => this.flush());
    else this.flushing = false;
  }

  private async activeSegment() {
    if (this.active) return this.active;
    const name = `seg-${String(Date.now()).padStart(15, '0')}-${String(this.seq++).padStart(6, '0')}.jsonl`;
    const fh = await open(join(this.dir, name), 'wx');
    this.active = { name, fh, bytes: 0, rows: 0 };
    syncDir(this.dir); // the new file's directory entry must be durable too
    return this.active;
  }

  private async closeActive(): Promise<void> {
    const seg = this.active;
    if (!seg) return;
    this.active = null;
    await seg.fh.close();
    if (seg.bytes > 0) this.closed.push({ name: seg.name, bytes: seg.bytes, rows: seg.rows });
    else await unlink(join(this.dir, seg.name)).catch(() => {});
  }

  /** After the writes queued before it, closes the active segment so it can be drained. */
  private rotate(): Promise<void> {
    return this.exclusive(() => this.closeActive());
  }

  /** Replays every spooled row through `insert` (batches, oldest segment first); each segment is
   *  deleted once all its rows were inserted. Throws, leaving the rest on disk, if insert throws.
   *  Rows appended meanwhile land in a new segment (drained by the next call). */
  async drain(insert: (rows: PredictionRow[]) => Promise<void>, batch = 200): Promise<number> {
    await this.rotate();
    let replayed = 0;
    while (this.closed.length > 0) {
      const seg = this.closed[0];
      const path = join(this.dir, seg.name);
      const rows: PredictionRow[] = [];
      for (const line of (await readFile(path, 'utf8')).split('\n')) {
        if (!line) continue;
        try {
          rows.push(fromJson(line));
        } catch {
          this.log(`spool: skipped a torn line in ${seg.name} (a crash mid-write; that row was never acknowledged)`);
        }
      }
      for (let i = 0; i < rows.length; i += batch) await insert(rows.slice(i, i + batch));
      await unlink(path);
      this.closed.shift();
      this.totalBytes -= seg.bytes;
      this.totalRows -= seg.rows;
      replayed += rows.length;
    }
    return replayed;
  }

  /** True when rows are on disk waiting to be drained. */
  get hasRows(): boolean {
    return this.totalRows > 0;
  }

  async close(): Promise<void> {
    await this.rotate();
  }
}

function segmentOrder(a: string, b: string): number {
  const rank = (n: string) => (n.startsWith('replay-') ? 0 : n === 'spool.jsonl' ? 1 : 2);
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

function countLines(path: string): number {
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  let lines = 0;
  let last = 0x0a;
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      for (let i = 0; i < n; i++) if (buf[i] === 0x0a) lines++;
      last = buf[n - 1];
    }
  } finally {
    closeSync(fd);
  }
  return last === 0x0a ? lines : lines + 1;
}

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
