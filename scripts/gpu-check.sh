#!/usr/bin/env bash
# One prepared check of the cuda backend on a GPU machine (H100/H200 class, PyTorch installed, no
# network), within 8 minutes. Run from anywhere: `bash scripts/gpu-check.sh`.
#
# Stages (each with its own time limit; a stage that cannot run says why and the rest go on):
#   1. build      the addon for this card (cmake-js, or plain nvcc when cmake/cmake-js are missing)
#                 and the dev harnesses native/cuda/dev/{gemm,kernels}_check (cuBLAS linked if found)
#   2. harness    gemm_check and kernels_check: every kernel family against CPU loops, GEMM timings
#   3. conformance  the whole conformance table on cuda against ref (INKLING_REQUIRE_CUDA=1) plus
#                 test/cuda, then every case twice through bench/cuda/run-cases.ts (bit-identical reruns)
#   4. bench      bench/cuda/gemm.ts, bench/cuda/train.ts (graphs on) and bench/pytorch/seed_cnn_cuda.py
#   5. sanitizer  compute-sanitizer memcheck on run-cases, racecheck on both harnesses, synccheck on gemm
#   6. webgpu     scripts/gpu-check-webgpu.sh when present (the WebGPU helper's own check)
#   7. summary    a table (stdout, last) — also $OUT/gpu-check-summary.md with all logs in $OUT/gpu-check/
# Needs: nvidia driver, nvcc (+ cmake and node_modules/cmake-js for the cmake-js route), node 20
# with tsx and node-addon-api in node_modules for stages 3-5 (a full `npm ci` adds tap for the
# conformance run; without tap the table runs through bench/cuda/run-cases.ts), python3 with
# CUDA torch for the baseline. With no network, carrying these ~25 MB is enough:
#   node_modules/tsx node_modules/esbuild node_modules/@esbuild node_modules/node-addon-api
#   node_modules/node-api-headers
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
START=$SECONDS
BUDGET=${GPU_CHECK_BUDGET_S:-470}
LOGS=${OUT:-$ROOT/.tmp}/gpu-check
mkdir -p "$LOGS"
DEV="$ROOT/.tmp/cuda-dev"
mkdir -p "$DEV"
declare -a ROWS=()
row() { ROWS+=("| $1 | $2 | $3 |"); echo "== $1: $2 — $3"; }
# The WebGPU helper's script (stage 6) keeps a reserve of the budget when it exists.
RESERVE=0
[ -f scripts/gpu-check-webgpu.sh ] && RESERVE=${GPU_CHECK_WEBGPU_RESERVE_S:-100}
left() { echo $((BUDGET - RESERVE - (SECONDS - START))); }
# Runs "$@" under a limit of min($1, time left) seconds, logging to $LOGS/$name.log.
stage() {
  local name=$1 limit=$2; shift 2
  local l; l=$(left)
  if [ "$l" -lt 15 ]; then echo "skipped (out of time)" >"$LOGS/$name.log"; return 124; fi
  [ "$limit" -gt "$l" ] && limit=$l
  echo "-- $name (limit ${limit}s): $*"
  timeout --kill-after=5 "$limit" "$@" >"$LOGS/$name.log" 2>&1
}
tailOf() { tail -n "${2:-3}" "$LOGS/$1.log" | tr '\n' ' ' | sed 's/|/\//g' | cut -c1-220; }

# ---- 0. environment ----
GPU=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)
row environment "${GPU:-no nvidia-smi}" "nvcc $(nvcc --version 2>/dev/null | sed -n 's/.*release \([0-9.]*\).*/\1/p'), node $(node --version 2>/dev/null || echo missing), cmake $(cmake --version 2>/dev/null | head -1 | awk '{print $3}'), torch $(python3 -c 'import torch;print(torch.__version__)' 2>/dev/null || echo missing)"
HAVE_NODE=0
if command -v node >/dev/null && [ -d node_modules/tsx ] && [ -d node_modules/node-addon-api ]; then HAVE_NODE=1; fi
# This card's architecture (e.g. 90 for H100/H200): one real target keeps the build short.
ARCH=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d '. ')
ARCH=${ARCH:-90}
NVCC_ARCH="-gencode arch=compute_${ARCH},code=sm_${ARCH}"

# ---- 1. build ----
if ! command -v nvcc >/dev/null; then
  row build FAIL "nvcc not found: install the CUDA toolkit (the addon and harnesses need it)"
