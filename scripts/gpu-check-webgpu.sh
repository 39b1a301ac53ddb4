#!/usr/bin/env bash
# The WebGPU part of scripts/gpu-check.sh (which calls this as its stage 6, with about 100 s
# left): on a GPU machine, run the webgpu backend on the card's own Vulkan driver through Dawn.
#   1. adapter   which adapter Dawn picks with backend=vulkan (must not be lavapipe on a GPU box)
#   2. table     the whole conformance table on webgpu against ref (test/webgpu/run-table.ts)
#   3. train     seed CNN training samples/s at batch 128 and 512 (bench:train, webgpu only; the
#                PyTorch-on-the-same-card baseline is stage 4 of gpu-check.sh)
#   4. tests     test/webgpu/backend.test.ts (large-shape GEMM paths, dropout mask, pooling...)
#   5. kernels   bench:kernels on webgpu at batch 64 (wall time per kernel)
# Ends with two summary lines (gpu-check.sh shows the last two). Logs in $OUT/gpu-check/webgpu-*.
# Run alone: `bash scripts/gpu-check-webgpu.sh` (GPU_CHECK_WEBGPU_BUDGET_S, default 95).
set -uo pipefail
cd "$(dirname "$0")/.."
START=$SECONDS
BUDGET=${GPU_CHECK_WEBGPU_BUDGET_S:-95}
LOGS=${OUT:-$(pwd)/.tmp}/gpu-check
mkdir -p "$LOGS"
export INKLING_WEBGPU_FLAGS=${INKLING_WEBGPU_FLAGS:-backend=vulkan}
export INKLING_REQUIRE_WEBGPU=1
left() { echo $((BUDGET - (SECONDS - START))); }
run() { # name limit cmd...: runs under min(limit, time left), output to the log and stdout
  local name=$1 limit=$2; shift 2
  local l; l=$(left)
  if [ "$l" -lt 5 ]; then echo "-- $name: skipped (out of time)"; return 124; fi
  [ "$limit" -gt "$l" ] && limit=$l
  echo "-- $name (limit ${limit}s)"
  timeout --kill-after=5 "$limit" "$@" 2>&1 | grep -v 'artificially reduced' | tee "$LOGS/webgpu-$name.log"
  return "${PIPESTATUS[0]}"
}

# 1. adapter
run adapter 30 node --input-type=module -e "
import { create, globals } from 'webgpu';
Object.assign(globalThis, globals);
const gpu = create(process.env.INKLING_WEBGPU_FLAGS.split(','));
const a = await gpu.requestAdapter({ powerPreference: 'high-performance' });
if (!a) { console.log('no adapter: is the Vulkan loader (libvulkan1) and the NVIDIA Vulkan ICD installed?'); process.exit(1); }
const i = a.info;
console.log('adapter:', i.vendor, i.architecture, i.device, i.description, 'timestamps:', a.features.has('timestamp-query'));
if (/llvmpipe|lavapipe|swiftshader/i.test(i.description + i.device)) { console.log('software adapter, not the GPU'); process.exit(2); }
"
ADAPTER=$?
ADAPTER_LINE=$(grep -m1 -E '^(adapter|no adapter|software)' "$LOGS/webgpu-adapter.log" || echo "adapter probe failed")
if [ "$ADAPTER" -ne 0 ] && [ "$ADAPTER" -ne 2 ]; then
  echo "webgpu: no usable adapter ($ADAPTER_LINE)"
  echo "webgpu: skipped conformance and benchmarks"
  exit 1
fi

# 2. conformance table, 3. training throughput, 4. webgpu tests, 5. kernels
run table 40 node --import tsx test/webgpu/run-table.ts
TABLE=$?
run train 45 npm run bench:train -- --backend webgpu --batches 128,512 --rounds 3 --steps 5 --no-pytorch
run tests 45 npx tap --reporter=tap --disable-coverage test/webgpu/backend.test.ts
TESTS=$?
run kernels 30 npm run bench:kernels -- --backend webgpu --batch 64 --min-ms 30

TABLE_LINE=$(grep -m1 'webgpu conformance:' "$LOGS/webgpu-table.log" || echo "table did not finish")
TRAIN_LINE=$(grep -E '^train b[0-9]+' "$LOGS/webgpu-train.log" | tr '\n' ' ')
echo "webgpu: $ADAPTER_LINE; $TABLE_LINE; tests rc=$TESTS"
echo "webgpu: ${TRAIN_LINE:-training bench did not finish} ($((SECONDS - START)) s)"
[ "$ADAPTER" -eq 0 ] && [ "$TABLE" -eq 0 ] && [ "$TESTS" -eq 0 ]
