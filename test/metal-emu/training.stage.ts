// Training through the real Metal kernels on the emulator:
// 1. 200 Adam steps of the small CNN of test/support/small-cnn-steps.ts (every layer type of the seed
//    CNN, MNIST digits at 14×14, batch 16; the cuda-emu stage runs the same) on metal-emu and on
//    cpu, from the same weights, batches and dropout masks. The two loss curves must agree step by
//    step within LOSS_TOLERANCE, and the loss must fall. (Metal has no graph capture: every step
//    is eager.)
// 2. The memory-growth test of test/nn/memory-run.ts on metal-emu (buffers, device bytes, RSS).
import t from 'tap';
import { createMetalEmuBackend } from '../../src/nn/backends/metal-emu/index.ts';
import { memoryGrowth } from '../nn/memory-run.ts';
import { emulatorGate, seconds } from '../support/emulator-gate.ts';
import { trainsLikeCpu } from '../support/small-cnn-steps.ts';

const metalEmu = emulatorGate('metal-emu');

const STEPS = 200;
// Per-step tolerance on |loss_emu − loss_cpu|, relative to max(1, loss_cpu). Both compute in fp32
// from the same inputs but sum in different orders (cpu: AVX2 register blocks; metal: 32×32 tiles
// of 8×8 matrices, split-K, shuffle trees), so gradients differ in the last bits and Adam carries
// that into the weights; the stage prints the measured maximum on every run. A wrong kernel moves
// the loss at the second decimal within a few steps.
const LOSS_TOLERANCE = 1e-4;

metalEmu.test(t, `metal-emu: ${STEPS} training steps follow cpu's loss curve`, async (t) => {
  const emu = await createMetalEmuBackend();
  t.teardown(() => emu.dispose());
  await trainsLikeCpu(t, emu, { steps: STEPS, tolerance: LOSS_TOLERANCE });
});

metalEmu.test(t, 'metal-emu: 200 training steps leave buffers and RSS where they were', async (t) => {
  const t0 = performance.now();
  const be = await createMetalEmuBackend();
  await memoryGrowth(t, 'metal-emu', be, 200);
  be.dispose();
  t.comment(`memory growth: ${seconds(t0)}`);
});
