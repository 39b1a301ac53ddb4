#!/usr/bin/env node
// Builds the TEST-ONLY cpu addon whose AVX-512 kernel table is compiled against SIMD Everywhere
// (native/cpu/simde/binding.gyp) into native/cpu/simde/build/Release/inkling_cpu_simde.node.
// Needs Debian's libsimde-dev (header-only, /usr/include/simde); says so and exits 1 without it.
// Used by `npm run test:avx512-simde`; inkling itself never loads this build.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const header = '/usr/include/simde/x86/avx512.h';
if (!existsSync(header)) {
  console.error(`inkling: ${header} not found; install SIMD Everywhere (apt-get install libsimde-dev) to build the emulated AVX-512 addon.`);
  process.exit(1);
}
const onPath = spawnSync('sh', ['-c', 'command -v node-gyp'], { encoding: 'utf8' }).status === 0;
const [cmd, args] = onPath ? ['node-gyp', []] : ['npx', ['--no-install', 'node-gyp']];
const r = spawnSync(cmd, [...args, 'rebuild', '-C', join(root, 'native', 'cpu', 'simde')], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  console.error('inkling: the SIMDe build of the AVX-512 table failed (see the compiler output above).');
  process.exit(1);
}
console.log('inkling: emulated AVX-512 addon built (native/cpu/simde/build/Release/inkling_cpu_simde.node)');
