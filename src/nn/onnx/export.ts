// Exports a Sequential model (the seed CNN and anything built from the same layers) as an ONNX
// model: opset 13, IR version 7, input "input" [batch, 1, 28, 28] float32 MNIST-normalised,
// outputs "logits" [batch, 10] and "probabilities" = softmax(logits / temperature).
//
// Batch norm: `foldBatchNorm: true` folds each Conv2d → BatchNorm2d pair into the convolution
// (the same algebra as modules/fold.ts, done on the host in float32):
//   w' = w · γ/σ,  b' = (b − μ) · γ/σ + β,  σ = sqrt(running_var + eps)
// `false` keeps BatchNormalization nodes with the running statistics (what PyTorch exports).
// Dropout layers are left out (inference); Flatten becomes Flatten(axis 1), Linear Gemm(transB).
import { BatchNorm2d, Conv2d, Linear } from '../modules/layers.ts';
import type { Module, StateDict } from '../modules/module.ts';
import { Sequential } from '../modules/sequential.ts';
import { AvgPool2d, Dropout, Dropout2d, Flatten, GlobalAvgPool2d, MaxPool2d, ReLU } from '../modules/simple.ts';
import { floatScalar, floatTensor, graph, model, node, valueInfo, type NodeSpec } from './onnx-proto.ts';

export interface OnnxExportOptions {
  foldBatchNorm: boolean;
  /** Divides the logits before the softmax output (the card's fitted temperature). */
  temperature?: number;
  /** Graph name and ModelProto doc string. */
  name?: string;
  doc?: string;
  /** Stored as metadata_props (e.g. the model version). */
  metadata?: Record<string, string>;
  producerVersion?: string;
  /** Input image side and channels (default 28 and 1). */
  inputShape?: [number, number, number];
}

export const ONNX_OPSET = 13;
export const ONNX_IR_VERSION = 7;

function f32(sd: StateDict, name: string): Float32Array {
  const t = sd[name];
  if (!t || t.dtype !== 'f32') throw new Error(`ONNX export: no float tensor "${name}" in the state_dict`);
  return t.data;
}

function shapeOf(sd: StateDict, name: string): number[] {
  return sd[name].shape;
}

/** Folds a batchnorm into the preceding convolution's weight [Cout, ...] and bias, in float32. */
export function foldConvBatchNorm(
  w: Float32Array, b: Float32Array | null, cOut: number,
  gamma: Float32Array, beta: Float32Array, mean: Float32Array, variance: Float32Array, eps: number,
): { weight: Float32Array; bias: Float32Array } {
  const per = w.length / cOut;
  const weight = new Float32Array(w.length);
  const bias = new Float32Array(cOut);
  for (let c = 0; c < cOut; c++) {
    const k = Math.fround(gamma[c] / Math.fround(Math.sqrt(Math.fround(variance[c] + eps))));
    for (let i = 0; i < per; i++) weight[c * per + i] = w[c * per + i] * k;
    bias[c] = ((b ? b[c] : 0) - mean[c]) * k + beta[c];
  }
  return { weight, bias };
}

/** The ONNX bytes of `module` (a Sequential of Conv2d, BatchNorm2d, ReLU, MaxPool2d, AvgPool2d,
 *  GlobalAvgPool2d, Flatten, Linear, Dropout/Dropout2d). */
