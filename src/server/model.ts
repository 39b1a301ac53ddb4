// Loads the shipped model: a folder with model.json (the card written by `inkling train`, see
// training/card.ts) and the safetensors weights it names. INKLING_MODEL_DIR may point at that
// folder or at a parent (models/), in which case the most recently updated card below it wins.
// The backend comes from INKLING_BACKEND; if it cannot run here, ref is used with a warning.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Backend } from '../nn/backend.ts';
import { createBackend, type BackendName } from '../nn/backends/registry.ts';
import { noGrad, tidy } from '../nn/autograd.ts';
import type { Module } from '../nn/modules/module.ts';
import { Tensor } from '../nn/tensor.ts';
import { loadModuleWeights } from '../nn/safetensors.ts';
import { modelSpec } from '../nn/models/catalog.ts';

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

export interface LoadedModel {
  card: Card;
  dir: string;
  module: Module;
  backend: Backend;
  backendName: string;
  /** Probabilities (softmax of logits / temperature), n x 10, for n MNIST-normalised 28x28 inputs. */
  predict(x: Float32Array, n: number): Promise<Float32Array>;
  dispose(): void;
}

/** Finds the folder holding model.json under `dir`: `dir` itself, or among its subfolders the
 *  evaluated model (card with test figures) with the best test accuracy, so a training run in
 *  progress (its card has no test figures yet) is never picked over the shipped model; when none
 *  is evaluated, the most recently updated card. */
export function findModelDir(dir: string): string {
  if (existsSync(join(dir, 'model.json'))) return dir;
  if (!existsSync(dir)) throw new Error(`model folder ${dir} does not exist: run \`inkling train\` or set INKLING_MODEL_DIR`);
  const candidates = readdirSync(dir)
    .filter((d) => !d.startsWith('.'))
    .map((d) => join(dir, d))
    .filter((d) => existsSync(join(d, 'model.json')))
    .map((d) => {
      let accuracy = -1;
      try {
        const card = JSON.parse(readFileSync(join(d, 'model.json'), 'utf8')) as { test?: { accuracy?: unknown } | null };
        if (typeof card.test?.accuracy === 'number') accuracy = card.test.accuracy;
      } catch {
        // unreadable card: ranked last; loadModel reports it if it is the only one
      }
      return { d, accuracy, mtime: statSync(join(d, 'model.json')).mtimeMs };
    })
    .sort((a, b) => b.accuracy - a.accuracy || b.mtime - a.mtime);
  if (candidates.length === 0) throw new Error(`no model.json in ${dir} or its subfolders: run \`inkling train --out ${dir}/NAME\` or set INKLING_MODEL_DIR`);
  return candidates[0].d;
}

export async function createServingBackend(name: BackendName, threads: number | null, warn: (m: string) => void): Promise<{ backend: Backend; name: string }> {
  try {
    return { backend: await createBackend(name, threads ? { threads } : undefined), name };
  } catch (err) {
    if (name === 'ref') throw err;
    warn(`backend "${name}" is unavailable (${(err as Error).message}); falling back to "ref" (slow)`);
    return { backend: await createBackend('ref'), name: 'ref' };
  }
}

export async function loadModel(modelDir: string, backendName: BackendName, threads: number | null, warn: (m: string) => void): Promise<LoadedModel> {
  const dir = findModelDir(modelDir);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  } catch (e) {
    throw new Error(`${join(dir, 'model.json')} is not valid JSON (${(e as Error).message})`);
  }
  const parsed = cardSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`${join(dir, 'model.json')} is not a model card: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const card = parsed.data;
  const { backend, name } = await createServingBackend(backendName, threads, warn);
  const module = modelSpec(card.architecture).create(backend, 0);
  await loadModuleWeights(module, join(dir, card.weights));
  module.eval();
  const invT = 1 / card.temperature;
  return {
    card,
    dir,
    module,
    backend,
    backendName: name,
    async predict(x, n) {
      const logits = noGrad(() => tidy(() => module.forward(Tensor.fromArray(backend, x.subarray(0, n * 784), [n, 1, 28, 28]))));
      let host: Float32Array;
      try {
        host = (await logits.toArray()) as Float32Array;
      } finally {
        logits.dispose();
      }
      // Softmax with temperature on the host: 10 values per row, cheaper than a kernel launch.
      const probs = new Float32Array(n * 10);
      for (let r = 0; r < n; r++) {
        let max = -Infinity;
        for (let c = 0; c < 10; c++) max = Math.max(max, host[r * 10 + c] * invT);
        let sum = 0;
        for (let c = 0; c < 10; c++) sum += probs[r * 10 + c] = Math.exp(host[r * 10 + c] * invT - max);
        for (let c = 0; c < 10; c++) probs[r * 10 + c] /= sum;
      }
      return probs;
    },
    dispose() {
      module.dispose();
      backend.dispose();
    },
  };
}
