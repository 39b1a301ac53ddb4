// Stroke thickness: grayscale dilation (max) and erosion (min) over the 4-neighbourhood plus
// centre (a 3x3 cross, the most round one-pixel structuring element), repeated for whole pixels
// of radius; a fractional remainder blends the last pass in: out = x + f·(pass(x) − x).
// Works in place on `img` with one scratch buffer of the same size (no allocation).

function crossPass(src: Float32Array, dst: Float32Array, side: number, dilate: boolean): void {
  for (let y = 0; y < side; y++) {
    const row = y * side;
    for (let x = 0; x < side; x++) {
      const i = row + x;
      let v = src[i];
      // Outside the canvas counts as background (0): it never wins a max, and wins a min.
      const l = x > 0 ? src[i - 1] : 0;
      const r = x < side - 1 ? src[i + 1] : 0;
      const u = y > 0 ? src[i - side] : 0;
      const d = y < side - 1 ? src[i + side] : 0;
      if (dilate) {
        if (l > v) v = l;
        if (r > v) v = r;
        if (u > v) v = u;
        if (d > v) v = d;
      } else {
        if (l < v) v = l;
        if (r < v) v = r;
        if (u < v) v = u;
        if (d < v) v = d;
      }
      dst[i] = v;
    }
  }
}

/**
 * radiusPx > 0 thickens, < 0 thins, by |radiusPx| pixels (fractional allowed).
 * `img` and `scratch` hold side² values; the result is left in `img`.
 */
export function changeThickness(img: Float32Array, scratch: Float32Array, side: number, radiusPx: number): void {
  if (radiusPx === 0) return;
  const dilate = radiusPx > 0;
  let remaining = Math.abs(radiusPx);
  const n = side * side;
  while (remaining > 0) {
    const f = Math.min(1, remaining);
    crossPass(img, scratch, side, dilate);
    if (f === 1) {
      img.set(scratch.subarray(0, n));
    } else {
      for (let i = 0; i < n; i++) img[i] += f * (scratch[i] - img[i]);
    }
    remaining -= f;
  }
}
