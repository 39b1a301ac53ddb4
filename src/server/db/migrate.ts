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

/** Splits SQL text on top-level semicolons, skipping those in quotes, dollar quotes and
 *  comments. Empty statements (comments only) are dropped. */
export function splitStatements(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const rest = text.slice(i);
    if (rest.startsWith('--')) {
      const end = text.indexOf('\n', i);
      i = end < 0 ? text.length : end + 1;
      cur += '\n';
      continue;
    }
    if (rest.startsWith('/*')) {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
      continue;
    }
    if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < text.length && !(text[j] === c && text[j + 1] !== c)) j += text[j] === c ? 2 : 1;
      cur += text.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    const dollar = /^\$[A-Za-z_]*\$/.exec(rest);
    if (dollar) {
      const end = text.indexOf(dollar[0], i + dollar[0].length);
      const stop = end < 0 ? text.length : end + dollar[0].length;
      cur += text.slice(i, stop);
      i = stop;
      continue;
    }
    if (c === ';') {
      if (cur.trim()) out.push(cur.trim());
      cur = '';
      i++;
      continue;
    }
    cur += c;
    i++;
  }
  if (cur.trim()) out.push(cur.trim());
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
          // The file is ours (not user input): raw SQL is the point of a migration. Slonik only
          // takes template literals, so build the frozen strings array a literal would have.
          // Slonik also refuses several statements in one query: run them one by one.
          for (const statement of splitStatements(m.text)) {
            const strings = Object.freeze(Object.assign([statement], { raw: Object.freeze([statement]) })) as unknown as TemplateStringsArray;
            await tx.query(sql.unsafe(strings));
          }
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
