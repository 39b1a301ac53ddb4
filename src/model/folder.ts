// Model folders: a folder holding model.json (the card, training/card.ts) and the safetensors
// weights it names. Reading one checks everything a user can get wrong and says how to fix it:
// a missing folder, a missing or corrupt card, a card naming a weights file that is not there.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { z } from 'zod';
import { identityOf, type ModelIdentity } from './identity.ts';

export const CARD_FILE = 'model.json';

/** What a program needs from a card; the rest (training history, figures) passes through. */
export const cardSchema = z.object({
  format: z.string(),
  name: z.string().default('model'),
  version: z.string().min(1),
  architecture: z.string().min(1),
  architectureDetail: z.string().optional(),
  parameters: z.number().int().optional(),
  weights: z.string().min(1),
  temperature: z.number().positive().default(1),
  test: z.object({ accuracy: z.number() }).passthrough().nullable().optional(),
  validation: z.object({ accuracy: z.number() }).passthrough().nullable().optional(),
}).passthrough();
export type Card = z.infer<typeof cardSchema>;

export class ModelFolderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelFolderError';
  }
}

export interface ModelFolder {
  dir: string;
  card: Card;
  weightsPath: string;
  weightsBytes: Uint8Array;
  identity: ModelIdentity;
}

export function isModelFolder(dir: string): boolean {
  return existsSync(join(dir, CARD_FILE));
}

/** Reads and checks a model folder (card + weights); the identity hashes the weights read. */
export function readModelFolder(dir: string): ModelFolder {
  const abs = resolve(dir);
  if (!existsSync(abs)) throw new ModelFolderError(`model folder ${dir} does not exist; pass a folder written by \`inkling train --out DIR\` (the shipped one is models/seed-cnn)`);
  if (!statSync(abs).isDirectory()) throw new ModelFolderError(`${dir} is a file; a model is a folder holding ${CARD_FILE} and its weights`);
  const cardPath = join(abs, CARD_FILE);
  if (!existsSync(cardPath)) throw new ModelFolderError(`${dir} holds no ${CARD_FILE}: it is not a model folder (one written by \`inkling train --out DIR\`)`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(cardPath, 'utf8'));
  } catch (e) {
    throw new ModelFolderError(`${cardPath} is not valid JSON (${(e as Error).message}); restore it (git checkout, or retrain)`);
  }
  const parsed = cardSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ModelFolderError(`${cardPath} is not a model card: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const card = parsed.data;
  const weightsPath = join(abs, card.weights);
  if (!existsSync(weightsPath)) {
    throw new ModelFolderError(
      `the weights file ${weightsPath} is missing (${CARD_FILE} names "${card.weights}"): restore it (\`git checkout -- ${join(dir, card.weights)}\` for the shipped model; a git-lfs clone needs \`git lfs pull\`) or retrain with \`inkling train --out ${dir} --force\``,
    );
  }
  const buf = readFileSync(weightsPath);
  const weightsBytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  return { dir: abs, card, weightsPath, weightsBytes, identity: identityOf(basename(abs), weightsBytes) };
}

/** The model folders directly below `root` (or `root` itself when it is one), sorted by name.
 *  Hidden folders and folders without a card are skipped. */
export function listModelFolders(root: string): string[] {
  const abs = resolve(root);
  if (isModelFolder(abs)) return [abs];
  if (!existsSync(abs)) throw new ModelFolderError(`model folder ${root} does not exist: run \`inkling train --out ${root}/NAME\` or set INKLING_MODEL_DIR`);
  return readdirSync(abs)
    .filter((d) => !d.startsWith('.'))
    .map((d) => join(abs, d))
    .filter((d) => statSync(d).isDirectory() && isModelFolder(d))
    .sort();
}

/** The folder to use when none is named: `root` itself, or below it the evaluated model with the
 *  best test accuracy (a run in progress has no test figures yet, so it never wins); when none is
 *  evaluated, the newest card. Returns the reason too, for the log. */
export function defaultModelFolder(root: string): { dir: string; reason: string } {
  const abs = resolve(root);
  if (isModelFolder(abs)) return { dir: abs, reason: `${root} is a model folder` };
  const candidates = listModelFolders(abs).map((d) => {
    let accuracy = -1;
    try {
      const card = JSON.parse(readFileSync(join(d, CARD_FILE), 'utf8')) as { test?: { accuracy?: unknown } | null };
      if (typeof card.test?.accuracy === 'number') accuracy = card.test.accuracy;
    } catch {
      // unreadable card: ranked last; reading it later reports the problem
    }
    return { d, accuracy, mtime: statSync(join(d, CARD_FILE)).mtimeMs };
  });
  if (candidates.length === 0) throw new ModelFolderError(`no ${CARD_FILE} in ${root} or its subfolders: run \`inkling train --out ${root}/NAME\` or set INKLING_MODEL_DIR`);
  candidates.sort((a, b) => b.accuracy - a.accuracy || b.mtime - a.mtime);
  const best = candidates[0];
  const reason = candidates.length === 1
    ? `the only model in ${root}`
    : best.accuracy >= 0
      ? `the best test accuracy (${(100 * best.accuracy).toFixed(2)}%) of the ${candidates.length} models in ${root}; choose another with INKLING_MODEL=NAME`
      : `none of the ${candidates.length} models in ${root} is evaluated: the newest card; choose another with INKLING_MODEL=NAME`;
  return { dir: best.d, reason };
}
