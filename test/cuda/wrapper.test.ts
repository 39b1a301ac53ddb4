// The cuda backend's TypeScript wrapper over a recording stand-in for the addon's context: checks
// that bad input is refused before anything reaches the device (with the same messages as ref),
// and that offsets, shapes and scalars are encoded the way native/cuda/addon/addon.cpp reads them.
// The kernels themselves run only on a GPU (scripts/gpu-check.sh).
import t from 'tap';
import { CudaBackend } from '../../src/nn/backends/cuda/cuda-backend.ts';
import type { CudaDeviceInfo, NativeCudaContext } from '../../src/nn/backends/cuda/native.ts';

type Call = [string, ...unknown[]];

/** Records every native call; alloc hands out increasing fake addresses (never dereferenced). */
function recordingContext(): { native: NativeCudaContext; calls: Call[] } {
  const calls: Call[] = [];
  let next = 0x7f0000000000;
  const info: CudaDeviceInfo = {
    name: 'recording stand-in', computeCapability: '9.0', smCount: 132, totalMemory: 80 * 2 ** 30,
    driverVersion: 13000, runtimeVersion: 13000, gemm: 'simt',
  };
  const native = new Proxy({} as NativeCudaContext, {
    get(_target, prop: string) {
      if (prop === 'info') return () => info;
      if (prop === 'alloc') {
        return (bytes: number) => {
          calls.push(['alloc', bytes]);
          const p = next;
          next += Math.max(512, bytes);
          return p;
        };
      }
      if (prop === 'poll') return () => true;
      if (prop === 'beginDownload') return (...args: unknown[]) => (calls.push(['beginDownload', ...args]), 1);
      return (...args: unknown[]) => {
        calls.push([prop, ...args]);
      };
    },
  });
  return { native, calls };
}

function setup() {
  const { native, calls } = recordingContext();
  const backend = new CudaBackend(native);
  return { backend, calls, last: () => calls[calls.length - 1] };
}

t.test('device string and memory accounting', async (t) => {
  const { backend, calls } = setup();
  t.match(backend.device, /recording stand-in \(sm_90, 132 SMs, 80 GiB, gemm simt\)/);
  const a = backend.alloc(10);
  const b = backend.alloc(3, 'i32');
  t.same(calls.filter((c) => c[0] === 'alloc'), [['alloc', 40], ['alloc', 12]], 'bytes = 4 per element');
  t.same(backend.stats(), { buffers: 2, bytes: 52 });
  backend.free(a);
  t.same(backend.stats(), { buffers: 1, bytes: 12 });
  t.throws(() => backend.free(a), /free: buf was used after free/);
  t.throws(() => backend.fill(a, 1), /fill: out was used after free/);
  t.throws(() => backend.alloc(2.5), /alloc: length must be a non-negative integer/);
  t.throws(() => backend.alloc(4, 'f64' as never), /dtype must be 'f32' or 'i32'/);
  backend.dispose();
  t.throws(() => backend.fill(b, 0), /disposed/);
  t.throws(() => backend.alloc(1), /the cuda backend was disposed; create a new one/);
});

t.test('buffers cannot cross backends or dtypes', async (t) => {
  const one = setup();
  const two = setup();
  const x = one.backend.alloc(4);
  const y = two.backend.alloc(4);
  t.throws(() => one.backend.unary('relu', x, y), /unary: out is not a buffer of this cuda backend/);
  const labels = one.backend.alloc(4, 'i32');
  t.throws(() => one.backend.unary('exp', labels as never, x), /unary: x must be f32, got i32/);
  t.throws(() => one.backend.copy(x, labels, 4), /copy: src is f32 but dst is i32/);
});

