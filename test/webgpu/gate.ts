// Whether the WebGPU tests run here. Without an adapter they skip with the reason (a user without
// a GPU driver or lavapipe), unless INKLING_REQUIRE_WEBGPU=1 (CI), which turns it into a failure.
import { webgpuAvailable } from '../../src/nn/backends/webgpu/index.ts';

export const webgpuRequired = process.env.INKLING_REQUIRE_WEBGPU === '1';

/** null when WebGPU can run; otherwise the reason it cannot. */
export async function webgpuUnavailableReason(): Promise<string | null> {
  const probe = await webgpuAvailable();
  return probe.ok ? null : probe.reason;
}
