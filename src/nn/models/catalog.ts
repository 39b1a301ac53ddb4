// The architectures inkling knows by name (`inkling train --model NAME`, the model card's `model`
// field that the service loads). Each entry builds the network on a backend and describes it for
// the model card (and for the PyTorch twin in training/interop/). The library's layer: the
// service builds a model from here without depending on the trainer.
import type { Backend } from '../backend.ts';
import type { Module } from '../modules/module.ts';
import { createSeedCnn } from './seed-cnn.ts';
import { Sequential } from '../modules/sequential.ts';
import { Dropout, Dropout2d } from '../modules/simple.ts';

export interface ModelSpec {
  name: string;
  /** One line for the card and `--help`. */
  description: string;
  /** `dropout: false` leaves the dropout layers out (they hold no weights, so the state_dict and
   *  the init are unchanged): a training-recipe choice for very short runs. */
  create(backend: Backend, seed: number, opts?: { dropout?: boolean }): Module;
}

/** The same network without its Dropout/Dropout2d layers (same names, same weights). */
function withoutDropout(model: Sequential): Sequential {
  const kept = model.namedChildren().filter(([, m]) => !(m instanceof Dropout || m instanceof Dropout2d));
  return new Sequential(model.backend, kept);
}

export const MODELS: Record<string, ModelSpec> = {
  'seed-cnn': {
    name: 'seed-cnn',
    description:
      'conv3x3(1->32,pad1)+BN+ReLU+maxpool2, conv3x3(32->64,pad1)+BN+ReLU+maxpool2, dropout2d 0.25, flatten 3136, linear 128+ReLU, dropout 0.5, linear 10',
    create: (backend, seed, opts) => {
      const model = createSeedCnn(backend, { seed });
      return opts?.dropout === false ? withoutDropout(model) : model;
    },
  },
};

export function modelSpec(name: string): ModelSpec {
  const spec = MODELS[name];
  if (!spec) throw new Error(`unknown model "${name}"; known models: ${Object.keys(MODELS).join(', ')}`);
  return spec;
}

/** Dropout layers keep a step counter that picks their masks; resume restores it. */
export function dropoutSteps(model: Module): Record<string, number> {
  const out: Record<string, number> = {};
  const walk = (m: Module, prefix: string): void => {
    for (const [name, child] of m.namedChildren()) {
      const step = (child as unknown as { step?: unknown }).step; // Dropout/Dropout2d expose `step`
      if (typeof step === 'number') out[prefix + name] = step;
      walk(child, `${prefix}${name}.`);
    }
  };
  walk(model, '');
  return out;
}

export function setDropoutSteps(model: Module, steps: Record<string, number>): void {
  const walk = (m: Module, prefix: string): void => {
    for (const [name, child] of m.namedChildren()) {
      const key = prefix + name;
      if (key in steps) (child as unknown as { step: number }).step = steps[key];
      walk(child, `${key}.`);
    }
  };
  walk(model, '');
}
