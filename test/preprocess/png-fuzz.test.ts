// The native PNG path parses untrusted bytes inside the server process, so it is fuzzed under
// AddressSanitizer and UBSan: 6,000 mutations (byte flips, truncations, insertions, rewritten
// IHDR sizes) of valid PNGs of several colour types go through a harness built from the same
// sources (test/preprocess/fuzz/png_ink_map_fuzz.cc). Needs g++ and zlib's headers (CI has both);
// without them this is a skip with the reason.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';

const root = new URL('../../', import.meta.url).pathname;
const probe = spawnSync('g++', ['-x', 'c++', '-fsyntax-only', '-'], { input: '#include <zlib.h>\nint main() { return 0; }\n' });
const unavailable = probe.error ? 'g++ is not installed' : probe.status !== 0 ? 'zlib headers are missing (apt install zlib1g-dev)' : '';

async function mutatedPngs(count: number): Promise<Buffer> {
  const w = 120;
  const h = 90;
  const rgba = Buffer.alloc(w * h * 4);
  for (let y = 20; y < 70; y++) for (let x = 50; x < 60; x++) rgba[(y * w + x) * 4 + 3] = 255;
  const raw = sharp(rgba, { raw: { width: w, height: h, channels: 4 } });
  const seeds = [
    await raw.clone().png().toBuffer(),
    await raw.clone().png({ palette: true }).toBuffer(),
    await raw.clone().removeAlpha().png({ adaptiveFiltering: true }).toBuffer(),
    await raw.clone().toColourspace('b-w').png({ adaptiveFiltering: true }).toBuffer(),
  ];
  let s = 20261127;
  const rand = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    let b = Buffer.from(seeds[i % seeds.length]);
    switch (Math.floor(rand() * 5)) {
      case 0:
        for (let k = 1 + Math.floor(rand() * 8); k > 0; k--) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
        break;
      case 1:
        b = b.subarray(0, Math.floor(rand() * b.length));
        break;
      case 2:
        b[8 + Math.floor(rand() * 40)] = Math.floor(rand() * 256); // IHDR and the next chunk's header
        break;
      case 3:
        b.writeUInt32BE(1 + Math.floor(rand() * 3000), 16); // sizes that disagree with the data
        b.writeUInt32BE(1 + Math.floor(rand() * 300), 20);
        break;
      default: {
        const p = Math.floor(rand() * b.length);
        b = Buffer.concat([b.subarray(0, p), Buffer.from([Math.floor(rand() * 256)]), b.subarray(p)]);
      }
    }
    const len = Buffer.alloc(4);
    len.writeUInt32LE(b.length);
    out.push(len, b);
  }
  return Buffer.concat(out);
}

t.test('mutated PNGs never make the native decoder read or write out of bounds', { skip: unavailable || false, timeout: 180_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'inkling-fuzz-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const bin = join(dir, 'fuzz');
  const build = spawnSync('g++', [
    '-std=c++17', '-O1', '-g', '-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-ffp-contract=off',
    `-I${join(root, 'native/cpu')}`,
    join(root, 'native/cpu/preprocess/ink_map.cc'), join(root, 'native/cpu/preprocess/png_ink_map.cc'),
    join(root, 'test/preprocess/fuzz/png_ink_map_fuzz.cc'), '-lz', '-o', bin,
  ], { encoding: 'utf8' });
  t.equal(build.status, 0, `the sanitized harness builds${build.status ? `:\n${build.stderr.slice(-2000)}` : ''}`);
  if (build.status !== 0) return;
  const input = join(dir, 'pngs.bin');
  writeFileSync(input, await mutatedPngs(6000));
  const run = spawnSync(bin, [input], { encoding: 'utf8', env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0' } });
  t.equal(run.status, 0, `no sanitizer report${run.status ? `:\n${run.stderr.slice(-3000)}` : ''}`);
  const m = /ok (\d+) declined (\d+) skipped (\d+)/.exec(run.stdout);
  t.ok(m, `the harness reports its counts: ${run.stdout.trim()}`);
  if (m) {
    t.ok(Number(m[1]) > 100, 'some mutations still decode (the decoder ran to the end on them)');
    t.ok(Number(m[2]) > 1000, 'most are declined');
  }
});
