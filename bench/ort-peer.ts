// ONNX Runtime (onnxruntime-node, its CPU execution provider) as bench:train's inference peer:
// what a Node user would pick instead of inkling to serve the seed CNN. The shipped model is
// exported by PyTorch's own exporter (bench/pytorch/export_onnx.py, opset 13) into a temporary
// file at bench time, and run with graph optimisation 'all'; its best configuration per batch size
// is found by bench:train (execution mode sequential or parallel, 1 or 2 intra-op threads).

import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PYTHON } from './pytorch-peer.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

// onnxruntime-node's types, the part used here (imported dynamically: it is a dev dependency).
interface OrtTensor {
  readonly data: Float32Array;
}
interface OrtSession {
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}
interface OrtModule {
  InferenceSession: {
    create(path: string, options: Record<string, unknown>): Promise<OrtSession>;
  };
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensor;
  env: { versions?: { common?: string } };
}

export type ExecutionMode = 'sequential' | 'parallel';

/** A session's knobs: the execution mode and the intra-op threads. */
export interface OrtConfig {
  mode: ExecutionMode;
  threads: number;
}

export const describeOrtConfig = (c: OrtConfig): string => `${c.mode}, ${c.threads} intra-op thread${c.threads === 1 ? '' : 's'}`;

export interface OrtPeer {
  version: string;
  config: OrtConfig;
  /** Logits for a batch [n, 1, 28, 28]. */
  run(images: Float32Array, n: number): Promise<Float32Array>;
  /** Re-opens the session with `config` (nothing to do when it is the current one). */
  configure(config: OrtConfig): Promise<void>;
  close(): Promise<void>;
}

/** Exports the model to `onnxPath`; null on success, else why it failed. */
export function exportOnnx(weights: string, onnxPath: string): string | null {
  const r = spawnSync(PYTHON, [join(root, 'bench', 'pytorch', 'export_onnx.py'), weights, onnxPath], { encoding: 'utf8' });
  return r.status === 0 ? null : `the ONNX export failed: ${(r.stderr || r.stdout).trim().split('\n').pop()}`;
}

export async function openOrt(onnxPath: string, initial: OrtConfig): Promise<OrtPeer | string> {
  let ort: OrtModule;
  try {
    ort = (await import('onnxruntime-node')) as unknown as OrtModule;
  } catch (err) {
    return `onnxruntime-node is not installed (${err instanceof Error ? err.message : String(err)}); npm ci installs it (a dev dependency)`;
  }
  const open = (c: OrtConfig): Promise<OrtSession> =>
    ort.InferenceSession.create(onnxPath, {
      executionProviders: ['cpu'], intraOpNumThreads: c.threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: c.mode,
    });
  let session = await open(initial);
  const peer: OrtPeer = {
    version: ort.env.versions?.common ?? 'unknown',
    config: { ...initial },
    async run(images: Float32Array, n: number): Promise<Float32Array> {
      const out = await session.run({ x: new ort.Tensor('float32', images, [n, 1, 28, 28]) });
      return out.logits!.data;
    },
    async configure(config: OrtConfig): Promise<void> {
      if (config.mode === peer.config.mode && config.threads === peer.config.threads) return;
      await session.release();
      session = await open(config);
      peer.config = { ...config };
    },
    async close(): Promise<void> {
      await session.release();
    },
  };
  return peer;
}
