// WebGPU-specific behaviour the conformance table does not reach: the GEMM paths that only large
// shapes take (vec4 loads, split-K), the dropout mask on a million elements, overlapping max-pool
// windows, aliasing, ordering of uploads against queued kernels, buffer pooling, batching into few
// submits, the per-process pipeline cache and GPU timestamps. Everything is compared with ref.
import t from 'tap';
import type { Backend, DeviceBuffer } from '../../src/nn/backend.ts';
import { RefBackend } from '../../src/nn/backends/ref/index.ts';
import { dropoutMask } from '../../src/nn/backends/ref/dropout.ts';
import { createWebgpuBackend, type WebgpuBackend } from '../../src/nn/backends/webgpu/index.ts';
import { grid1d } from '../../src/nn/backends/webgpu/runtime.ts';
import { bucketBytes } from '../../src/nn/backends/webgpu/buffers.ts';
import { preprocess } from '../../src/nn/backends/webgpu/shaders.ts';
import { openContext } from '../../src/nn/backends/webgpu/device.ts';
import { webgpuRequired, webgpuUnavailableReason } from './gate.ts';

const reason = await webgpuUnavailableReason();

t.test('pure helpers: grid folding, size buckets, the WGSL preprocessor', async (t) => {
  t.same(grid1d(1000, 256), [4, 1, 1]);
  const [x, y] = grid1d(65535 * 256 * 3 + 1, 256);
  t.ok(x <= 65535 && x * y * 256 >= 65535 * 256 * 3 + 1, `folded into ${x}x${y}`);
  t.equal(bucketBytes(4), 256);
  t.equal(bucketBytes(1000), 1024);
  t.equal(bucketBytes(1025), 1280);
  t.ok(bucketBytes(123457) >= 123457 && bucketBytes(123457) <= 123457 * 1.25);
  const src = 'a\n#if X\nb\n#if !Y\nc\n#else\nd\n#endif\n#else\ne\n#endif\nf';
  t.same(preprocess(src, { X: true, Y: false }).split('\n').filter(Boolean), ['a', 'b', 'c', 'f']);
  t.same(preprocess(src, { X: true, Y: true }).split('\n').filter(Boolean), ['a', 'b', 'd', 'f']);
  t.same(preprocess(src, { X: false }).split('\n').filter(Boolean), ['a', 'e', 'f']);
  t.throws(() => preprocess('#if X\n', {}), /unterminated/);
});

t.test('no adapter: the error names the fix', async (t) => {
  // A Dawn adapter filter that matches nothing stands in for a machine without a driver.
  await t.rejects(openContext(['adapter=no-such-adapter-anywhere']), /no adapter available[\s\S]*bookworm-backports[\s\S]*apt-get install -y -t bookworm-backports mesa-vulkan-drivers/);
});

const skip = reason && !webgpuRequired ? `WebGPU unavailable: ${reason}` : false;

