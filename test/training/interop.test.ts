// The shipped safetensors loads in PyTorch (strict load_state_dict) and gives the same logits.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackend, probeBackend } from '../../src/nn/backends/registry.ts';
import { createSeedCnn } from '../../src/nn/models/seed-cnn.ts';
import { loadModuleWeights, saveModule, writeSafetensors } from '../../src/nn/safetensors.ts';
import { allocBatch, Batcher } from '../../training/data/batcher.ts';
import { loadMnist, sliceSet } from '../../training/data/mnist.ts';
import { predictLogits } from '../../training/predict.ts';

const PYTHON = '/usr/bin/python3';
const SHIPPED = join(import.meta.dirname, '../../models/seed-cnn/model.safetensors');
const torchCheck = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
const torchMissing = torchCheck.status !== 0 ? `${PYTHON} cannot import torch (${(torchCheck.stderr || torchCheck.error?.message || '').trim().split('\n').pop()}); install Debian's python3-torch to run this check` : false;

t.test('inkling weights load into the PyTorch seed CNN and give the same logits (max abs diff < 1e-4)', { skip: torchMissing }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'inkling-interop-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const name = (await probeBackend('cpu')).available ? 'cpu' : 'ref';
  const backend = await createBackend(name);
  const model = createSeedCnn(backend, { seed: 3 });
  let weights = SHIPPED;
  if (existsSync(SHIPPED)) {
    await loadModuleWeights(model, SHIPPED);
  } else {
    // No shipped model in this checkout: check the format on a freshly initialised one.
    t.comment(`${SHIPPED} not found; checking a freshly initialised seed CNN instead`);
    weights = join(dir, 'fresh.safetensors');
    await saveModule(model, weights);
  }
  const test = sliceSet(loadMnist().test, 0, 100);
  const logits = await predictLogits(model, backend, test, 100);
  const batch = allocBatch(100);
  new Batcher(test, { batchSize: 100, shuffle: false, seed: 0, dropLast: false }).fill(0, batch);
  const probe = join(dir, 'probe.safetensors');
  await writeSafetensors(probe, {
    images: { dtype: 'f32', shape: [100, 1, 28, 28], data: batch.images },
    logits: { dtype: 'f32', shape: [100, 10], data: logits },
  });
  const run = spawnSync(PYTHON, [join(import.meta.dirname, '../../training/interop/check_pytorch.py'), weights, probe], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' },
  });
  t.equal(run.status, 0, `python exits 0: ${run.stderr}`);
  const result = JSON.parse(run.stdout.trim().split('\n').pop()!);
  t.same(result.missing, []);
  t.same(result.unexpected, []);
  t.equal(result.n, 100);
  t.equal(result.parameters, 421834);
  t.ok(result.max_abs_diff < 1e-4, `max abs diff ${result.max_abs_diff} (${name} backend, torch ${result.torch})`);
  t.equal(result.argmax_agree, 1);
  model.dispose();
  backend.dispose();
});
