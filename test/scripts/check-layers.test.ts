// The layering check (scripts/check-layers.mjs) passes on this repository and fails on trees with a
// planted violation of each kind, so that it can fail the build.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../../scripts/check-layers.mjs', import.meta.url));

function check(root?: string): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [script, ...(root ? [root] : [])], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

/** A throwaway tree of `files` (path → source). */
function tree(t: Test, files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'inkling-layers-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, dirname(path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

t.test('this repository keeps its layers', async (t) => {
  const r = check();
  t.equal(r.status, 0, r.out);
  t.match(r.out, /check-layers: \d+ files, \d+ imports, 0 violations/);
});

t.test('a library module importing the trainer fails the check', async (t) => {
  const r = check(tree(t, {
    'src/server/model.ts': "import { MODELS } from '../../training/models.ts';\nexport const m = MODELS;\n",
    'training/models.ts': 'export const MODELS = {};\n',
  }));
  t.equal(r.status, 1);
  t.match(r.out, /layer: src\/server\/model\.ts imports training\/models\.ts/);
});

t.test('a library module reaching the trainer through a non-library module fails the check', async (t) => {
  const r = check(tree(t, {
    'src/server/export.ts': "import { write } from '../feedback/export.ts';\nexport const w = write;\n",
    'src/feedback/export.ts': "import { write } from '../../training/data/feedback.ts';\nexport { write };\n",
    'training/data/feedback.ts': 'export const write = 1;\n',
  }));
  t.equal(r.status, 1);
  t.match(r.out, /layer: src\/server\/export\.ts → src\/feedback\/export\.ts → training\/data\/feedback\.ts/);
  const cliOnly = check(tree(t, {
    'src/cli/feedback.ts': "import { write } from '../feedback/export.ts';\nexport const w = write;\n",
    'src/feedback/export.ts': "import { write } from '../../training/data/feedback.ts';\nexport { write };\n",
    'training/data/feedback.ts': 'export const write = 1;\n',
  }));
  t.equal(cliOnly.status, 0, 'the CLI may drive it');
});

t.test('type-only and dynamic imports count; quoted imports in comments do not', async (t) => {
  const r = check(tree(t, {
    'src/nn/a.ts': "import type { B } from '../../bench/b.ts';\nconst c = () => import('../../test/c.ts');\n// import x from '../../training/x.ts'\n",
    'bench/b.ts': 'export type B = number;\n',
    'test/c.ts': 'export {};\n',
    'training/x.ts': 'export default 1;\n',
  }));
  t.equal(r.status, 1);
  t.match(r.out, /src\/nn\/a\.ts imports bench\/b\.ts/);
  t.match(r.out, /src\/nn\/a\.ts imports test\/c\.ts/);
  t.notMatch(r.out, /training\/x\.ts/);
});

t.test('the shared case table importing a test fails the check', async (t) => {
  const r = check(tree(t, { 'spec/kernels/cases.ts': "import '../../test/x.ts';\n", 'test/x.ts': 'export {};\n' }));
  t.equal(r.status, 1);
  t.match(r.out, /layer: spec\/kernels\/cases\.ts imports test\/x\.ts/);
});

t.test('a cycle across folders fails the check; one inside a folder does not', async (t) => {
  const across = check(tree(t, {
    'src/nn/backends/registry.ts': "import { f } from './cpu/index.ts';\nexport type O = { n: number };\nexport const g = f;\n",
    'src/nn/backends/cpu/index.ts': "import type { O } from '../registry.ts';\nexport const f = (o: O) => o;\n",
  }));
  t.equal(across.status, 1);
  t.match(across.out, /cycle across folders src\/nn\/backends, src\/nn\/backends\/cpu/);
  const within = check(tree(t, {
    'src/nn/a.ts': "import { b } from './b.ts';\nexport const a = () => b;\n",
    'src/nn/b.ts': "import { a } from './a.ts';\nexport const b = () => a;\n",
  }));
  t.equal(within.status, 0, within.out);
});
