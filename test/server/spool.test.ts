// The on-disk spool (issue 14, D2): bounded by bytes (an append that does not fit is refused whole
// and counts nothing), group-synced appends, segments drained oldest first and deleted, a torn
// last line from a crash skipped without swallowing the next row, state recovered on reopen.
import t from 'tap';
import { mkdtempSync, readdirSync, appendFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Spool } from '../../src/server/spool.ts';
import type { PredictionRow } from '../../src/server/db/predictions.ts';

let n = 0;
function row(thumbBytes = 100): PredictionRow {
  n++;
  return {
    id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`, createdAt: new Date(1_700_000_000_000 + n), clientId: 'c'.repeat(22), source: 'canvas',
    digit: n % 10, confidence: 0.9, probabilities: Array(10).fill(0.1), modelVersion: 'test', decodeMs: 0.1, preprocessMs: 0.2, inferenceMs: 0.3,
    totalMs: 0.7, inputPng: Buffer.from([1, 2, 3]), thumbnailPng: Buffer.alloc(thumbBytes, 7),
  };
}

function tempDir(t: { teardown: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'inkling-spool-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function drainAll(spool: Spool): Promise<PredictionRow[]> {
  const out: PredictionRow[] = [];
  await spool.drain(async (rows) => {
    out.push(...rows);
  });
  return out;
}

t.test('bounded by bytes: an append that does not fit is refused whole, and counts nothing', async (t) => {
  const dir = tempDir(t);
  const spool = new Spool({ dir, maxBytes: 3000 });
  const accepted: boolean[] = [];
  for (let i = 0; i < 10; i++) accepted.push(await spool.append([row(300)]));
  const kept = accepted.filter(Boolean).length;
  t.ok(kept > 0 && kept < 10, `${kept} of 10 rows fit in 3,000 bytes`);
  t.same(accepted, [...Array(kept).fill(true), ...Array(10 - kept).fill(false)], 'accepted until full, refused after');
  t.ok(spool.bytes <= 3000, `${spool.bytes} bytes on disk`);
  t.equal(spool.size, kept);
  t.equal(spool.refused, 10 - kept);
  t.equal(await spool.append([row(10), row(5000)]), false, 'a batch that does not fit is refused as a whole');
  t.equal(spool.size, kept, 'and adds nothing');
  const drained = await drainAll(spool);
  t.equal(drained.length, kept, 'every accepted row drains');
  t.equal(spool.bytes, 0);
  t.equal(await spool.append([row(300)]), true, 'room again after the drain');
  await spool.close();
});

t.test('concurrent appends share writes and syncs (group commit); rows come back intact', async (t) => {
  const dir = tempDir(t);
  const spool = new Spool({ dir, maxBytes: 1 << 24 });
  const rows = Array.from({ length: 200 }, () => row());
  const results = await Promise.all(rows.map((r) => spool.append([r])));
  t.ok(results.every(Boolean));
  t.equal(spool.size, 200);
  const drained = await drainAll(spool);
  t.same(drained.map((r) => r.id).sort(), rows.map((r) => r.id).sort(), 'every row, once');
  const a = drained.find((r) => r.id === rows[0].id)!;
  t.same(a.thumbnailPng, rows[0].thumbnailPng, 'binary columns round-trip');
  t.equal(a.createdAt.getTime(), rows[0].createdAt.getTime(), 'timestamps round-trip');
  t.same(readdirSync(dir), [], 'drained segments are deleted');
  await spool.close();
});

t.test('segments: rotated at the size limit, drained oldest first; a failed drain keeps the rest', async (t) => {
  const dir = tempDir(t);
  const spool = new Spool({ dir, maxBytes: 1 << 24, segmentBytes: 2000 });
  const rows = Array.from({ length: 20 }, () => row(300));
  for (const r of rows) await spool.append([r]);
  t.ok(readdirSync(dir).length >= 5, `${readdirSync(dir).length} segment files`);
  let calls = 0;
  await t.rejects(spool.drain(async () => {
    if (++calls === 7) throw new Error('database went away');
  }, 1));
  const done = 20 - spool.size;
  t.ok(done >= 2 && done <= 6, `the segments finished before the failure were deleted (${done} rows), the rest kept`);
  const rest = await drainAll(spool);
  t.same(rest.map((r) => r.id), rows.slice(done).map((r) => r.id), 'the rest, oldest first (a half-drained segment again whole: inserts are idempotent)');
  await spool.close();
});

t.test('reopened after a crash: rows kept, a torn last line skipped, and the next row not swallowed', async (t) => {
  const dir = tempDir(t);
  const first = new Spool({ dir, maxBytes: 1 << 24 });
  const before = [row(), row()];
  await first.append(before);
  await first.close();
  const seg = readdirSync(dir)[0];
  appendFileSync(join(dir, seg), '{"id":"torn-mid-write'); // a crash mid-append, no newline
  const second = new Spool({ dir, maxBytes: 1 << 24 });
  t.equal(second.size, 3, 'the torn line is counted until drained');
  const after = row();
  t.equal(await second.append([after]), true);
  const drained = await drainAll(second);
  t.same(drained.map((r) => r.id).sort(), [...before, after].map((r) => r.id).sort(), 'every acknowledged row, the torn one skipped');
  t.equal(second.size, 0);
  t.equal(second.bytes, 0);
  await second.close();
});

t.test('spool files of the previous format (spool.jsonl, replay-*.jsonl) are drained too', async (t) => {
  const dir = tempDir(t);
  const old = new Spool({ dir, maxBytes: 1 << 24 });
  const r1 = row();
  await old.append([r1]);
  await old.close();
  const seg = readdirSync(dir)[0];
  const { renameSync } = await import('node:fs');
  renameSync(join(dir, seg), join(dir, 'spool.jsonl'));
  const spool = new Spool({ dir, maxBytes: 1 << 24 });
  t.same((await drainAll(spool)).map((r) => r.id), [r1.id]);
  await spool.close();
});
