// A model folder loaded onto a backend, ready for inference: probabilities with the card's
// temperature, and on request the penultimate features (what the "not a digit" detector reads,
// see ood.ts). Used by `inkling predict`, `inkling export`, fine-tuning and the service.
import type { Backend } from '../nn/backend.ts';
import { createBackend, type BackendName } from '../nn/backends/registry.ts';
import { noGrad, tidy } from '../nn/autograd.ts';
import type { Module } from '../nn/modules/module.ts';
import { Sequential } from '../nn/modules/sequential.ts';
import { Flatten } from '../nn/modules/simple.ts';
import { decodeSafetensors } from '../nn/safetensors.ts';
import { Tensor } from '../nn/tensor.ts';
import { modelSpec } from '../../training/models.ts';
import { defaultModelFolder, readModelFolder, type Card, type ModelFolder } from './folder.ts';
import type { ModelIdentity } from './identity.ts';
import { readOodDetector, type OodDetector, type OodVerdict } from './ood.ts';

export const CLASS_COUNT = 10;
export const INPUT_PIXELS = 784;

export interface InferenceOutput {
  /** n x 10, softmax(logits / temperature). */
  probabilities: Float32Array;
  /** n x 10, raw. */
  logits: Float32Array;
  /** The detector's verdict per row, when the model has one (ood.json). */
  ood: OodVerdict[] | null;
}

export interface LoadedModel {
  card: Card;
  dir: string;
  identity: ModelIdentity;
  module: Module;
  backend: Backend;
  backendName: string;
  ood: OodDetector | null;
  /** Probabilities (softmax of logits / temperature), n x 10, for n MNIST-normalised 28x28 inputs. */
  predict(x: Float32Array, n: number): Promise<Float32Array>;
  /** Probabilities, logits and the "not a digit" verdicts. */
  infer(x: Float32Array, n: number): Promise<InferenceOutput>;
  /** The convolutional features (the output of `flatten`), n x F, and logits, n x 10. */
  features(x: Float32Array, n: number): Promise<{ features: Float32Array; width: number; logits: Float32Array }>;
  dispose(): void;
}

export async function createBackendOrRef(name: BackendName, threads: number | null, warn: (m: string) => void): Promise<{ backend: Backend; name: string }> {
  try {
    return { backend: await createBackend(name, threads ? { threads } : undefined), name };
  } catch (err) {
    if (name === 'ref') throw err;
    warn(`backend "${name}" is unavailable (${(err as Error).message}); falling back to "ref" (slow)`);
    return { backend: await createBackend('ref'), name: 'ref' };
  }
}

export function softmaxRows(logits: Float32Array, n: number, temperature: number, out = new Float32Array(n * CLASS_COUNT)): Float32Array {
  const invT = 1 / temperature;
  for (let r = 0; r < n; r++) {
    const o = r * CLASS_COUNT;
    let max = -Infinity;
    for (let c = 0; c < CLASS_COUNT; c++) max = Math.max(max, logits[o + c] * invT);
    let sum = 0;
    for (let c = 0; c < CLASS_COUNT; c++) sum += out[o + c] = Math.exp(logits[o + c] * invT - max);
    for (let c = 0; c < CLASS_COUNT; c++) out[o + c] /= sum;
  }
  return out;
}

/** Splits a Sequential after its Flatten: body → convolutional features, head → logits. */
export function splitAtFlatten(backend: Backend, module: Module): { body: Sequential; head: Sequential } | null {
  if (!(module instanceof Sequential)) return null;
  const children = module.namedChildren();
  const at = children.findIndex(([, m]) => m instanceof Flatten);
  if (at < 0) return null;
  return { body: new Sequential(backend, children.slice(0, at + 1)), head: new Sequential(backend, children.slice(at + 1)) };
}

async function download(t: Tensor): Promise<Float32Array> {
  try {
    return (await t.toArray()) as Float32Array;
  } finally {
    t.dispose();
  }
}

/** Loads a checked model folder (folder.ts) onto a backend created for it. */
export async function loadModelFolder(folder: ModelFolder, backendName: BackendName, threads: number | null, warn: (m: string) => void): Promise<LoadedModel> {
  const { backend, name } = await createBackendOrRef(backendName, threads, warn);
  return loadModelOn(folder, backend, name);
}

/** Loads `dir`, a model folder or a parent of several (then the default one, folder.ts). */
export async function loadModel(dir: string, backendName: BackendName, threads: number | null, warn: (m: string) => void): Promise<LoadedModel> {
  return loadModelFolder(readModelFolder(defaultModelFolder(dir).dir), backendName, threads, warn);
}

/** Loads onto an existing backend (the caller keeps owning it unless `ownsBackend`). */
export function loadModelOn(folder: ModelFolder, backend: Backend, backendName: string, ownsBackend = true): LoadedModel {
  const { card, weightsPath } = folder;
  const module = modelSpec(card.architecture).create(backend, 0);
  try {
    module.loadStateDict(decodeSafetensors(folder.weightsBytes).tensors);
  } catch (e) {
    module.dispose();
    throw new Error(`${weightsPath}: ${(e as Error).message}`, { cause: e });
  }
  module.eval();
  const split = splitAtFlatten(backend, module);
  let ood: OodDetector | null;
  try {
    ood = split ? readOodDetector(folder.dir, backend) : null;
  } catch (e) {
    module.dispose();
    throw e;
  }

  async function features(x: Float32Array, n: number) {
    if (!split) throw new Error(`${card.architecture}: features need a Sequential with a Flatten`);
    const { f, l } = noGrad(() => tidy(() => {
      const input = Tensor.fromArray(backend, x.subarray(0, n * INPUT_PIXELS), [n, 1, 28, 28]);
      const feats = split.body.forward(input);
      return { f: feats, l: split.head.forward(feats) };
    }));
    const [feat, logits] = await Promise.all([download(f), download(l)]);
    return { features: feat, width: feat.length / n, logits };
  }

  async function logitsOnly(x: Float32Array, n: number): Promise<Float32Array> {
    const t = noGrad(() => tidy(() => module.forward(Tensor.fromArray(backend, x.subarray(0, n * INPUT_PIXELS), [n, 1, 28, 28]))));
    return download(t);
  }

  return {
    card,
    dir: folder.dir,
    identity: folder.identity,
    module,
    backend,
    backendName,
    ood,
    async predict(x, n) {
      return softmaxRows(await logitsOnly(x, n), n, card.temperature);
    },
    async infer(x, n) {
      if (!ood || !split) {
        const logits = await logitsOnly(x, n);
        return { logits, probabilities: softmaxRows(logits, n, card.temperature), ood: null };
      }
      const detector = ood;
      const { l, o } = noGrad(() => tidy(() => {
        const feats = split.body.forward(Tensor.fromArray(backend, x.subarray(0, n * INPUT_PIXELS), [n, 1, 28, 28]));
        return { l: split.head.forward(feats), o: detector.head.forward(feats) };
      }));
      const [logits, headOut] = await Promise.all([download(l), download(o)]);
      const probabilities = softmaxRows(logits, n, card.temperature);
      return { logits, probabilities, ood: detector.judge(headOut, probabilities, n) };
    },
    features,
    dispose() {
      ood?.dispose();
      module.dispose();
      if (ownsBackend) backend.dispose();
    },
  };
}