else
  CUBLAS_FLAGS=""
  if ls "$(dirname "$(dirname "$(command -v nvcc)")")"/lib64/libcublas.so* >/dev/null 2>&1 || ldconfig -p 2>/dev/null | grep -q libcublas.so; then
    CUBLAS_FLAGS="-DWITH_CUBLAS -lcublas"
  fi
  # Harnesses in the background while the addon builds.
  ( nvcc -O3 -std=c++17 $NVCC_ARCH $CUBLAS_FLAGS -o "$DEV/gemm_check" native/cuda/dev/gemm_check.cu $CUBLAS_FLAGS >"$LOGS/build-gemm-check.log" 2>&1 ||
      { [ -n "$CUBLAS_FLAGS" ] && nvcc -O3 -std=c++17 $NVCC_ARCH -o "$DEV/gemm_check" native/cuda/dev/gemm_check.cu >>"$LOGS/build-gemm-check.log" 2>&1; } ) &
  H1=$!
  ( nvcc -O3 -std=c++17 $NVCC_ARCH -o "$DEV/kernels_check" native/cuda/dev/kernels_check.cu >"$LOGS/build-kernels-check.log" 2>&1 ) &
  H2=$!
  ADDON=build-cuda/Release/inkling_cuda.node
  if [ "$HAVE_NODE" = 1 ]; then
    rm -rf build-cuda  # a fresh configure, so this card's architecture is the one built
    if command -v cmake >/dev/null && [ -x node_modules/.bin/cmake-js ]; then
      stage build-addon 240 env INKLING_CUDA_ARCHS="$ARCH" INKLING_BUILD_JOBS=8 node scripts/build-native.mjs --cuda
    fi
    if [ ! -f "$ADDON" ]; then
      # Plain nvcc: one command, the same sources and flags as CMakeLists.txt.
      NODE_INC="$(dirname "$(dirname "$(command -v node)")")/include/node"
      [ -f "$NODE_INC/node_api.h" ] || NODE_INC="$ROOT/node_modules/node-api-headers/include"
      mkdir -p build-cuda/Release
      stage build-addon-nvcc 240 nvcc -O3 -std=c++17 -shared -Xcompiler -fPIC,-fexceptions $NVCC_ARCH --expt-relaxed-constexpr \
        -I"$NODE_INC" -I"$ROOT/node_modules/node-addon-api" -Inative/cuda \
        -DNAPI_VERSION=8 -DNODE_ADDON_API_CPP_EXCEPTIONS -DNODE_ADDON_API_CPP_EXCEPTIONS_ALL -DNODE_ADDON_API_DISABLE_DEPRECATED \
        -DINKLING_CUDA_ARCHS="\"$ARCH\"" -cudart static -o "$ADDON" native/cuda/*.cu native/cuda/addon/*.cpp
    fi
  fi
  wait $H1 $H2
  BUILT="harnesses: gemm_check $([ -x "$DEV/gemm_check" ] && echo ok || echo FAILED)${CUBLAS_FLAGS:+ (cuBLAS)}, kernels_check $([ -x "$DEV/kernels_check" ] && echo ok || echo FAILED)"
  if [ "$HAVE_NODE" = 1 ]; then
    row build "$([ -f "$ADDON" ] && echo ok || echo FAIL)" "addon sm_$ARCH $([ -f "$ADDON" ] && echo built || echo "not built, see $LOGS/build-addon*.log"); $BUILT; $((SECONDS - START)) s"
  else
    row build partial "node or node_modules missing (run npm ci): addon skipped; $BUILT"
  fi
fi

# ---- 2. harnesses ----
for h in gemm_check kernels_check; do
  if [ -x "$DEV/$h" ]; then
    stage "$h" 60 "$DEV/$h"
    rc=$?
    row "$h" "$([ $rc -eq 0 ] && echo pass || echo "FAIL rc=$rc")" "$(grep -c ' ok ' "$LOGS/$h.log") checks ok, $(grep -c FAIL "$LOGS/$h.log") failed; $(tailOf "$h" 1)"
  fi
done
[ -f "$LOGS/gemm_check.log" ] && grep -E "^RESULT|GFLOP" "$LOGS/gemm_check.log"

# ---- 3. conformance ----
if [ "$HAVE_NODE" = 1 ] && [ -f build-cuda/Release/inkling_cuda.node ]; then
  if [ -d node_modules/tap ]; then
    stage conformance 150 env INKLING_REQUIRE_CUDA=1 npx tap --reporter=tap --disable-coverage test/conformance/conformance.test.ts test/cuda/
    rc=$?
    row conformance "$([ $rc -eq 0 ] && echo pass || echo "FAIL rc=$rc")" "tap: $(grep -cE '^\s*ok ' "$LOGS/conformance.log") ok, $(grep -cE '^\s*not ok ' "$LOGS/conformance.log") not ok (INKLING_REQUIRE_CUDA=1)"
  else
    row conformance "see cases x2" "tap not installed: the same table runs through bench/cuda/run-cases.ts below"
  fi
  stage run-cases 90 node --import tsx bench/cuda/run-cases.ts
  row "cases x2" "$([ $? -eq 0 ] && echo pass || echo FAIL)" "$(tailOf run-cases 1)"
fi

# ---- 4. benchmarks (before the sanitizer: the performance numbers matter most) ----
if [ "$HAVE_NODE" = 1 ] && [ -f build-cuda/Release/inkling_cuda.node ]; then
  stage bench-gemm 60 node --import tsx bench/cuda/gemm.ts || row bench-gemm "FAIL rc=$?" "$(tailOf bench-gemm 2)"
  stage bench-train 120 node --import tsx bench/cuda/train.ts --batches 128,512 || row bench-train "FAIL rc=$?" "$(tailOf bench-train 2)"
fi
if python3 -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null; then
  stage bench-pytorch 120 python3 bench/pytorch/seed_cnn_cuda.py '{"batches": [128, 512], "blocks": 7, "steps": 20}' ||
    row bench-pytorch "FAIL rc=$?" "$(tailOf bench-pytorch 2)"
else
  echo "torch with CUDA not importable by python3" >"$LOGS/bench-pytorch.log"
  row bench-pytorch skipped "python3 cannot import torch with CUDA: no PyTorch baseline"
fi
# ---- 5. compute-sanitizer ----
if command -v compute-sanitizer >/dev/null; then
  if [ "$HAVE_NODE" = 1 ] && [ -f build-cuda/Release/inkling_cuda.node ]; then
    stage sanitizer-memcheck 120 compute-sanitizer --tool memcheck --error-exitcode 9 --print-limit 20 node --import tsx bench/cuda/run-cases.ts --once
    rc=$?
    row "memcheck (cases)" "$([ $rc -eq 0 ] && echo clean || echo "FAIL rc=$rc")" "$(grep -E 'ERROR SUMMARY|cuda cases' "$LOGS/sanitizer-memcheck.log" | tr '\n' ' ' | cut -c1-200)"
  fi
  for tool in racecheck synccheck; do
    for h in gemm_check kernels_check; do
      [ "$tool" = synccheck ] && [ "$h" = kernels_check ] && continue
      [ -x "$DEV/$h" ] || continue
      stage "sanitizer-$tool-$h" 45 env INKLING_DEV_NO_TIMING=1 compute-sanitizer --tool $tool --error-exitcode 9 "$DEV/$h"
      rc=$?
      row "$tool ($h)" "$([ $rc -eq 0 ] && echo clean || echo "FAIL rc=$rc")" "$(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$LOGS/sanitizer-$tool-$h.log" | tr '\n' ' ' | cut -c1-160)"
    done
  done
else
  row sanitizer skipped "compute-sanitizer not on PATH"
fi

python3 bench/cuda/gpu_check_summary.py "$LOGS" >"$LOGS/bench-summary.txt" 2>&1
while IFS='|' read -r a b c; do [ -n "$a" ] && row "$a" "$b" "$c"; done <"$LOGS/bench-summary.txt"

# ---- 6. webgpu ----
if [ -f scripts/gpu-check-webgpu.sh ]; then
  RESERVE=0
  stage webgpu "$(left)" bash scripts/gpu-check-webgpu.sh
  row webgpu "$([ $? -eq 0 ] && echo pass || echo FAIL)" "$(tailOf webgpu 2)"
fi

# ---- 7. summary ----
{
  echo "## gpu-check $(date -u +%Y-%m-%dT%H:%MZ) on ${GPU:-unknown GPU} ($((SECONDS - START)) s)"
  echo
  echo "| stage | result | detail |"
  echo "|---|---|---|"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "Logs: $LOGS"
} >"$LOGS/summary.md"
[ -n "${OUT:-}" ] && cp "$LOGS/summary.md" "$OUT/gpu-check-summary.md"
echo
cat "$LOGS/summary.md"
