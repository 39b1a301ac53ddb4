// Applies sql/NNN_name.sql files in order, each once, each in its own transaction, recorded in
// schema_migrations. An advisory lock serialises concurrent starts.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';

export const SQL_DIR = new URL('../../../sql/', import.meta.url).pathname;
const MIGRATION_LOCK = 0x1a4b11; // arbitrary, fixed: this app's advisory lock key

export interface Migration {
  version: number;
  name: string;
  text: string;
}

export function readMigrations(dir = SQL_DIR): Migration[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();
  const out: Migration[] = [];
  for (const file of files) {
    const m = /^(\d+)_([\w-]+)\.sql$/.exec(file);
    if (!m) throw new Error(`sql/${file}: migration files are named NNN_name.sql`);
    const version = Number(m[1]);
    if (out.some((x) => x.version === version)) throw new Error(`sql/${file}: version ${version} is used twice`);
    out.push({ version, name: m[2], text: readFileSync(join(dir, file), 'utf8') });
  }
  return out;
}

/** Returns the versions applied by this call. */
export async function migrate(pool: DatabasePool, dir = SQL_DIR): Promise<number[]> {
  const migrations = readMigrations(dir);
  return pool.connect(async (conn) => {
    await conn.query(sql.unsafe`SELECT pg_advisory_lock(${MIGRATION_LOCK})`);
    try {
      await conn.query(sql.unsafe`
        CREATE TABLE IF NOT EXISTS schema_migrations (
          version integer PRIMARY KEY,
          name text NOT NULL,
          applied_at timestamptz NOT NULL DEFAULT now()
        )`);
      const done = new Set(await conn.anyFirst(sql.type(z.object({ version: z.number().int() }))`SELECT version FROM schema_migrations`));
      const applied: number[] = [];
      for (const m of migrations) {
        if (done.has(m.version)) continue;
        await conn.transaction(async (tx) => {
          // The file is ours (not user input): raw SQL is the point of a migration.
          await tx.query(sql.unsafe([m.text] as unknown as TemplateStringsArray));
          await tx.query(sql.unsafe`INSERT INTO schema_migrations (version, name) VALUES (${m.version}, ${m.name})`);
        });
        applied.push(m.version);
      }
      return applied;
    } finally {
      await conn.query(sql.unsafe`SELECT pg_advisory_unlock(${MIGRATION_LOCK})`);
    }
  });
}
