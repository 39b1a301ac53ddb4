// The whole conformance table on cuda-emu with the TF32 tensor-core GEMM (the mma.sync twin): the
// real native/cuda kernels on the SIMT emulator, against ref, with guard regions around every
// buffer; matmul and the three convolutions within the TF32 bound stated in
// test/conformance/cases-dense.ts (2^-11 relative per rounded operand, so 2·2^-11 per product,
// times Σ|a·b|), every other kernel within its fp32 tolerance. Once with blocks and threads in
// forward order, once in reverse order (a kernel whose results depend on the order has a race or a
// missing barrier). The seed CNN's own kernel shapes at batch 2 run too (fc1's split-K, conv2).
import { emuConformance } from './conformance-run.ts';

emuConformance('tf32');
