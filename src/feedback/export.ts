// `inkling feedback export`: the labelled predictions (rows whose user gave the true digit) as a
// feedback data set for `inkling train --finetune` (training/data/feedback.ts). Each row's
// input_png is the 28x28 frame the model saw, so the data set holds exactly the model's inputs.
//
// Which database: DATABASE_URL, else the embedded cluster under the data folder. When a running
// `inkling serve` holds that cluster, its port is read from postmaster.pid and the export connects
// to it; otherwise the cluster is started for the export and stopped after it.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { decodePngFast } from '../preprocess/index.ts';
import { connectPool } from '../server/db/pool.ts';
import { startLocalPostgres, type LocalPostgres } from '../server/db/local-postgres.ts';
import { writeFeedbackDataset, type FeedbackSample } from '../../training/data/feedback.ts';

const feedbackRow = z.object({
  id: z.string(),
  created_at: z.number(),
  digit: z.number(),
  true_label: z.number(),
  model_version: z.string(),
  input_png: z.instanceof(Buffer),
});

export interface ExportFilter {
  /** Only rows answered by this model version (exact) or name (before the @). */
  model?: string;
  /** Only rows the model got wrong. */
  wrongOnly?: boolean;
}

export async function labelledRows(pool: DatabasePool, filter: ExportFilter = {}): Promise<FeedbackSample[]> {
  const rows = await pool.any(sql.type(feedbackRow)`
    SELECT id::text, created_at, digit, true_label, model_version, input_png FROM predictions
    WHERE true_label IS NOT NULL
    ${filter.wrongOnly ? sql.fragment`AND true_label <> digit` : sql.fragment``}
    ${filter.model ? sql.fragment`AND (model_version = ${filter.model} OR split_part(model_version, '@', 1) = ${filter.model})` : sql.fragment``}
    ORDER BY created_at, id`);
  return rows.map((r) => {
    const img = decodePngFast(r.input_png);
    if (!img || img.width !== 28 || img.height !== 28) throw new Error(`prediction ${r.id}: its stored input is not a 28x28 PNG`);
    const stride = img.stride ?? 112;
    const off = img.offset ?? 0;
    const pixels = new Uint8Array(784);
    for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) pixels[y * 28 + x] = img.data[off + y * stride + x * 4];
    return { id: r.id, label: r.true_label, pixels, predicted: r.digit, modelVersion: r.model_version, createdAt: new Date(r.created_at).toISOString() };
  });
}

/** The port of a postgres running on `dataDir` (postmaster.pid line 4), or null. */
export function runningClusterPort(dataDir: string): number | null {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return null;
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || !Number.isInteger(port) || port <= 0) return null;
  try {
    process.kill(pid, 0);
  } catch {
    return null;
  }
  return port;
}

export async function withDatabase<T>(databaseUrl: string | null, dataDir: string, log: (s: string) => void, fn: (pool: DatabasePool) => Promise<T>): Promise<T> {
  let local: LocalPostgres | null = null;
  let url = databaseUrl;
  if (!url) {
    const pgDir = join(dataDir, 'postgres');
    const port = runningClusterPort(pgDir);
    if (port !== null) {
      url = `postgres://postgres@127.0.0.1:${port}/postgres`;
      log(`using the running cluster in ${pgDir} (port ${port})`);
    } else {
      if (!existsSync(join(pgDir, 'PG_VERSION'))) throw new Error(`no database: ${pgDir} holds no cluster (has \`inkling serve\` run with this data folder?) and DATABASE_URL is unset`);
      local = await startLocalPostgres({ dataDir: pgDir, log });
      url = local.url;
    }
  }
  const pool = await connectPool(url, { attempts: 3, log });
  try {
    return await fn(pool);
  } finally {
    await pool.end().catch(() => {});
    await local?.stop();
  }
}

export async function exportFeedback(pool: DatabasePool, out: string, format: 'png' | 'idx', filter: ExportFilter = {}): Promise<{ count: number; files: string[]; perLabel: number[] }> {
  const samples = await labelledRows(pool, filter);
  const files = writeFeedbackDataset(out, samples, format);
  const perLabel = new Array<number>(10).fill(0);
  for (const s of samples) perLabel[s.label]++;
  return { count: samples.length, files, perLabel };
}
