// Row softmax / log-softmax and the fused softmax + cross-entropy loss, [rows, cols]:
//   log p_j = x_j − max − log Σ_k exp(x_k − max)
//   loss    = mean_r ( −(1 − s)·log p_label − (s / cols)·Σ_j log p_j )   (PyTorch label_smoothing)
//   dlogits (+)= dloss[0]·(p − t) / rows,  t = (1 − s)·onehot(label) + s/cols
// One SIMD group per row (the seed CNN has cols = 10; longer rows loop in strides of 32), its
// reductions as xor-shuffle butterflies so every lane holds the result. The loss goes per row
// into scratch, then one threadgroup adds the rows in a fixed tree (deterministic) and divides.
// A label outside [0, cols) cannot throw on the GPU: that row's loss is NaN, so the mean is NaN
// and the mistake shows at the next readback (the ref backend throws instead).
// As native/cuda/softmax.cu; reference src/nn/backends/ref/softmax.ts.
#include "common.h"

namespace ink {
inline void rowStats(device const float* r, uint cols, uint lane, thread float& rowMax, thread float& logSum) {
  float m = -INFINITY;
  for (uint j = lane; j < cols; j += kSimd) m = fmax(m, r[j]);
  for (ushort o = 16; o > 0; o >>= 1) m = fmax(m, simd_shuffle_xor(m, o));
  float s = 0.0f;
  for (uint j = lane; j < cols; j += kSimd) s += exp(r[j] - m);
  for (ushort o = 16; o > 0; o >>= 1) s += simd_shuffle_xor(s, o);
  rowMax = m;
  logSum = log(s);
}
}  // namespace ink

kernel void softmax_rows(device const float* x [[buffer(0)]], device float* out [[buffer(1)]],
                         constant RowsArgs& a [[buffer(2)]], uint group [[threadgroup_position_in_grid]],
                         uint sg [[simdgroup_index_in_threadgroup]], uint lane [[thread_index_in_simdgroup]]) {
  const uint row = group * (ink::kGroup / ink::kSimd) + sg;
  if (row >= a.rows) return;
  device const float* r = x + ulong(row) * a.cols;
  device float* o = out + ulong(row) * a.cols;
  float rowMax, logSum;
  ink::rowStats(r, a.cols, lane, rowMax, logSum);
  for (uint j = lane; j < a.cols; j += ink::kSimd) {
    const float lp = r[j] - rowMax - logSum;
    o[j] = a.logarithm ? lp : exp(lp);
  }
}

kernel void cross_entropy_rows(device const float* logits [[buffer(0)]], device const int* labels [[buffer(1)]],
                               device float* probs [[buffer(2)]], device float* rowLoss [[buffer(3)]],
                               constant RowsArgs& a [[buffer(4)]], uint group [[threadgroup_position_in_grid]],
                               uint sg [[simdgroup_index_in_threadgroup]], uint lane [[thread_index_in_simdgroup]]) {
  const uint row = group * (ink::kGroup / ink::kSimd) + sg;
  if (row >= a.rows) return;
  device const float* r = logits + ulong(row) * a.cols;
  float rowMax, logSum;
  ink::rowStats(r, a.cols, lane, rowMax, logSum);
  const int label = labels[row];
  float sumLogp = 0.0f, labelLogp = 0.0f;
  for (uint j = lane; j < a.cols; j += ink::kSimd) {
    const float lp = r[j] - rowMax - logSum;
    probs[ulong(row) * a.cols + j] = exp(lp);
    sumLogp += lp;
    if (int(j) == label) labelLogp = lp;
  }
  for (ushort o = 16; o > 0; o >>= 1) {
    sumLogp += simd_shuffle_xor(sumLogp, o);
    labelLogp += simd_shuffle_xor(labelLogp, o);
  }
  if (lane == 0) {
    const bool valid = label >= 0 && label < int(a.cols);
    rowLoss[row] = valid ? -(1.0f - a.smoothing) * labelLogp - (a.smoothing / float(a.cols)) * sumLogp : NAN;
  }
}

// loss[0] = Σ rowLoss / rows, one threadgroup of 256.
kernel void mean_rows(device const float* rowLoss [[buffer(0)]], device float* loss [[buffer(1)]],
                      constant RowsArgs& a [[buffer(2)]], uint tid [[thread_position_in_threadgroup]]) {
  threadgroup float scratch[ink::kGroup / ink::kSimd];
  float s = 0.0f;
  for (uint i = tid; i < a.rows; i += ink::kGroup) s += rowLoss[i];
  s = ink::groupSum(s, scratch, tid);
  if (tid == 0) loss[0] = s / float(a.rows);
}

kernel void cross_entropy_backward(device const float* probs [[buffer(0)]], device const int* labels [[buffer(1)]],
                                   device const float* dloss [[buffer(2)]], device float* dlogits [[buffer(3)]],
                                   constant RowsArgs& a [[buffer(4)]], uint i [[thread_position_in_grid]]) {
  if (i >= a.rows * a.cols) return;
  const uint row = i / a.cols, j = i - row * a.cols;
  const float k = dloss[0] / float(a.rows);
  const float t = (int(j) == labels[row] ? 1.0f - a.smoothing : 0.0f) + a.smoothing / float(a.cols);
  const float g = k * (probs[i] - t);
  dlogits[i] = a.accumulate ? dlogits[i] + g : g;
}
