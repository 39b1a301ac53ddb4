// The cuda wrapper's pure encodings: they decide what the kernels compute, and need no GPU.
import t from 'tap';
import { dropoutKey, dropoutUniform, lowbias32 } from '../../src/nn/dropout-rng.ts';
import {
  binaryCode, dropoutKeepScale, dropoutKeepThreshold, fillBits, isRelu, parseGemmVariant, requireInt32Extent, unaryCode,
} from '../../src/nn/backends/cuda/params.ts';

t.test('the integer keep threshold gives the ref mask exactly (u >= p ⇔ (bits >> 8) >= ceil(p·2^24))', async (t) => {
  const key = dropoutKey(1234, 7);
  const ps = [0, 1e-9, 0.1, 0.25, 0.3, 0.5, 1 / 3, 0.75, 0.9999999, 1, 0.221231282, 0.357367516];
  let mismatches = 0;
  for (const p of ps) {
    const thr = dropoutKeepThreshold(p);
    for (let i = 0; i < 20000; i++) {
      const bits = lowbias32((Math.imul(i, 0x9e3779b1) ^ key) >>> 0);
      const refKeep = dropoutUniform(key, i) >= p;
      const cudaKeep = bits >>> 8 >= thr;
      if (refKeep !== cudaKeep) mismatches++;
    }
  }
  t.equal(mismatches, 0, 'same keep decision for every p and counter');
  // A uniform sitting exactly on p must be kept (>=): p = k / 2^24 gives threshold k.
  t.equal(dropoutKeepThreshold(5 / 16777216), 5);
  t.equal(dropoutKeepThreshold(1), 16777216, 'p = 1 keeps nothing (bits >> 8 < 2^24)');
  t.equal(dropoutKeepThreshold(0), 0, 'p = 0 keeps everything');
  t.throws(() => dropoutKeepThreshold(1.5), /p must be in \[0, 1\]/);
  t.equal(dropoutKeepScale(0.5), 2);
  t.equal(dropoutKeepScale(1), 0, 'p = 1 scales by 0 like the ref');
});

t.test('fill writes float32 bits for f32 and two-complement ints for i32', async (t) => {
  t.equal(fillBits('f32', 1), 0x3f800000);
  t.equal(fillBits('f32', -2.5), 0xc0200000);
  t.equal(fillBits('f32', 0.1), 0x3dcccccd, '0.1 rounds to the float32 nearest');
  t.equal(fillBits('i32', -1), 0xffffffff);
  t.equal(fillBits('i32', 7), 7);
  t.throws(() => fillBits('i32', 1.5), /not a valid i32 value/);
  t.throws(() => fillBits('i32', 2 ** 31), /not a valid i32 value/);
});

t.test('op codes match the enum order of native/cuda/kernels.h', async (t) => {
  t.same(['neg', 'exp', 'log', 'sqrt', 'abs', 'relu'].map((op) => unaryCode(op as never)), [0, 1, 2, 3, 4, 5]);
  t.same(['add', 'sub', 'mul', 'div', 'max'].map((op) => binaryCode(op as never)), [0, 1, 2, 3, 4]);
  t.throws(() => unaryCode('tanh' as never), /unknown op "tanh".*known: neg, exp/);
  t.throws(() => binaryCode('pow' as never), /unknown op "pow"/);
});

t.test('activation, GEMM variant and 32-bit extent checks name the fix', async (t) => {
  t.equal(isRelu('conv2d', undefined), false);
  t.equal(isRelu('conv2d', 'none'), false);
  t.equal(isRelu('conv2d', 'relu'), true);
  t.throws(() => isRelu('conv2d', 'gelu' as never), /conv2d: activation must be 'none' or 'relu', got gelu/);
  t.equal(parseGemmVariant(undefined), 'simt');
  t.equal(parseGemmVariant(''), 'simt');
  t.equal(parseGemmVariant('tf32'), 'tf32');
  t.throws(() => parseGemmVariant('fp16'), /INKLING_CUDA_GEMM must be 'simt' or 'tf32', got 'fp16'/);
  t.doesNotThrow(() => requireInt32Extent('conv2d', 'n·h·w', 2 ** 31 - 1));
  t.throws(() => requireInt32Extent('conv2d', 'n·h·w', 2 ** 31), /32-bit index range; split the batch/);
});
