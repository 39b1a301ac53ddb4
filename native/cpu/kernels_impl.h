// The kernel implementations, compiled once per ISA path: the including file defines
// INKLING_NS (the namespace), INKLING_AVX2 (1 when built with -mavx2 -mfma) and INKLING_NEON
// (1 for the AArch64 Advanced SIMD table; 0 or undefined elsewhere).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#ifndef INKLING_NEON
#define INKLING_NEON 0
#endif

#if INKLING_AVX2
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

#include "impl/elementwise.h"
#include "impl/gemm.h"
#include "impl/conv_implicit.h"
#include "impl/conv.h"
#include "impl/norm.h"
#include "impl/pool.h"
#include "impl/loss_optim.h"
#include "impl/microbench.h"

namespace INKLING_NS {

static const KernelTable kTable = {
    INKLING_ISA_NAME, unary, binary, scale, axpy, reluBackward, channelSum, argmax, countEqual, matmul,
    conv2d, conv2dBackwardInput, conv2dBackwardWeight, batchNormTrain, batchNormInference, batchNormBackward,
    maxPool2d, maxPool2dBackward, avgPool2d, avgPool2dBackward, dropout, softmax, softmaxCrossEntropy,
    softmaxCrossEntropyBackward, sgdStep, adamStep, peakFmaGflops, triadGBps,
};

}  // namespace INKLING_NS
