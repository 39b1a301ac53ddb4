// The CLI's rough edges, fixed: --version; serve --port/--host; serve exits at once (status 1,
// nothing started) when its port is taken; pretty logs on a terminal; the install step skips a
// current native addon; paths outside the checkout.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatLogLine, wantPretty } from '../../src/cli/pretty-log.ts';
import { defaultDataDir, defaultModelsDir, PACKAGE_ROOT, userDataDir } from '../../src/paths.ts';
import { isCurrent, sourceHash } from '../../scripts/native-stamp.mjs';
import { makeTestModelDir, startTestDatabase } from '../server/helpers.ts';

const BIN = join(import.meta.dirname, '../../bin/inkling.js');
const inkling = (args: string[], env: Record<string, string> = {}, cwd?: string) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, cwd });

t.test('--version prints the package version', async (t) => {
  const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8'));
  for (const flag of ['--version', '-V', 'version']) {
    const r = inkling([flag]);
    t.equal(r.status, 0);
    t.equal(r.stdout, `inkling ${pkg.version}\n`);
  }
  t.match(inkling(['--help']).stdout, /predict .*\n.*|export/);
});

t.test('serve exits at once, status 1 and nothing started, when the port is taken', async (t) => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => blocker.close());
  const port = (blocker.address() as { port: number }).port;
  const dataDir = mkdtempSync(join(tmpdir(), 'inkling-busy-'));
  const t0 = Date.now();
  const r = inkling(['serve', '--port', String(port)], { INKLING_DATA_DIR: dataDir, DATABASE_URL: '' });
  const ms = Date.now() - t0;
  t.equal(r.status, 1);
  t.match(r.stderr, new RegExp(`127\\.0\\.0\\.1:${port} is already in use .*--port N`));
  t.ok(ms < 15_000, `exited in ${ms} ms`);
  t.notOk(existsSync(join(dataDir, 'postgres', 'postmaster.pid')), 'no database was started');
  const bad = inkling(['serve', '--port', 'http']);
  t.equal(bad.status, 2);
  t.match(bad.stderr, /--port expects an integer/);
});

t.test('serve --port/--host override PORT/HOST; logs are pretty when asked (a terminal); SIGHUP reloads the models', async (t) => {
  const db = await startTestDatabase();
  t.teardown(() => db.destroy());
  const modelDir = mkdtempSync(join(tmpdir(), 'inkling-serve-models-'));
  cpSync(await makeTestModelDir(), join(modelDir, 'first'), { recursive: true });
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--host', '127.0.0.1'], {
    env: { ...process.env, PORT: '1', HOST: '192.0.2.1', DATABASE_URL: db.url, INKLING_MODEL_DIR: modelDir, INKLING_SPOOL_DIR: join(modelDir, 'spool'), INKLING_LOG_FORMAT: 'pretty' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number>((r) => child.on('exit', (c) => r(c ?? -1)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const m = /inkling listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearInterval(timer);
        resolve(m[1]);
      }
    }, 50);
    void exited.then((c) => {
      clearInterval(timer);
      reject(new Error(`exited ${c}: ${out}`));
    });
  });
  t.equal((await fetch(`${url}/healthz`)).status, 200, 'listening where the flags said');
  t.match(out, /^\d\d:\d\d:\d\d\.\d{3} INFO  inkling listening on/m, 'pretty log lines');
  t.notMatch(out, /^\{"level"/m, 'no JSON lines');
  cpSync(join(modelDir, 'first'), join(modelDir, 'second'), { recursive: true });
  child.kill('SIGHUP');
  let names: string[] = [];
  for (let i = 0; i < 100 && names.length < 2; i++) {
    await new Promise((r) => setTimeout(r, 100));
    names = ((await (await fetch(`${url}/api/models`)).json()) as { models: { name: string }[] }).models.map((m) => m.name);
  }
  t.same(names, ['first', 'second'], 'SIGHUP picked up the new model folder');
  t.match(out, /models reloaded: added \[second\]/);
  child.kill('SIGTERM');
  t.equal(await exited, 0);
});

