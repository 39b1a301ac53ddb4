// `inkling keys create|list|revoke`: API keys for integrators (src/server/api-keys.ts). The key is
// printed once, at creation; the database keeps only its SHA-256.
import { generateKey } from '../server/api-keys.ts';
import { insertApiKey, listApiKeys, revokeApiKey, type ApiKeyRow } from '../server/db/api-keys.ts';
import { CliError, type FlagSpec, helpText, parseFlags } from './args.ts';
import type { Command } from './command.ts';
import { openDatabase } from './database.ts';

const CREATE_FLAGS: Record<string, FlagSpec> = {
  name: { type: 'string', metavar: 'TEXT', help: 'who or what the key is for (required)' },
  'rate-limit': { type: 'int', min: 0, max: 1_000_000, help: 'requests per minute for this key (default: INKLING_RATE_LIMIT; 0 = unlimited)' },
  json: { type: 'boolean', help: 'print the new key as JSON' },
  help: { type: 'boolean', help: 'show this help' },
};
const LIST_FLAGS: Record<string, FlagSpec> = {
  json: { type: 'boolean', help: 'print JSON' },
  help: { type: 'boolean', help: 'show this help' },
};
const REVOKE_FLAGS: Record<string, FlagSpec> = { help: { type: 'boolean', help: 'show this help' } };

const USAGE = `usage: inkling keys <create|list|revoke> …

  inkling keys create --name TEXT [--rate-limit N] [--json]   a new key, printed once
  inkling keys list [--json]                                   every key (prefix, name, state)
  inkling keys revoke PREFIX|ID                                the key gets 401 from then on

Database: DATABASE_URL, else the embedded cluster under INKLING_DATA_DIR (default .data).
Use a key with the header  Authorization: Bearer <key>
`;

const publicView = (k: ApiKeyRow) => ({
  id: k.id,
  prefix: k.prefix,
  name: k.name,
  rateLimit: k.rate_limit,
  createdAt: new Date(k.created_at).toISOString(),
  revokedAt: k.revoked_at === null ? null : new Date(k.revoked_at).toISOString(),
});

export const command: Command = {
  name: 'keys',
  summary: 'create, list and revoke API keys (Authorization: Bearer <key>)',
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
      process.stdout.write(USAGE);
      return sub === undefined ? 2 : 0;
    }
    if (sub === 'create') {
      const { flags } = parseFlags('keys create', rest, CREATE_FLAGS);
      if (flags.help) return help('usage: inkling keys create --name TEXT [--rate-limit N] [--json]', CREATE_FLAGS);
      const name = (flags.name as string | undefined)?.trim();
      if (!name) throw new CliError('keys create: --name TEXT is required (who or what the key is for)');
      if (name.length > 200) throw new CliError('keys create: --name is at most 200 characters');
      const db = await openDatabase('keys create');
      try {
        const { key, prefix, secretHash } = generateKey();
        const row = await insertApiKey(db.pool, { prefix, secretHash, name, rateLimit: (flags['rate-limit'] as number | undefined) ?? null });
        if (flags.json) process.stdout.write(`${JSON.stringify({ key, ...publicView(row) })}\n`);
        else process.stdout.write(`${key}\n\nkey ${row.prefix} "${row.name}" created in ${db.where}.\nIt is shown only now: store it. Use it as  Authorization: Bearer <key>\n`);
      } finally {
        await db.close();
      }
      return 0;
    }
    if (sub === 'list') {
      const { flags } = parseFlags('keys list', rest, LIST_FLAGS);
      if (flags.help) return help('usage: inkling keys list [--json]', LIST_FLAGS);
      const db = await openDatabase('keys list');
      try {
        const rows = (await listApiKeys(db.pool)).map(publicView);
        if (flags.json) process.stdout.write(`${JSON.stringify(rows)}\n`);
        else if (rows.length === 0) process.stdout.write('no API keys (inkling keys create --name TEXT)\n');
        else {
          process.stdout.write(`${['prefix'.padEnd(16), 'state'.padEnd(8), 'rate/min'.padEnd(9), 'created'.padEnd(20), 'name'].join('  ')}\n`);
          for (const r of rows) {
            const state = r.revokedAt ? 'revoked' : 'active';
            process.stdout.write(`${[r.prefix.padEnd(16), state.padEnd(8), String(r.rateLimit ?? 'default').padEnd(9), r.createdAt.slice(0, 19).padEnd(20), r.name].join('  ')}\n`);
          }
        }
      } finally {
        await db.close();
      }
      return 0;
    }
    if (sub === 'revoke') {
      const positional = rest.filter((a) => !a.startsWith('--'));
      const { flags } = parseFlags('keys revoke', rest.filter((a) => a.startsWith('--')), REVOKE_FLAGS);
      if (flags.help) return help('usage: inkling keys revoke PREFIX|ID', REVOKE_FLAGS);
      if (positional.length !== 1) throw new CliError('keys revoke: give one key prefix or id (inkling keys list shows them)');
      const db = await openDatabase('keys revoke');
      try {
        const row = await revokeApiKey(db.pool, positional[0]);
        if (!row) throw new CliError(`keys revoke: no key with prefix or id "${positional[0]}" (inkling keys list shows them)`);
        process.stdout.write(`key ${row.prefix} "${row.name}" revoked at ${new Date(row.revoked_at!).toISOString()}\n`);
      } finally {
        await db.close();
      }
      return 0;
    }
    throw new CliError(`keys: unknown subcommand "${sub}"; use create, list or revoke (inkling keys --help)`);
  },
};

function help(usage: string, flags: Record<string, FlagSpec>): number {
  process.stdout.write(helpText(usage, flags));
  return 0;
}
