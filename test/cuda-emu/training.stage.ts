// Training through the real CUDA sources on the emulator:
// 1. 200 Adam steps of the small CNN of test/support/small-cnn-steps.ts (the seed CNN's layer types,
//    MNIST digits at 14×14, batch 16; the metal-emu stage runs the same) on cuda-emu through
//    graphedStep (2 eager warm-up steps, one capture, 197 graph replays) and on cpu eagerly, from
//    the same weights, batches and dropout masks. The two loss curves must agree step by step
//    within LOSS_TOLERANCE (below, with why), and the loss must fall.
// 2. Graph replay is exact: the same steps eagerly on one cuda-emu backend and graphed on another
//    (with a learning-rate schedule through replay({ lr })) give bit-identical losses and weights.
// 3. The memory-growth test of test/nn/memory-run.ts on cuda-emu (buffers, device bytes, RSS).
import t from 'tap';
import type { Backend } from '../../src/nn/backend.ts';
import { createCudaEmuBackend } from '../../src/nn/backends/cuda-emu/index.ts';
import { memoryGrowth } from '../nn/memory-run.ts';
import { emulatorGate, seconds } from '../support/emulator-gate.ts';
import { smallCnnRun, trainsLikeCpu } from '../support/small-cnn-steps.ts';

const cudaEmu = emulatorGate('cuda-emu');

const STEPS = 200;

// Per-step tolerance on |loss_emu − loss_cpu|, relative to max(1, loss_cpu). Both backends compute
// in fp32 from the same weights, batches and dropout masks, but sum in different orders (cpu: AVX2
// register blocks and its own convolution method; cuda: 128×64 tiles, split-K, shuffle trees), so
// each step's gradients differ in the last bits and Adam carries that into the weights. Measured
// here: at most 5.1e-7 over the 200 steps (the test prints it on every run). 1e-4 leaves two orders
// of magnitude for other CPUs' code paths (cpu's AVX-512 kernels) and is still far below what a
// wrong kernel does (a broken gradient moves the loss at the second decimal within a few steps).
const LOSS_TOLERANCE = 1e-4;

cudaEmu.test(t, `cuda-emu: ${STEPS} graphed training steps follow cpu's loss curve`, async (t) => {
  const emu = await createCudaEmuBackend({ gemm: 'simt' });
  t.teardown(() => emu.dispose());
  const run = await trainsLikeCpu(t, emu, { steps: STEPS, tolerance: LOSS_TOLERANCE });
  t.equal(run.replays, STEPS - 3, 'the step was captured once and replayed for every later step');
});

cudaEmu.test(t, 'cuda-emu: graph replays are bit-identical to eager steps (input uploads, Adam t, dropout step, lr schedule)', async (t) => {
  const t0 = performance.now();
  const steps = 12;
  const schedule = (i: number): number => 3e-3 * (1 - i / steps);
  const eagerBackend = await createCudaEmuBackend({ gemm: 'simt' });
  // A backend that hides its capture API: graphedStep then runs every step eagerly.
  const eagerOnly = new Proxy(eagerBackend, {
    get: (target, key) => (key === 'beginCapture' || key === 'replay' ? undefined : Reflect.get(target, key, target)),
  }) as Backend;
  const eager = await smallCnnRun(eagerOnly, { steps, lr: schedule });
  eagerBackend.dispose();
  const graphBackend = await createCudaEmuBackend({ gemm: 'simt' });
  const graphed = await smallCnnRun(graphBackend, { steps, lr: schedule });
  graphBackend.dispose();
  t.equal(eager.replays, 0, 'the eager run did not capture');
  t.equal(graphed.replays, steps - 3, 'the graphed run replayed');
  t.same(graphed.losses, eager.losses, 'every step\'s loss is bit-identical');
  const sameWeights = graphed.weights.every((w, i) => w.length === eager.weights[i].length && w.every((v, j) => Object.is(v, eager.weights[i][j])));
  t.ok(sameWeights, 'the trained weights are bit-identical');
  t.comment(`graph replay check: ${seconds(t0)}`);
});

cudaEmu.test(t, 'cuda-emu: 200 training steps leave buffers and RSS where they were', async (t) => {
  const t0 = performance.now();
  const be = await createCudaEmuBackend();
  await memoryGrowth(t, 'cuda-emu', be, 200);
  be.dispose();
  t.comment(`memory growth: ${seconds(t0)}`);
});
