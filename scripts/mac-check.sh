#!/usr/bin/env bash
# The one script a Mac user, or a future macOS CI runner, runs to verify what Linux cannot: the
# Metal backend (native/metal, newLibraryWithSource + MPS), WebGPU on Dawn's Metal backend, and the
# macOS build settings of binding.gyp. Run from anywhere: `bash scripts/mac-check.sh`.
#
# Stages (a stage that cannot run says why and the rest go on):
#   1. build        npm ci (or npm install) builds build/Release/inkling_cpu.node and inkling_metal.node
#                   with binding.gyp's xcode_settings; both must exist
#   2. cpu          the conformance table on cpu (NEON on Apple Silicon) and the portable table
#   3. metal        the whole conformance table on metal (INKLING_REQUIRE_METAL=1), both GEMMs
#                   (INKLING_METAL_GEMM=simdgroup and mps), plus test/metal
#   4. webgpu       the conformance table on webgpu (Dawn → Metal; INKLING_REQUIRE_WEBGPU=1)
#   5. train        50 MNIST steps on metal against cpu, step for step (scripts/mac-check-train.ts)
#   6. bench        npm run bench:train on metal, webgpu and cpu, and the seed CNN on PyTorch's
#                   `mps` device (bench/pytorch/seed_cnn_mps.py) when python3 has torch, in 3
#                   interleaved rounds; medians and ranges
#   7. summary      a table (stdout, last); also $OUT/mac-check-summary.md, logs in $OUT/mac-check/
# Needs: macOS 13+ on a Mac with a Metal GPU, Xcode command-line tools (xcode-select --install),
# Node 20+. PyTorch (pip install torch) is optional: without it the baseline row says so.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
LOGS=${OUT:-$ROOT/.tmp}/mac-check
mkdir -p "$LOGS"
declare -a ROWS=()
row() { ROWS+=("| $1 | $2 | $3 |"); echo "== $1: $2 — $3"; }
tailOf() { tail -n "${2:-2}" "$LOGS/$1.log" | tr '\n' ' ' | sed 's/|/\//g' | cut -c1-240; }
# run NAME LIMIT_S COMMAND...: logs to $LOGS/NAME.log; exit status of the command
run() {
  local name=$1 limit=$2; shift 2
  echo "-- $name: $*"
  if command -v timeout >/dev/null; then timeout "$limit" "$@" >"$LOGS/$name.log" 2>&1
  else "$@" >"$LOGS/$name.log" 2>&1; fi
}
counts() { grep -E '^[0-9]+ passed, [0-9]+ failed' "$LOGS/$1.log" | tail -1; }

# ---- 0. environment ----
if [ "$(uname -s)" != "Darwin" ]; then
  echo "mac-check: this is $(uname -s), not macOS; nothing here can run (see native/metal/README.md)" >&2
  exit 2
fi
CHIP=$(sysctl -n machdep.cpu.brand_string 2>/dev/null)
TORCH=$(python3 -c 'import torch;print(torch.__version__)' 2>/dev/null || echo none)
row environment "$CHIP, macOS $(sw_vers -productVersion), $(uname -m)" "node $(node --version), $(xcrun clang --version 2>/dev/null | head -1), torch $TORCH"

# ---- 1. build ----
if [ -f package-lock.json ]; then run build 1200 npm ci --no-audit --no-fund; else run build 1200 npm install --no-audit --no-fund; fi
BUILD_RC=$?
CPU_ADDON=missing; METAL_ADDON=missing
[ -f build/Release/inkling_cpu.node ] && CPU_ADDON=built
[ -f build/Release/inkling_metal.node ] && METAL_ADDON=built
if [ "$BUILD_RC" -eq 0 ] && [ "$CPU_ADDON" = built ] && [ "$METAL_ADDON" = built ]; then
  row build ok "cpu addon $CPU_ADDON, metal addon $METAL_ADDON (binding.gyp xcode_settings)"
else
  row build FAIL "exit $BUILD_RC; cpu addon $CPU_ADDON, metal addon $METAL_ADDON: $(grep -m3 -E 'error|Error' "$LOGS/build.log" | tr '\n' ' ' | cut -c1-200)"
fi

TAP="node scripts/run-tests.mjs"
# ---- 2. cpu ----
run cpu 900 env INKLING_REQUIRE_CPU=1 $TAP test/cpu/addon-loading.test.ts test/cpu/portable-path.test.ts
row cpu "$( [ $? -eq 0 ] && echo ok || echo FAIL)" "$(counts cpu) (NEON is auto on arm64; the portable table too)"

# ---- 3. metal ----
for gemm in simdgroup mps; do
  run "metal-$gemm" 900 env INKLING_REQUIRE_METAL=1 INKLING_METAL_GEMM=$gemm $TAP test/conformance/conformance.test.ts test/metal
  row "metal ($gemm GEMM)" "$( [ $? -eq 0 ] && echo ok || echo FAIL)" "$(counts "metal-$gemm"); $(grep -m1 -E 'not ok' "$LOGS/metal-$gemm.log" | cut -c1-120)"
done

# ---- 4. webgpu (Dawn's Metal backend) ----
run webgpu 900 env INKLING_REQUIRE_WEBGPU=1 $TAP test/conformance/conformance.test.ts test/webgpu
row "webgpu (Dawn → Metal)" "$( [ $? -eq 0 ] && echo ok || echo FAIL)" "$(counts webgpu)"

# ---- 5. a short training run: metal against cpu ----
run train 600 node --import tsx scripts/mac-check-train.ts metal 50 64
row "train 50 steps (metal vs cpu)" "$( [ $? -eq 0 ] && echo ok || echo FAIL)" "$(tailOf train 1)"

# ---- 6. bench: ours against PyTorch mps, interleaved rounds ----
for round in 1 2 3; do
  run "bench-ours-$round" 600 npm run bench:train -- --backend metal,webgpu,cpu --batches 64,128 --rounds 5 --no-pytorch
  if [ "$TORCH" != none ]; then
    run "bench-mps-$round" 600 python3 bench/pytorch/seed_cnn_mps.py '{"batches": [64, 128], "blocks": 5, "steps": 10}'
  fi
done
node --import tsx scripts/mac-check-summary.ts "$LOGS" >"$LOGS/bench-summary.txt" 2>&1
while IFS='|' read -r a b c; do [ -n "$a" ] && row "$a" "$b" "$c"; done <"$LOGS/bench-summary.txt"

# ---- 7. summary ----
{
  echo "# mac-check $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "| stage | result | detail |"
  echo "|---|---|---|"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "Logs: $LOGS"
} >"$LOGS/summary.md"
[ -n "${OUT:-}" ] && cp "$LOGS/summary.md" "$OUT/mac-check-summary.md"
echo
cat "$LOGS/summary.md"
