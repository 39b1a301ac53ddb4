// The cuda backend's graph API on the real Context (native/cuda/addon/context.cpp) through the
// emulator, beyond the happy path of training.stage.ts: what native/cuda/README.md promises about
// misuse and about uploads made during a capture.
import t from 'tap';
import { createCudaEmuBackend } from '../../src/nn/backends/cuda-emu/index.ts';
import { emulatorGate } from '../support/emulator-gate.ts';

const cudaEmu = emulatorGate('cuda-emu');

cudaEmu.test(t, 'cuda-emu graphs: uploads during a capture replay as constants; misuse fails clearly and recovers', async (t) => {
  const be = await createCudaEmuBackend();
  t.teardown(() => be.dispose());
  const x = be.alloc(4);
  const y = be.alloc(4);
  be.upload(x, new Float32Array([1, 2, 3, 4]));

  t.throws(() => be.replay(), /replay\(\) without a captured graph/, 'replay before any capture');
  be.beginCapture();
  t.throws(() => be.beginCapture(), /already capturing/, 'a second beginCapture');
  await t.rejects(be.download(x), /download\/flush while capturing/, 'a download during the capture');
  t.throws(() => be.releaseGraph(), /releaseGraph\(\) while capturing/, 'releaseGraph during the capture');
  be.abortCapture();
  t.same(Array.from(await be.download(x)), [1, 2, 3, 4], 'after abortCapture the stream works eagerly again');

  // Capture: upload 10s into x, then y = 2x + 1.
  be.beginCapture();
  be.upload(x, new Float32Array([10, 10, 10, 10]));
  be.scale(x, 2, 1, y);
  be.endCapture(); // runs the step once
  t.same(Array.from(await be.download(y)), [21, 21, 21, 21], 'endCapture ran the captured step');
  be.upload(x, new Float32Array([5, 5, 5, 5])); // eager upload after the capture
  be.replay();
  t.same(Array.from(await be.download(x)), [10, 10, 10, 10], 'the replay re-applies the upload made during the capture (a constant)');
  t.same(Array.from(await be.download(y)), [21, 21, 21, 21], 'and recomputes from it');
  be.releaseGraph();
  t.throws(() => be.replay(), /without a captured graph/, 'replay after releaseGraph');
  be.free(x);
  be.free(y);
  t.same(be.stats(), { buffers: 0, bytes: 0 });
});
