// Tape-based reverse-mode autograd.
//
// Recording: an op whose inputs require grad (while grad mode is on) attaches a GradNode to its
// output: the inputs, the tensors its backward reads ("saved"), device buffers only the backward
// needs ("aux": maxpool argmax, softmax probs, batchnorm mean/invstd) and a backward closure.
// Node ids grow with creation, so the tape order is the id order.
//
// backward(): collect the nodes reachable from the loss, run them in reverse id order (a valid
// reverse topological order), each turning its output's gradient into its inputs' gradients.
// - The seed dL/dL = 1 is a device fill: nothing is read back.
// - Gradients accumulate: the first contribution to a gradient buffer overwrites it, later ones
//   add (kernels' `accumulate` flag, or a temp + axpy for kernels without one).
// - A leaf's .grad buffer is allocated once and reused; zeroGrad() only marks it stale, so the next
//   backward overwrites it instead of paying a fill pass.
// - A non-leaf's gradient buffer is freed as soon as its node has run; the node's aux buffers too.
//   The graph is single-use (like PyTorch without retain_graph).

import type { Activation, Backend, DeviceBuffer, DType } from './backend.ts';
import { Tensor } from './tensor.ts';

export { keep, tidy } from './scope.ts';

/** Where one input's gradient goes: write into buf, adding when accumulate is true. */
export interface GradTarget {
  buf: DeviceBuffer<'f32'>;
  accumulate: boolean;
}

export type BackwardFn = (gy: DeviceBuffer<'f32'>, g: BackwardContext) => void;

let nextNodeId = 0;

export class GradNode {
  readonly id = nextNodeId++;
  constructor(
    readonly op: string,
    readonly inputs: readonly (Tensor | null)[],
    readonly backward: BackwardFn,
    readonly saved: readonly Tensor[],
    readonly aux: readonly DeviceBuffer[],
  ) {}
}

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs fn without recording (inference, metrics, weight surgery). fn must be synchronous. */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    const r = fn();
    if (r instanceof Promise) throw new Error('noGrad(fn): fn returned a Promise; run the synchronous part inside noGrad');
    return r;
  } finally {
    gradEnabled = prev;
  }
}

/** True when an op over these inputs must be recorded. */
export function needsGrad(a: Tensor | null, b?: Tensor | null, c?: Tensor | null): boolean {
  if (!gradEnabled) return false;
  return (a !== null && a.requiresGrad) || (b != null && b.requiresGrad) || (c != null && c.requiresGrad);
}

/** Attaches a backward node to `out`. */
export function recordOp(
  out: Tensor,
  op: string,
  inputs: readonly (Tensor | null)[],
  backward: BackwardFn,
  saved: readonly Tensor[] = [],
  aux: readonly DeviceBuffer[] = [],
): void {
  out.node = new GradNode(op, inputs, backward, saved, aux);
  out.requiresGrad = true;
  out.isLeaf = false;
}

/** Frees what a node holds for its backward. Called after it ran, or when its output is disposed. */
export function releaseNode(t: Tensor): void {
  const node = t.node;
  if (node === null) return;
  for (const a of node.aux) t.backend.free(a);
  t.node = null;
  t.graphFreed = true;
}

/** What a node's backward uses to reach its inputs' gradients. */
export class BackwardContext {
  /** The tensor whose node is running (its gradBuf is the gy being processed). */
  out: Tensor | null = null;
  private temps: DeviceBuffer[] = [];

  constructor(readonly backend: Backend) {}

  /** The gradient buffer of t, or null when t needs none. Marks it as written: call only when
   *  you will write it. */
  target(t: Tensor | null): GradTarget | null {
    if (t === null || !t.requiresGrad) return null;
    if (t.isLeaf) {
      if (t.gradTensor === null || t.gradTensor.disposed) {
        const g = Tensor.empty(t.backend, t.shape, 'f32');
        g.kept = true;
        t.gradTensor = g;
        t.gradValid = false;
      }
      const accumulate = t.gradValid;
      t.gradValid = true;
      return { buf: t.gradTensor.buffer as DeviceBuffer<'f32'>, accumulate };
    }
    if (t.gradBuf === null) {
      t.gradBuf = this.backend.alloc(t.size, 'f32');
      return { buf: t.gradBuf, accumulate: false };
    }
    return { buf: t.gradBuf, accumulate: true };
  }

  /** The gradient before a fused activation: gy itself for 'none'; for 'relu', gy masked by the
   *  op's output (out > 0 ⇔ pre-activation > 0) into a scratch buffer. */
  beforeActivation(activation: Activation | undefined, out: Tensor, gy: DeviceBuffer<'f32'>): DeviceBuffer<'f32'> {
    if (activation !== 'relu') return gy;
    const dy = this.temp(out.size);
    this.backend.reluBackward(out.buffer as DeviceBuffer<'f32'>, gy, dy);
    return dy;
  }

  /** A scratch buffer freed after this node's backward. */
  temp<D extends DType = 'f32'>(length: number, dtype?: D): DeviceBuffer<D> {
    const buf = this.backend.alloc(length, dtype);
    this.temps.push(buf);
    return buf;
  }