export async function exportOnnx(module: Module, opts: OnnxExportOptions): Promise<Uint8Array> {
  if (!(module instanceof Sequential)) throw new Error('ONNX export: the model must be a Sequential');
  const sd = await module.stateDict();
  const nodes: NodeSpec[] = [];
  const inits: Uint8Array[] = [];
  const children = module.namedChildren();
  let current = 'input';
  const addInit = (name: string, dims: number[], data: Float32Array) => {
    inits.push(floatTensor(name, dims, data));
    return name;
  };
  for (let i = 0; i < children.length; i++) {
    const [name, m] = children[i];
    const out = `${name}_out`;
    if (m instanceof Conv2d) {
      const wShape = shapeOf(sd, `${name}.weight`);
      let weight = f32(sd, `${name}.weight`);
      let bias: Float32Array | null = m.bias ? f32(sd, `${name}.bias`) : null;
      let output = out;
      const next = children[i + 1];
      if (opts.foldBatchNorm && next && next[1] instanceof BatchNorm2d) {
        const bn = next[0];
        ({ weight, bias } = foldConvBatchNorm(weight, bias, wShape[0], f32(sd, `${bn}.weight`), f32(sd, `${bn}.bias`), f32(sd, `${bn}.running_mean`), f32(sd, `${bn}.running_var`), (next[1] as BatchNorm2d).eps));
        output = `${bn}_out`;
        i++;
      }
      const inputs = [current, addInit(`${name}.weight`, wShape, weight)];
      if (bias) inputs.push(addInit(`${name}.bias`, [wShape[0]], bias));
      nodes.push({
        op: 'Conv', name, inputs, outputs: [output],
        attributes: { kernel_shape: wShape.slice(2), pads: [m.pad, m.pad, m.pad, m.pad], strides: [m.stride, m.stride] },
      });
      current = output;
    } else if (m instanceof BatchNorm2d) {
      const c = shapeOf(sd, `${name}.weight`);
      nodes.push({
        op: 'BatchNormalization', name,
        inputs: [current, ...['weight', 'bias', 'running_mean', 'running_var'].map((k) => addInit(`${name}.${k}`, c, f32(sd, `${name}.${k}`)))],
        outputs: [out],
        attributes: { epsilon: { float: m.eps }, momentum: { float: 1 - m.momentum } },
      });
      current = out;
    } else if (m instanceof ReLU) {
      nodes.push({ op: 'Relu', name, inputs: [current], outputs: [out] });
      current = out;
    } else if (m instanceof MaxPool2d || m instanceof AvgPool2d) {
      nodes.push({
        op: m instanceof MaxPool2d ? 'MaxPool' : 'AveragePool', name, inputs: [current], outputs: [out],
        attributes: { kernel_shape: [m.kernelSize, m.kernelSize], strides: [m.stride, m.stride] },
      });
      current = out;
    } else if (m instanceof GlobalAvgPool2d) {
      nodes.push({ op: 'GlobalAveragePool', name, inputs: [current], outputs: [out] });
      current = out;
    } else if (m instanceof Flatten) {
      if (m.startDim !== 1) throw new Error(`ONNX export: Flatten from dim ${m.startDim} is not supported (only 1)`);
      nodes.push({ op: 'Flatten', name, inputs: [current], outputs: [out], attributes: { axis: 1 } });
      current = out;
    } else if (m instanceof Linear) {
      const wShape = shapeOf(sd, `${name}.weight`);
      const inputs = [current, addInit(`${name}.weight`, wShape, f32(sd, `${name}.weight`))];
      if (m.bias) inputs.push(addInit(`${name}.bias`, [wShape[0]], f32(sd, `${name}.bias`)));
      nodes.push({ op: 'Gemm', name, inputs, outputs: [out], attributes: { transB: 1 } });
      current = out;
    } else if (m instanceof Dropout || m instanceof Dropout2d) {
      continue; // identity at inference
    } else {
      throw new Error(`ONNX export: layer "${name}" (${m.constructor.name}) has no ONNX mapping`);
    }
  }
  // Name the last output "logits", then probabilities = Softmax(logits / T).
  const last = nodes[nodes.length - 1];
  last.outputs = ['logits'];
  inits.push(floatScalar('temperature', opts.temperature ?? 1));
  nodes.push({ op: 'Div', name: 'scale_by_temperature', inputs: ['logits', 'temperature'], outputs: ['scaled_logits'] });
  nodes.push({ op: 'Softmax', name: 'softmax', inputs: ['scaled_logits'], outputs: ['probabilities'], attributes: { axis: 1 } });
  const classes = shapeOf(sd, `${children.filter(([, m]) => m instanceof Linear).pop()![0]}.weight`)[0];
  const [c, h, w] = opts.inputShape ?? [1, 28, 28];
  const g = graph({
    name: opts.name ?? 'inkling',
    nodes: nodes.map(node),
    initializers: inits,
    inputs: [valueInfo('input', ['batch', c, h, w])],
    outputs: [valueInfo('logits', ['batch', classes]), valueInfo('probabilities', ['batch', classes])],
    doc: opts.doc,
  });
  return model({
    irVersion: ONNX_IR_VERSION,
    opset: ONNX_OPSET,
    producer: 'inkling',
    producerVersion: opts.producerVersion ?? '0',
    graph: g,
    doc: opts.doc,
    metadata: opts.metadata,
  });
}
