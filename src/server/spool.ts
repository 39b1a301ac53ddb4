// A bounded on-disk spool for prediction rows the database could not take (it is down). Rows are
// appended as JSON lines (fsynced), counted, and refused once `maxRows` are waiting. Replay moves
// the file aside first, so rows spooled during a replay land in a fresh file and are not lost.
import { mkdirSync, readdirSync, readFileSync, existsSync, statSync } from 'node:fs';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { PredictionRow } from './db/predictions.ts';

const ACTIVE = 'spool.jsonl';

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

export class Spool {
  readonly dir: string;
  readonly maxRows: number;
  /** Rows on disk or being written. */
  private rows = 0;
  private chain: Promise<void> = Promise.resolve();
  dropped = 0;
  private seq = 0;

  constructor(dir: string, maxRows: number) {
    this.dir = dir;
    this.maxRows = maxRows;
    mkdirSync(dir, { recursive: true });
    for (const f of this.files()) this.rows += countLines(join(dir, f));
  }

  /** Spool files in replay order (older replays first, the active file last). */
  private files(): string[] {
    const replays = readdirSync(this.dir).filter((f) => /^replay-\d+-\d+\.jsonl$/.test(f)).sort();
    return existsSync(join(this.dir, ACTIVE)) ? [...replays, ACTIVE] : replays;
  }

  get size(): number {
    return this.rows;
  }

  /** Appends rows; resolves to the number accepted (the rest were dropped: spool full). */
  append(rows: PredictionRow[]): Promise<number> {
    const room = Math.max(0, this.maxRows - this.rows);
    const take = rows.slice(0, room);
    this.dropped += rows.length - take.length;
    if (take.length === 0) return Promise.resolve(0);
    this.rows += take.length; // counted now, so isEmpty() is false while the write is in flight
    const text = take.map(toJson).join('\n') + '\n';
    const done = this.chain.then(async () => {
      const fh = await open(join(this.dir, ACTIVE), 'a');
      try {
        await fh.appendFile(text);
        await fh.sync();
      } finally {
        await fh.close();
      }
    });
    this.chain = done.catch(() => {});
    return done.then(() => take.length);
  }

  /** Replays every spooled row through `insert` (in batches, oldest first); a file is deleted
   *  only after all its rows were inserted. Throws (leaving the rest on disk) if insert throws. */
  async replay(insert: (rows: PredictionRow[]) => Promise<void>, batch = 100): Promise<number> {
    // The rename joins the append chain: appends queued before it land in the moved file, later
    // ones open a fresh active file.
    const moved = this.chain.then(async () => {
      if (existsSync(join(this.dir, ACTIVE))) {
        await rename(join(this.dir, ACTIVE), join(this.dir, `replay-${String(Date.now()).padStart(15, '0')}-${String(this.seq++).padStart(6, '0')}.jsonl`));
      }
    });
    this.chain = moved.catch(() => {});
    await moved;
    let replayed = 0;
    for (const f of this.files().filter((x) => x !== ACTIVE)) {
      const path = join(this.dir, f);
      const lines = (await readFile(path, 'utf8')).split('\n').filter((l) => l.length > 0);
      const rows: PredictionRow[] = [];
      for (const l of lines) {
        try {
          rows.push(fromJson(l));
        } catch {
          // A torn last line from a crash mid-append: skip it.
        }
      }
      for (let i = 0; i < rows.length; i += batch) await insert(rows.slice(i, i + batch));
      await unlink(path);
      this.rows -= lines.length;
      replayed += rows.length;
    }
    if (this.rows < 0) this.rows = 0;
    return replayed;
  }
}

function countLines(path: string): number {
  if (statSync(path).size === 0) return 0;
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.length > 0).length;
}
