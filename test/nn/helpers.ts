// Shared helpers for the tensor-layer tests: a ref backend, random tensors, and the
// finite-difference gradient check.

import type { Backend, DeviceBuffer } from '../../src/nn/backend.ts';
import { createBackend } from '../../src/nn/backends/registry.ts';
import { noGrad, tidy } from '../../src/nn/autograd.ts';
import { Rng } from '../../src/nn/random.ts';
import { Tensor } from '../../src/nn/tensor.ts';

export async function refBackend(): Promise<Backend> {
  return createBackend('ref');
}

export function randn(be: Backend, shape: number[], rng: Rng, opts: { requiresGrad?: boolean; scale?: number } = {}): Tensor {
  const n = shape.reduce((p, d) => p * d, 1);
  const s = opts.scale ?? 1;
  const data = Float32Array.from({ length: n }, () => rng.normal() * s);
  return Tensor.fromArray(be, data, shape, { requiresGrad: opts.requiresGrad ?? false });
}

export async function toF32(t: Tensor): Promise<Float32Array> {
  return (await t.toArray()) as Float32Array;
}

export interface GradCheckResult {
  checked: number;
  worst: { param: number; index: number; analytic: number; numeric: number } | null;
  maxError: number;
}

/** Compares backward()'s gradients of loss() with central differences (L(p+ε) − L(p−ε)) / 2ε,
 *  element by element (at most `maxPerParam` elements per parameter, spread over it). The loss is
 *  evaluated in float32, so the tolerance is |a − n| ≤ atol + rtol·max(|a|, |n|). */
export async function gradCheck(
  params: Tensor[],
  loss: () => Tensor,
  opts: { eps?: number; atol?: number; rtol?: number; maxPerParam?: number } = {},
): Promise<GradCheckResult & { ok: boolean }> {
  const eps = opts.eps ?? 1e-3;
  const atol = opts.atol ?? 2e-3;
  const rtol = opts.rtol ?? 2e-2;
  const maxPer = opts.maxPerParam ?? 24;
  for (const p of params) p.zeroGrad();
  tidy(() => loss().backward());
  const analytic: Float32Array[] = [];
  for (const p of params) {
    if (p.grad === null) throw new Error(`gradCheck: parameter ${p.toString()} got no gradient`);
    analytic.push(await toF32(p.grad));
  }
  const evalLoss = async (): Promise<number> => {
    const l = noGrad(() => loss());
    const v = await l.item();
    l.dispose();
    return v;
  };
  let checked = 0;
  let maxError = 0;
  let ok = true;
  let worst: GradCheckResult['worst'] = null;
  for (let pi = 0; pi < params.length; pi++) {
    const p = params[pi];
    const base = await toF32(p);
    const stride = Math.max(1, Math.floor(p.size / maxPer));
    for (let i = 0; i < p.size; i += stride) {
      const orig = base[i];
      const set = (v: number): void => {
        p.backend.upload(p.buffer as DeviceBuffer<'f32'>, Float32Array.of(v), i);
      };
      set(orig + eps);
      const lp = await evalLoss();
      set(orig - eps);
      const lm = await evalLoss();
      set(orig);
      const numeric = (lp - lm) / (2 * eps);
      const a = analytic[pi][i];
      const err = Math.abs(a - numeric);
      const allowed = atol + rtol * Math.max(Math.abs(a), Math.abs(numeric));
      checked++;
      if (err / allowed > maxError) {
        maxError = err / allowed;
        worst = { param: pi, index: i, analytic: a, numeric };
      }
      if (err > allowed) ok = false;
    }
  }
  return { ok, checked, worst, maxError };
}
