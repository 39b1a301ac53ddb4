// The kernel implementations, compiled once per ISA path: the including file defines
// INKLING_NS (the namespace), INKLING_AVX2 (1 when built with -mavx2 -mfma, and in the AVX-512
// unit, whose CPUs all have AVX2), INKLING_AVX512 (1 when built with -mavx512f/bw/dq/vl),
// INKLING_SIMDE (1 in the test-only build of the AVX-512 unit against SIMD Everywhere) and
// INKLING_NEON (1 for the AArch64 Advanced SIMD table; 0 or undefined elsewhere).
#pragma once

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#ifndef INKLING_AVX512
#define INKLING_AVX512 0
#endif
#ifndef INKLING_SIMDE
#define INKLING_SIMDE 0
#endif
#ifndef INKLING_NEON
#define INKLING_NEON 0
#endif

#if INKLING_SIMDE
// Every _mm*/_mm512* name below resolves to SIMDe's portable implementation (native where the
// build flags allow, e.g. AVX2 for the 256-bit halves).
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>
#elif INKLING_AVX2
#include <immintrin.h>
#endif
#if INKLING_NEON
#include <arm_neon.h>
#endif

#include "context.h"
#include "kernels.h"

namespace INKLING_NS {
using namespace inkling;
}

#include "impl/simd.h"
#include "impl/elementwise.h"
#include "impl/gemm.h"
#include "impl/conv_implicit.h"
#include "impl/winograd.h"
#include "impl/conv_direct.h"
#include "impl/conv.h"
#include "impl/norm.h"
#include "impl/pool.h"
#include "impl/fused.h"
#include "impl/conv_pool.h"
#include "impl/conv_bn_pool.h"
#include "impl/loss_optim.h"
#include "impl/microbench.h"

namespace INKLING_NS {

static const KernelTable kTable = {
    INKLING_ISA_NAME, unary, binary, scale, axpy, reluBackward, channelSum, argmax, countEqual, matmul,
    conv2d, conv2dBackwardInput, conv2dBackwardWeight, conv2dMaxPool, batchNormTrain, batchNormInference, batchNormBackward,
    batchNormMaxPoolTrain, batchNormMaxPoolBackward, convBatchNormMaxPoolApplies, convBatchNormMaxPoolTrain, convBatchNormMaxPoolBackward, maxPool2d, maxPool2dBackward, avgPool2d, avgPool2dBackward, dropout, softmax, softmaxCrossEntropy,
    softmaxCrossEntropyBackward, sgdStep, adamStep, peakFmaGflops, triadGBps,
};

}  // namespace INKLING_NS