t.test('upload and copy offsets become byte addresses; ranges are checked', async (t) => {
  const { backend, calls, last } = setup();
  const a = backend.alloc(8) as unknown as { ptr: number };
  const b = backend.alloc(8) as unknown as { ptr: number };
  backend.upload(a as never, new Float32Array([1, 2, 3]), 5);
  t.same(last(), ['upload', a.ptr + 20, new Float32Array([1, 2, 3])]);
  t.throws(() => backend.upload(a as never, new Float32Array(4), 5), /upload: destination range \[5, 9\) exceeds the buffer's 8 elements/);
  t.throws(() => backend.upload(a as never, new Int32Array(2) as never), /a f32 buffer takes a Float32Array, got Int32Array/);
  backend.copy(a as never, b as never, 3, 1, 4);
  t.same(last(), ['copy', a.ptr + 4, b.ptr + 16, 12]);
  t.throws(() => backend.copy(a as never, b as never, 5, 0, 4), /copy: dst range \[4, 9\) exceeds/);
  const got = await backend.download(b as never, 2, 3);
  t.same(calls.find((c) => c[0] === 'beginDownload'), ['beginDownload', b.ptr + 8, 12]);
  t.equal(got.length, 3, 'download returns the asked length');
  t.ok(calls.some((c) => c[0] === 'finishDownload'), 'the staging buffer is released');
});

t.test('matmul and conv encode shapes, flags and null bias as addon.cpp reads them', async (t) => {
  const { backend, last } = setup();
  const a = backend.alloc(6);
  const w = backend.alloc(6);
  const out = backend.alloc(4);
  backend.matmul(a, w, null, out, { m: 2, n: 2, k: 3, transA: false, transB: true, activation: 'relu' });
  t.same(last().slice(5), [2, 2, 3, false, true, false, true], 'm, n, k, transA, transB, accumulate, relu');
  t.equal(last()[4], (out as unknown as { ptr: number }).ptr, 'out pointer');
  t.equal(last()[3], 0, 'a null bias is pointer 0');
  t.throws(
    () => backend.matmul(a, w, null, backend.alloc(3), { m: 2, n: 2, k: 3, transA: false, transB: false }),
    /matmul: buffer out has 3 elements but m·n for .* needs 4/,
  );
  t.throws(() => backend.matmul(a, w, null, out, { m: 2, n: 2, k: 3, transA: false, transB: false, activation: 'tanh' as never }),
    /activation must be 'none' or 'relu'/);

  // conv 1→2 channels, 5x5 image, 3x3 kernel, stride 2, pad 1 → 3x3 output.
  const x = backend.alloc(2 * 25);
  const k = backend.alloc(2 * 9);
  const bias = backend.alloc(2);
  const y = backend.alloc(2 * 2 * 9);
  const p = { n: 2, cIn: 1, h: 5, w: 5, cOut: 2, kh: 3, kw: 3, stride: 2, pad: 1 };
  backend.conv2d(x, k, bias, y, p);
  t.same(last().slice(5), [2, 1, 5, 5, 2, 3, 3, 2, 1, 3, 3, false], 'shape with hOut, wOut, then relu');
  backend.conv2dBackwardWeight(x, y, k, null, p, true);
  t.same(last().slice(4, 5), [0], 'no db: pointer 0');
  t.equal(last()[last().length - 1], true, 'accumulate is the last argument');
  t.throws(() => backend.conv2d(x, k, bias, backend.alloc(10), p), /conv2d: buffer out has 10 elements but the params .* needs 36/);
  t.throws(() => backend.conv2d(x, k, bias, y, { ...p, kh: 9 }), /does not fit the padded 5x5 input/);
});

t.test('dropout sends the integer threshold and scale; optimizer checks run before the device', async (t) => {
  const { backend, last } = setup();
  const x = backend.alloc(12);
  const out = backend.alloc(12);
  backend.dropout(x, out, { p: 0.25, seed: 3, step: 9, spatial: 4 });
  t.same(last().slice(3), [12, 3, 9, 4194304, 4 / 3, 4, false, false], 'n, seed, step, ceil(p·2^24), 1/(1−p), spatial');
  backend.dropoutBackward(x, out, { p: 0.25, seed: 3, step: 9, spatial: 4 }, true);
  t.same(last().slice(-2), [true, true], 'backward, accumulate');
  t.throws(() => backend.dropout(x, out, { p: 0.25, seed: 3, step: 9, spatial: 5 }), /not a multiple of spatial 5/);
  t.throws(() => backend.dropout(x, out, { p: 0.25, seed: 2 ** 32, step: 0, spatial: 1 }), /fit in 32 bits/);

  const m = backend.alloc(12);
  const v = backend.alloc(11);
  t.throws(
    () => backend.adamStep(x, out, m, v, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false, step: 1 }),
    /adamStep: v has 11 elements but param has 12/,
  );
  t.throws(
    () => backend.adamStep(x, out, m, m, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false, step: 0 }),
    /step \(t, counted from 1\) must be a positive integer/,
  );
  t.throws(() => backend.sgdStep(x, out, null, { lr: 0.1, momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0 }),
    /momentum != 0 needs a velocity buffer/);
});

