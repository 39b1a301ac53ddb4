// Pooling over [N, C, H, W], no padding, floor mode (PyTorch's defaults).
// maxPool2d keeps the argmax (i32, one per output) for its backward; the backward kernels write dx
// whole (dx = 0, then scatter), so an input that already holds a gradient gets a temp + axpy.

import { poolOutputSize, type Pool2dParams } from '../backend.ts';
import { needsGrad, recordOp } from '../autograd.ts';
import { Tensor } from '../tensor.ts';
import { f32, fmt, requireRank } from './checks.ts';

export interface Pool2dOptions {
  kernel: number;
  /** Defaults to the kernel size (PyTorch's default). */
  stride?: number;
}

function params(op: string, x: Tensor, kh: number, kw: number, stride: number): { p: Pool2dParams; shape: number[] } {
  requireRank(op, 'x', x, [4]);
  const [n, c, h, w] = x.shape;
  if (!Number.isInteger(kh) || !Number.isInteger(stride) || kh < 1 || stride < 1) {
    throw new Error(`${op}: kernel and stride must be positive integers, got kernel ${kh}, stride ${stride}`);
  }
  const p: Pool2dParams = { n, c, h, w, kh, kw, stride };
  const { hOut, wOut } = poolOutputSize(p);
  if (hOut < 1 || wOut < 1) throw new Error(`${op}: a ${kh}x${kw} window does not fit the input ${fmt(x.shape)}`);
  return { p, shape: [n, c, hOut, wOut] };
}

export function maxPool2d(x: Tensor, opts: Pool2dOptions): Tensor {
  const { p, shape } = params('maxPool2d', x, opts.kernel, opts.kernel, opts.stride ?? opts.kernel);
  const be = x.backend;
  const out = Tensor.empty(be, shape);
  const argmax = be.alloc(out.size, 'i32');
  be.maxPool2d(f32(x), f32(out), argmax, p);
  if (needsGrad(x)) {
    recordOp(
      out,
      'maxPool2d',
      [x],
      (gy, g) => {
        const tx = g.target(x);
        if (tx !== null) g.write(tx, x.size, (dx) => be.maxPool2dBackward(gy, argmax, dx, p));
      },
      [],
      [argmax],
    );
  } else {
    be.free(argmax);
  }
  return out;
}

function avgPool(op: string, x: Tensor, kh: number, kw: number, stride: number): Tensor {
  const { p, shape } = params(op, x, kh, kw, stride);
  const be = x.backend;
  const out = Tensor.empty(be, shape);
  be.avgPool2d(f32(x), f32(out), p);
  if (needsGrad(x)) {
    recordOp(out, op, [x], (gy, g) => {
      const tx = g.target(x);
      if (tx !== null) g.write(tx, x.size, (dx) => be.avgPool2dBackward(gy, dx, p));
    });
  }
  return out;
}

export function avgPool2d(x: Tensor, opts: Pool2dOptions): Tensor {
  return avgPool('avgPool2d', x, opts.kernel, opts.kernel, opts.stride ?? opts.kernel);
}

/** Mean over each H×W plane: [N, C, H, W] → [N, C, 1, 1] (adaptive_avg_pool2d(x, 1)). */
export function globalAvgPool2d(x: Tensor): Tensor {
  requireRank('globalAvgPool2d', 'x', x, [4]);
  return avgPool('globalAvgPool2d', x, x.shape[2], x.shape[3], 1);
}
