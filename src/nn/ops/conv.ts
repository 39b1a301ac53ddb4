// conv2d: x [N, Cin, H, W] ⋆ w [Cout, Cin, kh, kw] (+ b [Cout]) → [N, Cout, hOut, wOut], with an
// optional fused ReLU epilogue. Backward: dy = gy (masked by out > 0 when fused), then
// dx = conv2dBackwardInput(dy, w), dw/db = conv2dBackwardWeight(x, dy) — each with the kernels'
// accumulate flag, so a gradient that already holds a contribution is added to in the same pass.

import { convOutputSize, poolOutputSize, type Activation, type Conv2dParams } from '../backend.ts';
import { isGradEnabled, needsGrad, recordOp } from '../autograd.ts';
import { Tensor } from '../tensor.ts';
import { f32, fmt, requireRank, requireSameBackend, requireShape } from './checks.ts';

export interface Conv2dOptions {
  stride?: number;
  pad?: number;
  activation?: Activation;
}

/** The shared checks of conv2d and conv2dMaxPool: x [N, Cin, H, W], w [Cout, Cin, kh, kw], b [Cout];
 *  the params (with the activation) and the convolution's output size (at least one pixel).
 *  The kernels' params are object literals written out field by field, never `{ ...p, extra }`:
 *  on Node 20 (V8 11.3) each property added after an object spread costs about a microsecond
 *  (4.5 us for conv2dMaxPool's four, more than a third of a batch-1 forward's JavaScript). */
export function convParams(kernel: string, x: Tensor, w: Tensor, b: Tensor | null, opts: Conv2dOptions): { p: Conv2dParams & { activation: Activation }; hOut: number; wOut: number } {
  requireRank(kernel, 'x', x, [4]);
  requireRank(kernel, 'weight', w, [4]);
  requireSameBackend(kernel, x, w);
  requireSameBackend(kernel, x, b);
  const [n, cIn, h, wd] = x.shape;
  const [cOut, wIn, kh, kw] = w.shape;
  if (wIn !== cIn) throw new Error(`${kernel}: weight ${fmt(w.shape)} expects ${wIn} input channels but x ${fmt(x.shape)} has ${cIn}`);
  if (b !== null) requireShape(kernel, 'bias', b, [cOut]);
  const pad = opts.pad ?? 0;
  const p = { n, cIn, h, w: wd, cOut, kh, kw, stride: opts.stride ?? 1, pad, activation: opts.activation ?? 'none' };
  const { hOut, wOut } = convOutputSize(p);
  if (hOut < 1 || wOut < 1) {
    throw new Error(`${kernel}: a ${kh}x${kw} kernel with pad ${pad} does not fit the ${h}x${wd} input ${fmt(x.shape)}`);
  }
  return { p, hOut, wOut };
}

export function conv2d(x: Tensor, w: Tensor, b: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  const { p, hOut, wOut } = convParams('conv2d', x, w, b, opts);
  const { n, cOut, activation } = p;
  const be = x.backend;
  const out = Tensor.empty(be, [n, cOut, hOut, wOut]);
  be.conv2d(f32(x), f32(w), b === null ? null : f32(b), f32(out), p);
  if (needsGrad(x, w, b)) {
    recordOp(
      out,
      'conv2d',
      [x, w, b],
      (gy, g) => {
        const dy = g.beforeActivation(activation, out, gy);
        const tx = g.target(x);
        if (tx !== null) be.conv2dBackwardInput(dy, f32(w), tx.buf, p, tx.accumulate);
        const wb = g.pair(w, b, w.size, cOut, true);
        if (wb !== null) be.conv2dBackwardWeight(f32(x), dy, wb.a, wb.b, p, wb.accumulate);
      },
      [x, w],
    );
  }
  return out;
}

export interface Conv2dMaxPoolOptions extends Conv2dOptions {
  /** The max pool's square window and stride (default: the window). */
  poolKernel: number;
  poolStride?: number;
}

/** maxPool2d(conv2d(x, w, b, opts)) in one kernel that stores neither the convolution's output
 *  nor the pool's argmax: inference only (under noGrad, or with nothing requiring a gradient). */
export function conv2dMaxPool(x: Tensor, w: Tensor, b: Tensor | null, opts: Conv2dMaxPoolOptions): Tensor {
  if (isGradEnabled() && needsGrad(x, w, b)) {
    throw new Error('conv2dMaxPool: inference only (it keeps no argmax to differentiate through); run it under noGrad, or use conv2d then maxPool2d');
  }
  const { p, hOut, wOut } = convParams('conv2dMaxPool', x, w, b, opts);
  const { n, cOut } = p;
  const poolKh = opts.poolKernel;
  const poolStride = opts.poolStride ?? poolKh;
  if (hOut < poolKh || wOut < poolKh) {
    throw new Error(`conv2dMaxPool: the ${poolKh}x${poolKh} pool does not fit the ${hOut}x${wOut} convolution output of ${fmt(x.shape)}`);
  }
  const pooled = poolOutputSize({ n, c: cOut, h: hOut, w: wOut, kh: poolKh, kw: poolKh, stride: poolStride });
  const out = Tensor.empty(x.backend, [n, cOut, pooled.hOut, pooled.wOut]);
  x.backend.conv2dMaxPool(f32(x), f32(w), b === null ? null : f32(b), f32(out), {
    n, cIn: p.cIn, h: p.h, w: p.w, cOut, kh: p.kh, kw: p.kw, stride: p.stride, pad: p.pad, activation: p.activation,
    poolKh, poolKw: poolKh, poolStride,
  });
  return out;
}
