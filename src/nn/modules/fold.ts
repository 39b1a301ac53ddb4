// Inference fusion of Conv2d → BatchNorm2d (→ ReLU) into one convolution. In eval mode the
// batchnorm is a per-channel affine map, so with σ = sqrt(running_var + eps):
//   w' = w · γ/σ               (per output channel)
//   b' = (b − μ) · γ/σ + β     (b = 0 when the conv has no bias)
// Both are exactly batchNormInference applied to the weight viewed as [1, Cout, Cin·kh·kw] (with
// mean 0 and β 0) and to the bias viewed as [1, Cout, 1]: two small kernels on the device, no
// readback, recomputed each call (cheap next to the convolution) so they never go stale.
// Used by Sequential only under noGrad in eval mode: the folded weights record no gradient.

import type { Activation, DeviceBuffer } from '../backend.ts';
import { conv2d } from '../ops/conv.ts';
import { Tensor } from '../tensor.ts';
import type { BatchNorm2d, Conv2d } from './layers.ts';

function f32(t: Tensor): DeviceBuffer<'f32'> {
  return t.buffer as DeviceBuffer<'f32'>;
}

export function convBatchNormInference(conv: Conv2d, bn: BatchNorm2d, x: Tensor, activation: Activation): Tensor {
  const be = conv.backend;
  const cOut = conv.weight.shape[0];
  if (bn.weight.size !== cOut) {
    throw new Error(`Conv2d → BatchNorm2d: the conv has ${cOut} output channels but the batchnorm ${bn.weight.size}`);
  }
  const perChannel = conv.weight.size / cOut;
  const zeros = be.alloc(cOut, 'f32');
  be.fill(zeros, 0);
  const w = Tensor.empty(be, conv.weight.shape);
  const b = Tensor.empty(be, [cOut]);
  try {
    const p = { n: 1, c: cOut, eps: bn.eps, momentum: bn.momentum, activation: 'none' as const };
    be.batchNormInference(f32(conv.weight), f32(bn.weight), zeros, zeros, f32(bn.runningVar), f32(w), { ...p, spatial: perChannel });
    const bias = conv.bias === null ? zeros : f32(conv.bias);
    be.batchNormInference(bias, f32(bn.weight), f32(bn.bias), f32(bn.runningMean), f32(bn.runningVar), f32(b), { ...p, spatial: 1 });
    return conv2d(x, w, b, { stride: conv.stride, pad: conv.pad, activation });
  } finally {
    w.dispose();
    b.dispose();
    be.free(zeros);
  }
}
