// Fault injection for the cuda backend's caching allocator (native/cuda/addon/device_allocator.cpp),
// which no GPU has run: the emulated device gets 7 MiB (INKLING_EMU_DEVICE_MB, read once per
// process, before the first cudaMalloc), so cudaMalloc fails on demand.
// - A request that fits only after the cache gives back its free blocks: the allocator must trim
//   and retry (its documented OOM path), not fail.
// - A request that cannot fit: a clear error naming cudaMalloc and the size, and the backend keeps
//   working (the failed call left no sticky state behind).
process.env.INKLING_EMU_DEVICE_MB = '7';

import t from 'tap';
import { createCudaEmuBackend } from '../../src/nn/backends/cuda-emu/index.ts';
import { emulatorGate } from '../support/emulator-gate.ts';

const cudaEmu = emulatorGate('cuda-emu');

const MiB = 1 << 20;

cudaEmu.test(t, 'cuda-emu with 7 MiB of device memory: the caching allocator trims its cache on out-of-memory and retries', async (t) => {
  const be = await createCudaEmuBackend();
  t.teardown(() => be.dispose());
  const big = be.alloc((6 * MiB) / 4);
  be.free(big); // 6 MiB stay cached (reserved), not returned to the device
  t.equal(be.reservedBytes(), 6 * MiB, 'the freed 6 MiB block stays reserved in the cache');
  // 1.5 MiB rounds up to a 2 MiB block, which the cached 6 MiB block may not serve (a block serves
  // requests down to half its size), so cudaMalloc is asked for 2 MiB: 6 + 2 > 7 MiB fails until the
  // allocator gives its free blocks back to the device and retries.
  const mid = be.alloc((1.5 * MiB) / 4);
  t.equal(be.reservedBytes(), 2 * MiB, 'after the retry only the new 2 MiB block is reserved: the 6 MiB one went back to the device');
  be.upload(mid, new Float32Array(16).fill(3));
  t.same(Array.from(await be.download(mid, 0, 2)), [3, 3], 'the new buffer works');
  be.free(mid);
});

cudaEmu.test(t, 'cuda-emu with 7 MiB of device memory: an allocation that cannot fit fails clearly and the backend keeps working', async (t) => {
  const be = await createCudaEmuBackend();
  t.teardown(() => be.dispose());
  t.throws(() => be.alloc((16 * MiB) / 4), /cudaMalloc\(16777216 bytes\).*out of memory|cudaErrorMemoryAllocation/, 'a 16 MiB buffer is refused with the CUDA error');
  const x = be.alloc(1000);
  const y = be.alloc(1000);
  be.upload(x, new Float32Array(1000).fill(2));
  be.scale(x, 3, 1, y);
  t.same(Array.from(await be.download(y, 998)), [7, 7], 'kernels and copies still work afterwards');
  be.free(x);
  be.free(y);
});
