// 200 Adam steps through the real Metal kernels on the emulator: the small CNN of
// test/support/small-cnn-steps.ts (every layer type of the seed CNN, MNIST digits at 14×14,
// batch 16) on metal-emu and on cpu, from the same weights, batches and dropout masks. The two loss
// curves must agree step by step within LOSS_TOLERANCE, and the loss must fall.
import t from 'tap';
import { createCpuBackend } from '../../src/nn/backends/cpu/index.ts';
import { createMetalEmuBackend } from '../../src/nn/backends/metal-emu/index.ts';
import { smallCnnLosses } from '../support/small-cnn-steps.ts';
import { emulatorGate, seconds } from '../support/emulator-gate.ts';

const metalEmu = emulatorGate('metal-emu');

const STEPS = 200;
// Per-step tolerance on |loss_emu − loss_cpu|, relative to max(1, loss_cpu). Both compute in fp32
// from the same inputs but sum in different orders (cpu: AVX2 register blocks; metal: 32×32 tiles
// of 8×8 matrices, split-K, shuffle trees), so gradients differ in the last bits and Adam carries
// that into the weights; the stage prints the measured maximum on every run. A wrong kernel moves
// the loss at the second decimal within a few steps.
const LOSS_TOLERANCE = 1e-4;

metalEmu.test(t, `metal-emu trains: ${STEPS} steps match cpu step for step`, async (t) => {
  const t0 = performance.now();
  const emu = await createMetalEmuBackend();
  const cpu = await createCpuBackend();
  t.teardown(() => {
    emu.dispose();
    cpu.dispose();
  });
  const got = await smallCnnLosses(emu, { steps: STEPS });
  const emuSeconds = seconds(t0);
  const want = await smallCnnLosses(cpu, { steps: STEPS });
  let worst = 0;
  let worstStep = 0;
  for (let i = 0; i < STEPS; i++) {
    const d = Math.abs(got.losses[i] - want.losses[i]) / Math.max(1, Math.abs(want.losses[i]));
    if (d > worst) {
      worst = d;
      worstStep = i;
    }
  }
  t.equal(got.losses.length, STEPS, 'a loss for every step');
  t.ok(got.losses.every((v) => Number.isFinite(v)), 'every loss is finite');
  t.ok(worst <= LOSS_TOLERANCE, `largest loss difference against cpu ${worst.toExponential(2)} at step ${worstStep} (tolerance ${LOSS_TOLERANCE})`);
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  const head = mean(got.losses.slice(0, 10));
  const tail = mean(got.losses.slice(-10));
  t.ok(tail < head - 0.5, `it learns: mean loss of the first 10 steps ${head.toFixed(3)} → last 10 ${tail.toFixed(3)}`);
  t.same(emu.stats(), { buffers: 0, bytes: 0 }, 'every buffer was freed');
  t.comment(`metal-emu ${STEPS} steps in ${emuSeconds}; loss ${got.losses[0].toFixed(4)} → ${got.losses[STEPS - 1].toFixed(4)}`);
});
