// The emulator's <cuda_runtime.h>: with native/emu/cuda/include first on the include path, the
// real native/cuda sources compile with g++ as ordinary C++ against the SIMT emulator
// (native/emu/README.md). nvcc builds never see this file.
#pragma once
#include "../device.h"
#include "../runtime.h"