t.test('pretty log formatting', async (t) => {
  const line = JSON.stringify({ level: 40, time: Date.UTC(2026, 0, 2, 3, 4, 5, 6), msg: 'slow query', pid: 1, hostname: 'h', service: 'inkling', ms: 12, route: '/api x' });
  t.equal(formatLogLine(line, false), '03:04:05.006 WARN  slow query  ms=12 route="/api x"\n');
  t.match(formatLogLine(line, true), /\x1b\[33mWARN/);
  t.equal(formatLogLine('not json', false), 'not json\n');
  t.equal(wantPretty({}, true), true);
  t.equal(wantPretty({}, false), false);
  t.equal(wantPretty({ INKLING_LOG_FORMAT: 'json' }, true), false);
  t.equal(wantPretty({ INKLING_LOG_FORMAT: 'pretty' }, false), true);
});

t.test('the install step skips a current addon and rebuilds a stale one', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'inkling-stamp-'));
  cpSync(join(PACKAGE_ROOT, 'scripts'), join(root, 'scripts'), { recursive: true });
  mkdirSync(join(root, 'native', 'cpu'), { recursive: true });
  writeFileSync(join(root, 'binding.gyp'), '{}');
  writeFileSync(join(root, 'native', 'cpu', 'a.cc'), 'int a;');
  mkdirSync(join(root, 'build', 'Release'), { recursive: true });
  writeFileSync(join(root, 'build', 'Release', 'inkling_cpu.node'), 'FAKE ADDON');
  const hash = sourceHash(root, ['binding.gyp', 'native/cpu']);
  writeFileSync(join(root, 'build', 'Release', 'inkling_cpu.sources-sha256'), `${hash}\n`);
  t.ok(isCurrent(root, 'build/Release/inkling_cpu.node', 'build/Release/inkling_cpu.sources-sha256', hash));
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'build-native.mjs')], { encoding: 'utf8', env: { ...process.env, PATH: '/usr/bin:/bin' } });
  t.match(r.stdout, /cpu backend is current .*not rebuilt/);
  t.equal(readFileSync(join(root, 'build', 'Release', 'inkling_cpu.node'), 'utf8'), 'FAKE ADDON', 'the addon was not touched');
  writeFileSync(join(root, 'native', 'cpu', 'a.cc'), 'int a = 1;');
  t.notOk(isCurrent(root, 'build/Release/inkling_cpu.node', 'build/Release/inkling_cpu.sources-sha256', sourceHash(root, ['binding.gyp', 'native/cpu'])), 'a changed source makes it stale');
});

t.test('the lockfile is in sync with package.json (npm install on a fresh clone changes nothing)', async (t) => {
  const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8'));
  const lock = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package-lock.json'), 'utf8'));
  const root = lock.packages[''];
  t.same(root.dependencies, pkg.dependencies, 'the lock records package.json\'s dependencies');
  t.same(root.devDependencies, pkg.devDependencies, 'and its devDependencies');
  t.equal(root.version, pkg.version);
  for (const [name, version] of Object.entries({ ...pkg.dependencies, ...pkg.devDependencies } as Record<string, string>)) {
    t.equal(lock.packages[`node_modules/${name}`]?.version, version, `${name} is locked at the pinned ${version}`);
  }
});

t.test('outside the checkout: the shipped model by package path, data in a per-user folder', async (t) => {
  t.equal(defaultModelsDir(), join(PACKAGE_ROOT, 'models'));
  t.equal(defaultDataDir(join(PACKAGE_ROOT, 'src')), join(PACKAGE_ROOT, '.data'), 'inside the checkout: .data there');
  t.equal(defaultDataDir('/tmp', { XDG_DATA_HOME: '/x/share' }), '/x/share/inkling');
  t.equal(userDataDir({}, 'linux', '/home/u'), '/home/u/.local/share/inkling');
  t.equal(userDataDir({}, 'darwin', '/Users/u'), '/Users/u/Library/Application Support/inkling');
  t.equal(userDataDir({ LOCALAPPDATA: 'C:\\Users\\u\\AppData\\Local' }, 'win32', 'C:\\Users\\u'), join('C:\\Users\\u\\AppData\\Local', 'inkling'));
  // predict from another folder finds the shipped model
  const png = join(mkdtempSync(join(tmpdir(), 'inkling-cwd-')), 'blank.png');
  const r = inkling(['predict', png], {}, tmpdir());
  t.equal(r.status, 1);
  t.match(r.stdout, /"model":"seed-cnn@[0-9a-f]{12}"/, 'the shipped model was found from /tmp');
});