t.test('graph capture calls pass through and replay validates lr', async (t) => {
  const { backend, calls } = setup();
  t.equal(backend.capturing, false);
  backend.beginCapture();
  t.equal(backend.capturing, true);
  backend.endCapture();
  t.equal(backend.hasGraph, true);
  backend.replay({ lr: 0.01 });
  backend.replay();
  t.throws(() => backend.replay({ lr: Number.NaN }), /replay: lr must be a finite number/);
  backend.releaseGraph();
  t.equal(backend.hasGraph, false);
  t.same(
    calls.filter((c) => ['beginCapture', 'endCapture', 'replay', 'releaseGraph'].includes(c[0])),
    [['beginCapture'], ['endCapture'], ['replay', 0.01], ['replay', undefined], ['releaseGraph']],
  );
});

t.test('graphedStep: eager warm-up, one capture, then replays with the scheduled lr', async (t) => {
  const { graphedStep } = await import('../../src/nn/backends/cuda/graph-step.ts');
  const { backend, calls } = setup();
  let stepCalls = 0;
  let lr = 0.1;
  const g = graphedStep(backend, () => {
    stepCalls++;
    backend.fill(backend.alloc(1), 0);
  }, { warmup: 2, lr: () => lr });
  g.run();
  g.run();
  t.equal(stepCalls, 2, 'warm-up steps run eagerly');
  t.equal(g.captured, false);
  g.run();
  t.equal(stepCalls, 3, 'the capture runs the step once more (recorded)');
  t.equal(g.captured, true);
  lr = 0.05;
  g.run();
  g.run();
  t.equal(stepCalls, 3, 'replays do not call the step');
  t.equal(g.replays, 2);
  const graphCalls = calls.filter((c) => ['beginCapture', 'endCapture', 'replay', 'releaseGraph', 'abortCapture'].includes(c[0]));
  t.same(graphCalls, [['beginCapture'], ['endCapture'], ['replay', 0.05], ['replay', 0.05]]);
  g.release();
  t.same(calls[calls.length - 1], ['releaseGraph']);
  g.run();
  t.equal(stepCalls, 4, 'after release the next call captures again');

  const failing = graphedStep(backend, () => {
    if (stepCalls++ > 4) throw new Error('shape changed');
  }, { warmup: 1 });
  failing.run();
  t.throws(() => failing.run(), /shape changed/);
  t.same(calls[calls.length - 1], ['abortCapture'], 'a failed capture is aborted');
});

t.test('graphedStep on a backend without capture just runs the step', async (t) => {
  const { graphedStep } = await import('../../src/nn/backends/cuda/graph-step.ts');
  const { RefBackend } = await import('../../src/nn/backends/ref/index.ts');
  let n = 0;
  const g = graphedStep(new RefBackend(), () => n++);
  for (let i = 0; i < 5; i++) g.run();
  t.equal(n, 5);
  t.equal(g.captured, false);
});
