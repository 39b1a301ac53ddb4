// Separable resampling shared by framing (gray ink maps) and the working-resolution/thumbnail
// step (premultiplied RGBA). Shrinking uses area averaging (each output pixel is the mean of the
// source area it covers: MNIST-style anti-aliasing, no ringing); enlarging uses bilinear.

/** Per-output-pixel source spans and weights along one axis (a sparse 1-D resampling matrix). */
export interface AxisKernel {
  start: Int32Array; // first source index for output i
  count: Int32Array; // number of source taps for output i
  offset: Int32Array; // where output i's weights begin in `weights`
  weights: Float32Array; // sum to 1 per output
}

export function axisKernel(srcLen: number, dstLen: number): AxisKernel {
  const start = new Int32Array(dstLen);
  const count = new Int32Array(dstLen);
  const offset = new Int32Array(dstLen);
  const taps: number[] = [];
  if (dstLen <= srcLen) {
    // Area averaging: output i covers source interval [i*r, (i+1)*r), r >= 1; each source pixel
    // contributes its overlap with that interval, divided by r.
    const r = srcLen / dstLen;
    for (let i = 0; i < dstLen; i++) {
      const a = i * r;
      const b = Math.min(srcLen, (i + 1) * r);
      const first = Math.floor(a);
      const last = Math.min(srcLen - 1, Math.ceil(b) - 1);
      start[i] = first;
      count[i] = last - first + 1;
      offset[i] = taps.length;
      for (let s = first; s <= last; s++) taps.push((Math.min(b, s + 1) - Math.max(a, s)) / r);
    }
  } else {
    // Bilinear: output pixel centre (i + 0.5) maps to source coordinate (i + 0.5) / scale − 0.5.
    const scale = dstLen / srcLen;
    for (let i = 0; i < dstLen; i++) {
      const c = Math.min(srcLen - 1, Math.max(0, (i + 0.5) / scale - 0.5));
      const first = Math.min(srcLen - 1, Math.floor(c));
      const f = c - first;
      start[i] = first;
      offset[i] = taps.length;
      if (first + 1 < srcLen && f > 0) {
        count[i] = 2;
        taps.push(1 - f, f);
      } else {
        count[i] = 1;
        taps.push(1);
      }
    }
  }
  return { start, count, offset, weights: Float32Array.from(taps) };
}

/** Resamples an interleaved image (`channels` values per pixel) from sw x sh to dw x dh. */
export function resampleInterleaved(
  src: Float32Array,
  sw: number,
  sh: number,
  channels: number,
  dw: number,
  dh: number,
): Float32Array {
  const kx = axisKernel(sw, dw);
  const ky = axisKernel(sh, dh);
  const tmp = new Float32Array(sh * dw * channels);
  for (let y = 0; y < sh; y++) {
    const srow = y * sw * channels;
    const drow = y * dw * channels;
    for (let i = 0; i < dw; i++) {
      const s0 = srow + kx.start[i] * channels;
      const w0 = kx.offset[i];
      const n = kx.count[i];
      for (let c = 0; c < channels; c++) {
        let acc = 0;
        for (let t = 0; t < n; t++) acc += src[s0 + t * channels + c] * kx.weights[w0 + t];
        tmp[drow + i * channels + c] = acc;
      }
    }
  }
  const out = new Float32Array(dh * dw * channels);
  const rowLen = dw * channels;
  for (let j = 0; j < dh; j++) {
    const r0 = ky.start[j];
    const w0 = ky.offset[j];
    const n = ky.count[j];
    const d = j * rowLen;
    for (let t = 0; t < n; t++) {
      const wt = ky.weights[w0 + t];
      const s = (r0 + t) * rowLen;
      for (let k = 0; k < rowLen; k++) out[d + k] += tmp[s + k] * wt;
    }
  }
  return out;
}

/** Size that fits (w, h) inside maxSide keeping the aspect ratio (never enlarges). */
export function fitInside(w: number, h: number, maxSide: number): { width: number; height: number } {
  const s = Math.min(1, maxSide / Math.max(w, h));
  return { width: Math.max(1, Math.round(w * s)), height: Math.max(1, Math.round(h * s)) };
}