  /** Writes a gradient with a kernel that has no accumulate flag: straight into the target when
   *  it is fresh, else into a temp that is then added. */
  write(target: GradTarget, length: number, kernel: (out: DeviceBuffer<'f32'>) => void): void {
    if (!target.accumulate) {
      kernel(target.buf);
      return;
    }
    const tmp = this.temp(length);
    kernel(tmp);
    this.backend.axpy(1, tmp, target.buf);
  }

  /** t's gradient (+)= gy for an op whose Jacobian is the identity (reshape, add). When t is a
   *  non-leaf with no gradient yet, gy's buffer is handed over instead of copied. */
  pass(t: Tensor | null, gy: DeviceBuffer<'f32'>): void {
    if (t === null || !t.requiresGrad) return;
    const out = this.out;
    if (!t.isLeaf && t.gradBuf === null && out !== null && out.gradBuf === gy && gy.length === t.size) {
      t.gradBuf = gy;
      out.gradBuf = null;
      return;
    }
    const tg = this.target(t)!;
    if (tg.accumulate) this.backend.axpy(1, gy, tg.buf);
    else this.backend.copy(gy, tg.buf, t.size);
  }

  /** Two gradients written by one kernel call under a single accumulate flag (conv weight+bias,
   *  batchnorm gamma+beta). Returns buffers for both (a temp where a gradient is not wanted, or
   *  null for b when allowNullB) and the flag; a fresh buffer paired with a stale one is zeroed. */
  pair(
    a: Tensor | null,
    b: Tensor | null,
    lengthA: number,
    lengthB: number,
    allowNullB: boolean,
  ): { a: DeviceBuffer<'f32'>; b: DeviceBuffer<'f32'> | null; accumulate: boolean } | null {
    const ta = this.target(a);
    const tb = this.target(b);
    if (ta === null && tb === null) return null;
    const accumulate = (ta?.accumulate ?? false) || (tb?.accumulate ?? false);
    const bufA = ta?.buf ?? this.temp(lengthA);
    const bufB = tb?.buf ?? (allowNullB ? null : this.temp(lengthB));
    if (accumulate) {
      // one of them already holds a gradient; the other must start from 0 to be added to
      if (ta === null || !ta.accumulate) this.backend.fill(bufA, 0);
      if (bufB !== null && (tb === null || !tb.accumulate)) this.backend.fill(bufB, 0);
    }
    return { a: bufA, b: bufB, accumulate };
  }

  freeTemps(): void {
    for (const t of this.temps) this.backend.free(t);
    this.temps.length = 0;
  }
}

function graphError(t: Tensor, why: string): Error {
  return new Error(`backward(): a tensor on the path to the loss (shape [${t.shape.join(', ')}]) ${why}`);
}

/** The op tensors reachable from root, in reverse tape order. */
function collectGraph(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: Tensor[] = [root];
  seen.add(root);
  while (stack.length > 0) {
    const t = stack.pop()!;
    order.push(t);
    for (const inp of t.node!.inputs) {
      if (inp === null || !inp.requiresGrad || inp.isLeaf || seen.has(inp)) continue;
      if (inp.disposed) throw graphError(inp, 'was disposed before backward(); keep it alive until backward has run');
      if (inp.node === null) throw graphError(inp, 'belongs to a graph that backward() already used; run the forward again');
      seen.add(inp);
      stack.push(inp);
    }
  }
  order.sort((x, y) => y.node!.id - x.node!.id);
  return order;
}

export function runBackward(root: Tensor): void {
  root.assertAlive('backward');
  if (root.size !== 1) {
    throw new Error(`backward(): the loss must be a scalar, got shape [${root.shape.join(', ')}]; reduce it with F.mean or F.sum`);
  }
  if (!root.requiresGrad) {
    throw new Error('backward(): this tensor does not require grad (nothing with requiresGrad was used, or it was computed under noGrad)');
  }
  const b = root.backend;
  const ctx = new BackwardContext(b);
  if (root.isLeaf) {
    const tg = ctx.target(root)!;
    if (tg.accumulate) b.scale(tg.buf, 1, 1, tg.buf);
    else b.fill(tg.buf, 1);
    return;
  }
  if (root.node === null) throw graphError(root, 'belongs to a graph that backward() already used; run the forward again');
  const order = collectGraph(root);
  if (root.gradBuf === null) {
    root.gradBuf = b.alloc(1, 'f32');
    b.fill(root.gradBuf, 1);
  }
  for (const t of order) {
    const node = t.node!;
    const gy = t.gradBuf;
    if (gy !== null) {
      for (const s of node.saved) {
        if (s.disposed) throw graphError(s, `is needed by the backward of ${node.op} but was disposed; keep it alive until backward has run`);
      }
      ctx.out = t;
      try {
        node.backward(gy, ctx);
      } finally {
        ctx.freeTemps();
      }
    }
    if (t.gradBuf !== null) {
      b.free(t.gradBuf);
      t.gradBuf = null;
    }
    releaseNode(t);
  }
  ctx.out = null;
}
