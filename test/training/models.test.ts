import t from 'tap';
import { createBackend } from '../../src/nn/backends/registry.ts';
import { dropoutSteps, modelSpec, setDropoutSteps } from '../../training/models.ts';

t.test('seed-cnn with --no-dropout keeps the names, the init and the parameter count', async (t) => {
  const backend = await createBackend('ref');
  const spec = modelSpec('seed-cnn');
  const full = spec.create(backend, 7);
  const lean = spec.create(backend, 7, { dropout: false });
  t.same(lean.namedParameters().map(([n]) => n), full.namedParameters().map(([n]) => n));
  t.same(Object.keys(await lean.stateDict()), Object.keys(await full.stateDict()));
  t.equal(lean.parameterCount(), 421834);
  const a = await full.namedParameters()[0][1].toArray();
  const b = await lean.namedParameters()[0][1].toArray();
  t.same(Array.from(b), Array.from(a), 'same seeded init');
  t.same(Object.keys(dropoutSteps(full)), ['drop1', 'drop2']);
  t.same(dropoutSteps(lean), {});
  setDropoutSteps(full, { drop1: 5, drop2: 9 });
  t.same(dropoutSteps(full), { drop1: 5, drop2: 9 });
  t.throws(() => modelSpec('resnet'), /unknown model "resnet"; known models: seed-cnn/);
  full.dispose();
  lean.dispose();
  backend.dispose();
});
