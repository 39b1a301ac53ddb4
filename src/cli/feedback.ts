// `inkling feedback export --out DIR [--format png|idx]`: labelled predictions as a data set for
// `inkling train --finetune MODEL --feedback DIR` (src/feedback/export.ts).
import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { defaultDataDir } from '../paths.ts';
import { exportFeedback, withDatabase } from '../feedback/export.ts';
import { CliError, type FlagSpec, helpText, parseFlags } from './args.ts';
import type { Command } from './command.ts';

export const FEEDBACK_FLAGS: Record<string, FlagSpec> = {
  out: { type: 'string', metavar: 'DIR', help: 'folder to write (required; must be new or empty unless --force)' },
  format: { type: 'enum', values: ['png', 'idx'], default: 'png', help: 'png: images/*.png + labels.csv; idx: MNIST IDX files' },
  model: { type: 'string', metavar: 'NAME|VERSION', help: 'only rows answered by this model (name or name@hash)' },
  'wrong-only': { type: 'boolean', default: false, help: 'only rows the model got wrong' },
  force: { type: 'boolean', default: false, help: 'write into a folder that is not empty' },
  help: { type: 'boolean', help: 'show this help' },
};

const USAGE = 'usage: inkling feedback export --out DIR [--format png|idx] [--model NAME] [--wrong-only]\n\nDatabase: DATABASE_URL, else the embedded cluster in INKLING_DATA_DIR (a running `inkling serve` is joined, not stopped).';

export const command: Command = {
  name: 'feedback',
  summary: 'export labelled feedback as a data set (feedback export --out DIR)',
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === undefined || sub === '--help' || sub === '-h') {
      process.stdout.write(helpText(USAGE, FEEDBACK_FLAGS));
      return sub === undefined ? 2 : 0;
    }
    if (sub !== 'export') throw new CliError(`feedback: unknown subcommand "${sub}"; the one subcommand is \`inkling feedback export --out DIR\``);
    const { flags } = parseFlags('feedback export', rest, FEEDBACK_FLAGS);
    if (flags.help) {
      process.stdout.write(helpText(USAGE, FEEDBACK_FLAGS));
      return 0;
    }
    const out = flags.out as string | undefined;
    if (!out) throw new CliError('feedback export: --out DIR is required, e.g. --out feedback/2026-12');
    if (!flags.force && existsSync(out) && readdirSync(out).length > 0) throw new CliError(`feedback export: ${out} is not empty; choose a new folder or add --force`);
    const dataDir = process.env.INKLING_DATA_DIR ? resolve(process.env.INKLING_DATA_DIR) : defaultDataDir();
    const log = (s: string) => process.stderr.write(`inkling feedback: ${s}\n`);
    const r = await withDatabase(process.env.DATABASE_URL || null, dataDir, log, (pool) =>
      exportFeedback(pool, out, flags.format as 'png' | 'idx', { model: flags.model as string | undefined, wrongOnly: flags['wrong-only'] as boolean }));
    process.stdout.write(`wrote ${r.count} labelled samples to ${out} (${r.files.join(', ')}); per digit: ${r.perLabel.join(' ')}\n`);
    if (r.count === 0) process.stdout.write('no prediction has a label yet: label some in the web UI (or PUT /api/predictions/ID/feedback) first\n');
    process.stdout.write(`fine-tune with: inkling train --finetune models/seed-cnn --feedback ${out} --out models/NAME\n`);
    return 0;
  },
};
