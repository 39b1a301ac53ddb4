// The whole conformance table on cuda-emu with the SIMT GEMM (fp32 FMA): the real native/cuda kernels
// on the SIMT emulator, against ref, with the fp32 tolerances every backend meets and guard regions
// around every buffer; once with blocks and threads in forward order, once in reverse order (a
// kernel whose results depend on the order has a race or a missing barrier). The seed CNN's own
// kernel shapes at batch 2 run too (fc1's split-K, conv2).
import { emuConformance } from './conformance-run.ts';

emuConformance('simt');
