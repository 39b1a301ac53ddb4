// The compiled addon on this machine. CI has nvcc and no GPU: `npm ci` builds the addon
// (scripts/build-native.mjs), so it must exist, load, report its architectures, and refuse to
// create a backend with the "no CUDA device" reason — which the registry (and so the conformance
// table) reports as the cause of the skip. On a GPU machine the same file checks that the backend
// comes up and computes a small matmul and a readback correctly.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import t from 'tap';
import { probeBackend } from '../../src/nn/backends/registry.ts';
import { createCudaBackend, cudaAddonPath, loadCudaAddon } from '../../src/nn/backends/cuda/index.ts';

const nvccFound = spawnSync('sh', ['-c', 'command -v nvcc'], { encoding: 'utf8' }).status === 0;
const addonBuilt = existsSync(cudaAddonPath());

if (nvccFound || !addonBuilt) {
  t.test('the addon is built wherever nvcc is installed, or its absence names the fix', async (t) => {
    if (nvccFound) {
      t.ok(addonBuilt, `nvcc is on PATH, so npm ci / npm run build:cuda must have produced ${cudaAddonPath()}`);
    } else {
      await t.rejects(createCudaBackend(), /the addon is not built .*Fix: install the CUDA toolkit \(nvcc\) and cmake, then run `npm run build:cuda`/);
    }
  });
}

if (addonBuilt) {
  t.test('the addon loads without touching the driver and reports what it was built for', async (t) => {
    const addon = loadCudaAddon();
    const build = addon.buildInfo();
    t.ok(build.cudaRuntime >= 11000, `CUDA runtime ${build.cudaRuntime}`);
    t.match(build.architectures, /80|90/, `architectures ${build.architectures}`);
    const devices = addon.deviceCount();
    t.type(devices.count, 'number');
    t.ok(devices.error === null || typeof devices.error === 'string', 'error is a string or null');
  });

  const devices = loadCudaAddon().deviceCount();
  if (devices.error !== null || devices.count === 0) {
    t.test('without a GPU, createCudaBackend rejects with the CUDA error text and the registry reports it', async (t) => {
      await t.rejects(createCudaBackend(), /cuda backend: no CUDA device available \(cudaGetDeviceCount: .+\)\. Fix: /);
      const probe = await probeBackend('cuda');
      t.equal(probe.available, false, 'the registry (and so the conformance table) marks cuda unavailable');
      if (!probe.available) t.match(probe.reason, /no CUDA device available \(cudaGetDeviceCount: /, 'with the reason');
      const addon = loadCudaAddon();
      t.throws(() => new addon.CudaContext(0, 0), /CUDA error: .+ in cudaGetDeviceCount/, 'native errors carry the CUDA error string');
    });
  } else {
    t.test('on a GPU: the backend comes up, computes and reads back', async (t) => {
      const backend = await createCudaBackend();
      t.teardown(() => backend.dispose());
      t.match(backend.device, /sm_\d+/);
      const a = backend.alloc(6);
      const b = backend.alloc(6);
      const c = backend.alloc(4);
      backend.upload(a, new Float32Array([1, 2, 3, 4, 5, 6]));
      backend.upload(b, new Float32Array([1, 0, 0, 1, 1, 1]));
      backend.matmul(a, b, null, c, { m: 2, n: 2, k: 3, transA: false, transB: false });
      t.same(Array.from(await backend.download(c)), [4, 5, 10, 11]);
      const probe = await probeBackend('cuda');
      t.equal(probe.available, true);
    });
  }
}
