// The api_keys table (sql/004_api_keys.sql) through Slonik typed queries.
import { randomUUID } from 'node:crypto';
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';

export const apiKeySchema = z.object({
  id: z.string().uuid(),
  prefix: z.string(),
  secret_hash: z.instanceof(Buffer),
  name: z.string(),
  rate_limit: z.number().int().nullable(),
  created_at: z.number(),
  revoked_at: z.number().nullable(),
});
export type ApiKeyRow = z.infer<typeof apiKeySchema>;

export async function insertApiKey(db: CommonQueryMethods, k: { prefix: string; secretHash: Buffer; name: string; rateLimit: number | null }): Promise<ApiKeyRow> {
  return db.one(sql.type(apiKeySchema)`
    INSERT INTO api_keys (id, prefix, secret_hash, name, rate_limit)
    VALUES (${sql.uuid(randomUUID())}, ${k.prefix}, ${sql.binary(k.secretHash)}, ${k.name}, ${k.rateLimit})
    RETURNING id, prefix, secret_hash, name, rate_limit, created_at, revoked_at`);
}

export async function findApiKey(db: CommonQueryMethods, prefix: string): Promise<ApiKeyRow | null> {
  return db.maybeOne(sql.type(apiKeySchema)`
    SELECT id, prefix, secret_hash, name, rate_limit, created_at, revoked_at FROM api_keys WHERE prefix = ${prefix}`);
}

export async function listApiKeys(db: CommonQueryMethods): Promise<readonly ApiKeyRow[]> {
  return db.any(sql.type(apiKeySchema)`
    SELECT id, prefix, secret_hash, name, rate_limit, created_at, revoked_at FROM api_keys ORDER BY created_at, prefix`);
}

/** Revokes by id or prefix; returns the row (null when no such key). Revoking twice keeps the
 *  first revocation time. */
export async function revokeApiKey(db: CommonQueryMethods, idOrPrefix: string): Promise<ApiKeyRow | null> {
  const byId = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(idOrPrefix);
  return db.maybeOne(sql.type(apiKeySchema)`
    UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
    WHERE ${byId ? sql.fragment`id = ${sql.uuid(idOrPrefix)}` : sql.fragment`prefix = ${idOrPrefix}`}
    RETURNING id, prefix, secret_hash, name, rate_limit, created_at, revoked_at`);
}
