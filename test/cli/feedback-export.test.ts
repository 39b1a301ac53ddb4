// `inkling feedback export` against a real PostgreSQL: only labelled rows, the exact 28x28 inputs,
// filters, both layouts, and the CLI with DATABASE_URL.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectPool } from '../../src/server/db/pool.ts';
import { migrate } from '../../src/server/db/migrate.ts';
import { insertPredictions, setLabel } from '../../src/server/db/predictions.ts';
import { encodePng } from '../../src/preprocess/index.ts';
import { exportFeedback } from '../../src/feedback/export.ts';
import { readFeedbackDataset } from '../../training/data/feedback.ts';
import { startTestDatabase } from '../server/helpers.ts';

const BIN = join(import.meta.dirname, '../../bin/inkling.js');

t.test('labelled predictions become a feedback data set', async (t) => {
  const db = await startTestDatabase();
  t.teardown(() => db.destroy());
  const pool = await connectPool(db.url);
  t.teardown(() => pool.end());
  await migrate(pool);
  const rows = Array.from({ length: 6 }, (_, i) => {
    const px = new Uint8Array(784).fill(0);
    px[i * 30 + 100] = 255 - i; // a distinct pixel per row
    return {
      id: randomUUID(), createdAt: new Date(Date.now() + i), clientId: 'c1', source: 'canvas' as const, digit: i, confidence: 0.9,
      probabilities: new Array(10).fill(0.1), modelVersion: i < 3 ? 'seed-cnn@aaaaaaaaaaaa' : 'other@bbbbbbbbbbbb',
      decodeMs: 1, preprocessMs: 1, inferenceMs: 1, totalMs: 3, inputPng: encodePng(px, 28, 28, 1), thumbnailPng: encodePng(px, 28, 28, 1), px,
    };
  });
  await insertPredictions(pool, rows);
  // rows 0, 1, 4 labelled (row 1 labelled as predicted, the others corrected); 2, 3, 5 not
  await setLabel(pool, null, rows[0].id, 7);
  await setLabel(pool, null, rows[1].id, 1);
  await setLabel(pool, null, rows[4].id, 9);

  const dir = mkdtempSync(join(tmpdir(), 'inkling-fbx-'));
  const all = await exportFeedback(pool, join(dir, 'all'), 'png');
  t.equal(all.count, 3, 'only labelled rows');
  const set = await readFeedbackDataset(join(dir, 'all'));
  t.same(Array.from(set.labels), [7, 1, 9], 'labels are the users\' answers, oldest first');
  t.same(set.pixels.subarray(0, 784), rows[0].px, 'the stored 28x28 input comes back exactly');
  t.match(readFileSync(join(dir, 'all', 'labels.csv'), 'utf8'), /^file,label,predicted,model_version,created_at\nimages\/.*\.png,7,0,seed-cnn@aaaaaaaaaaaa,/);
  t.equal((await exportFeedback(pool, join(dir, 'wrong'), 'idx', { wrongOnly: true })).count, 2, '--wrong-only drops the row predicted right');
  t.equal((await exportFeedback(pool, join(dir, 'byname'), 'png', { model: 'seed-cnn' })).count, 2, '--model by name');
  t.equal((await exportFeedback(pool, join(dir, 'byver'), 'png', { model: 'other@bbbbbbbbbbbb' })).count, 1, '--model by version');
  t.equal((await readFeedbackDataset(join(dir, 'wrong'))).count, 2, 'the IDX layout reads back');

  const cli = spawnSync(process.execPath, [BIN, 'feedback', 'export', '--out', join(dir, 'cli'), '--format', 'idx'], { encoding: 'utf8', env: { ...process.env, DATABASE_URL: db.url } });
  t.equal(cli.status, 0, cli.stderr);
  t.match(cli.stdout, /wrote 3 labelled samples to .*cli .*per digit: 0 1 0 0 0 0 0 1 0 1/);
  const again = spawnSync(process.execPath, [BIN, 'feedback', 'export', '--out', join(dir, 'cli')], { encoding: 'utf8', env: { ...process.env, DATABASE_URL: db.url } });
  t.equal(again.status, 2);
  t.match(again.stderr, /is not empty; choose a new folder or add --force/);
});