t.test('webgpu backend', { skip }, async (t) => {
  if (reason) {
    t.fail(`INKLING_REQUIRE_WEBGPU=1 but WebGPU is unavailable: ${reason}`);
    return;
  }
  const gpu = (await createWebgpuBackend()) as WebgpuBackend;
  const ref = new RefBackend();
  t.teardown(() => {
    gpu.dispose();
    ref.dispose();
  });
  t.equal(gpu.name, 'webgpu');
  t.match(gpu.device, /^WebGPU on \S/, `device names the adapter: ${gpu.device}`);

  let seed = 12345;
  const random = (n: number, scale = 1): Float32Array =>
    Float32Array.from({ length: n }, () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return ((seed >>> 8) / 16777216 - 0.5) * 2 * scale;
    });
  const put = (be: Backend, data: Float32Array | Int32Array): DeviceBuffer => {
    const b = be.alloc(data.length, data instanceof Int32Array ? 'i32' : 'f32');
    be.upload(b, data as Float32Array);
    return b;
  };
  /** Runs `fn` with the same inputs on both backends and returns the max |gpu − ref| / max |ref|. */
  async function compare(inputs: (Float32Array | Int32Array)[], outLength: number, fn: (be: Backend, b: DeviceBuffer[], out: DeviceBuffer) => void, outInit?: Float32Array) {
    const results: Float32Array[] = [];
    const init = outInit ?? random(outLength); // the same starting contents on both (accumulate)
    for (const be of [gpu, ref] as Backend[]) {
      const bufs = inputs.map((d) => put(be, d));
      const out = be.alloc(outLength);
      be.upload(out, init);
      fn(be, bufs, out);
      results.push((await be.download(out)) as Float32Array);
      for (const b of [...bufs, out]) be.free(b);
    }
    const [g, r] = results;
    let maxRef = 0;
    let maxDiff = 0;
    for (let i = 0; i < r.length; i++) {
      maxRef = Math.max(maxRef, Math.abs(r[i]));
      maxDiff = Math.max(maxDiff, Math.abs(g[i] - r[i]));
    }
    return maxDiff / Math.max(maxRef, 1e-30);
  }

  t.test('matmul: every transpose with vec4 loads, bias, ReLU, accumulate', async (t) => {
    const m = 68, n = 72, k = 76; // multiples of 4: the vec4 paths; > 64: several tiles
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const init = random(m * n);
        const err = await compare([random(m * k), random(k * n), random(n)], m * n, (be, [a, b, bias], out) =>
          be.matmul(a as DeviceBuffer<'f32'>, b as DeviceBuffer<'f32'>, bias as DeviceBuffer<'f32'>, out as DeviceBuffer<'f32'>,
            { m, n, k, transA, transB, activation: 'relu', accumulate: true }), init);
        t.ok(err < 1e-5, `transA=${transA} transB=${transB}: error ${err.toExponential(2)}`);
      }
    }
  });

  t.test('conv2d at the seed CNN conv2 shape: forward, grad input, grad weight with split-K', async (t) => {
    const p = { n: 8, cIn: 32, h: 14, w: 14, cOut: 64, kh: 3, kw: 3, stride: 1, pad: 1 };
    const x = random(p.n * p.cIn * p.h * p.w);
    const w = random(p.cOut * p.cIn * 9, 0.2);
    const dy = random(p.n * p.cOut * p.h * p.w);
    const fwd = await compare([x, w, random(p.cOut)], dy.length, (be, [xb, wb, bb], out) =>
      be.conv2d(xb as DeviceBuffer<'f32'>, wb as DeviceBuffer<'f32'>, bb as DeviceBuffer<'f32'>, out as DeviceBuffer<'f32'>, { ...p, activation: 'relu' }));
    t.ok(fwd < 1e-5, `forward (K = 288: vec4 weight loads) error ${fwd.toExponential(2)}`);
    const dx = await compare([dy, w], x.length, (be, [dyb, wb], out) =>
      be.conv2dBackwardInput(dyb as DeviceBuffer<'f32'>, wb as DeviceBuffer<'f32'>, out as DeviceBuffer<'f32'>, p, true));
    t.ok(dx < 1e-5, `grad input error ${dx.toExponential(2)}`);
    // K = n·14·14 = 1568 ≥ 3 × 512: the weight gradient is split over K and summed by sum_partials.
    const dw = await compare([x, dy], w.length, (be, [xb, dyb], out) =>
      be.conv2dBackwardWeight(xb as DeviceBuffer<'f32'>, dyb as DeviceBuffer<'f32'>, out as DeviceBuffer<'f32'>, null, p, true));
    t.ok(dw < 1e-5, `grad weight (split-K, accumulate) error ${dw.toExponential(2)}`);
    const s2 = { ...p, stride: 2, n: 2 };
    const dx2 = await compare([random(2 * 64 * 7 * 7), w], 2 * 32 * 14 * 14, (be, [dyb, wb], out) =>
      be.conv2dBackwardInput(dyb as DeviceBuffer<'f32'>, wb as DeviceBuffer<'f32'>, out as DeviceBuffer<'f32'>, s2));
    t.ok(dx2 < 1e-5, `stride-2 grad input (gather, no atomics) error ${dx2.toExponential(2)}`);
  });

  t.test('max pool 3x3 stride 2: overlapping windows and ties, forward and backward', async (t) => {
    const p = { n: 2, c: 3, h: 15, w: 15, kh: 3, kw: 3, stride: 2 };
    // Values rounded to a few levels so that many windows tie: first index wins on every backend.
    const x = Float32Array.from(random(p.n * p.c * p.h * p.w), (v) => Math.round(v * 2) / 2);
    const outs = 2 * 3 * 7 * 7;
    const dy = random(outs);
    const results: { out: Float32Array; arg: Int32Array; dx: Float32Array }[] = [];
    for (const be of [gpu, ref] as Backend[]) {
      const xb = put(be, x) as DeviceBuffer<'f32'>;
      const dyb = put(be, dy) as DeviceBuffer<'f32'>;
      const out = be.alloc(outs);
      const arg = be.alloc(outs, 'i32');
      const dx = be.alloc(x.length);
      be.maxPool2d(xb, out, arg, p);
      be.maxPool2dBackward(dyb, arg, dx, p);
      results.push({ out: (await be.download(out)) as Float32Array, arg: (await be.download(arg)) as Int32Array, dx: (await be.download(dx)) as Float32Array });
      for (const b of [xb, dyb, out, arg, dx]) be.free(b);
    }
    t.same(Array.from(results[0].arg), Array.from(results[1].arg), 'argmax identical (first on ties)');
    t.same(Array.from(results[0].out), Array.from(results[1].out), 'maxima identical');
    const maxErr = results[0].dx.reduce((m, v, i) => Math.max(m, Math.abs(v - results[1].dx[i])), 0);
    t.ok(maxErr < 1e-6, `overlapping-window gradients add up like ref (max error ${maxErr})`);
  });

  t.test('dropout mask bit-identical to the hash on a million elements', async (t) => {
    const n = 49 * 21400; // about 2^20, and a whole number of 7x7 planes for dropout2d
    const x = random(n);
    for (const params of [{ p: 0.1, spatial: 1 }, { p: 1 / 3, spatial: 1 }, { p: 0.25, spatial: 49 }, { p: 0, spatial: 1 }, { p: 1, spatial: 1 }]) {
      const dp = { ...params, seed: 977, step: 123456 };
      const xb = put(gpu, x) as DeviceBuffer<'f32'>;
      const out = gpu.alloc(n);
      gpu.dropout(xb, out, dp);
      const got = (await gpu.download(out)) as Float32Array;
      const mask = dropoutMask(n, dp);
      let wrong = 0;
      let maxErr = 0;
      const scale = dp.p < 1 ? 1 / (1 - dp.p) : 0;
      for (let i = 0; i < n; i++) {
        if ((got[i] !== 0) !== (mask[i] === 1 && x[i] !== 0)) wrong++;
        if (mask[i]) maxErr = Math.max(maxErr, Math.abs(got[i] - x[i] * scale));
      }
      t.equal(wrong, 0, `p=${dp.p} spatial=${dp.spatial}: same dropped elements`);
      t.ok(maxErr < 1e-6, `kept values scaled by 1/(1-p) (max error ${maxErr})`);
      gpu.free(xb);
      gpu.free(out);
    }
  });

  t.test('aliasing and in-place kernels', async (t) => {
    const a = put(gpu, new Float32Array([1, 2, 3, 4, 5])) as DeviceBuffer<'f32'>;
    gpu.binary('add', a, a, a);
    t.same(Array.from(await gpu.download(a)), [2, 4, 6, 8, 10], 'binary with out = both inputs');
    gpu.axpy(0.5, a, a);
    t.same(Array.from(await gpu.download(a)), [3, 6, 9, 12, 15], 'axpy with x = y');
    gpu.scale(a, 2, -1, a);
    t.same(Array.from(await gpu.download(a)), [5, 11, 17, 23, 29], 'scale in place');
    gpu.copy(a, a, 3, 0, 2);
    t.same(Array.from(await gpu.download(a)), [5, 11, 5, 11, 17], 'overlapping copy within one buffer');
    gpu.free(a);
  });

  t.test('an upload waits for queued kernels that read the old contents', async (t) => {
    const a = put(gpu, new Float32Array([1, 2, 3, 4])) as DeviceBuffer<'f32'>;
    const out = gpu.alloc(4);
    gpu.scale(a, 10, 0, out); // queued, not yet submitted
    gpu.upload(a, new Float32Array([7, 7, 7, 7]));
    gpu.axpy(1, a, out);
    t.same(Array.from(await gpu.download(out)), [17, 27, 37, 47]);
    gpu.free(a);
    gpu.free(out);
  });

  t.test('batching, pooling and the pipeline cache', async (t) => {
    const x = put(gpu, random(4096)) as DeviceBuffer<'f32'>;
    const y = gpu.alloc(4096);
    gpu.scale(x, 1, 0, y);
    await gpu.flush();
    const submits = gpu.rt.counters.submits;
    for (let i = 0; i < 300; i++) gpu.axpy(1e-3, x, y);
    await gpu.flush();
    t.ok(gpu.rt.counters.submits - submits <= 2, `300 kernels in ${gpu.rt.counters.submits - submits} submit(s)`);

    // A steady "step" that allocates and frees temporaries creates no GPU buffers after the first.
    const step = () => {
      const tmp = [gpu.alloc(1000), gpu.alloc(4096), gpu.alloc(37, 'i32')];
      gpu.scale(x, 2, 0, tmp[1] as DeviceBuffer<'f32'>);
      for (const b of tmp) gpu.free(b);
    };
    step();
    const created = gpu.rt.storage.created;
    const before = gpu.stats();
    for (let i = 0; i < 50; i++) step();
    await gpu.flush();
    t.equal(gpu.rt.storage.created, created, 'no GPU buffer created by 50 more steps');
    t.same(gpu.stats(), before, 'live buffers unchanged');

    const compiled = gpu.rt.pipelines.stats.compiled;
    const other = (await createWebgpuBackend()) as WebgpuBackend;
    const ob = other.alloc(4096);
    other.upload(ob, random(4096));
    other.axpy(2, ob, ob);
    await other.download(ob);
    t.equal(other.rt.pipelines.stats.compiled, compiled, 'a second backend in the process reuses compiled pipelines');
    other.dispose();
    t.throws(() => other.alloc(1), /after dispose/, 'a disposed backend refuses work');
    gpu.free(x);
    gpu.free(y);
  });

  t.test('misuse gives clear errors', async (t) => {
    const a = gpu.alloc(4);
    gpu.free(a);
    t.throws(() => gpu.fill(a, 1), /used after free/);
    const r = ref.alloc(4);
    const g = gpu.alloc(4);
    t.throws(() => gpu.unary('relu', r as DeviceBuffer<'f32'>, g as DeviceBuffer<'f32'>), /does not belong to this backend/);
    t.throws(() => gpu.matmul(g as DeviceBuffer<'f32'>, g as DeviceBuffer<'f32'>, null, g as DeviceBuffer<'f32'>, { m: 3, n: 3, k: 3, transA: false, transB: false }), /matmul: buffer a has 4 elements/);
    ref.free(r);
    gpu.free(g);
  });

  t.test('GPU timestamps per kernel', { skip: gpu.hasGpuTimer ? false : 'adapter has no timestamp-query' }, async (t) => {
    const x = put(gpu, random(1 << 16)) as DeviceBuffer<'f32'>;
    const y = gpu.alloc(1 << 16);
    const timing = await gpu.gpuTime(() => {
      gpu.unary('exp', x, y);
      gpu.axpy(2, x, y);
    });
    t.ok(timing, 'timing returned');
    t.equal(timing!.kernels.length, 2, 'one entry per dispatch');
    t.match(timing!.kernels[0].label, /unary/);
    t.ok(timing!.kernels.every((k) => k.ms >= 0) && timing!.totalMs > 0, `total ${timing!.totalMs.toFixed(3)} ms`);
    gpu.free(x);
    gpu.free(y);
  });
});
