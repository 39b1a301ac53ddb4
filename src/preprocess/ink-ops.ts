// Building blocks for turning a photo or canvas into a clean ink map: a running-minimum filter
// (background estimate), a box blur, Otsu's threshold and connected components. All operate on
// row-major Float32Array maps of width*height and cost O(width*height).

/** 1-D running minimum over windows of 2r+1 (van Herk / Gil-Werman: three passes, O(n) whatever
 *  r). Reads `n` values from src at `offset` with `step`, writes dst likewise. */
function runningMin1d(src: Float32Array, dst: Float32Array, offset: number, step: number, n: number, r: number, g: Float32Array, h: Float32Array): void {
  const w = 2 * r + 1;
  // g[i] = min of src from the start of i's block to i; h[i] = min from i to the end of its block.
  for (let i = 0; i < n; i++) {
    const v = src[offset + i * step];
    g[i] = i % w === 0 ? v : Math.min(g[i - 1], v);
  }
  for (let i = n - 1; i >= 0; i--) {
    const v = src[offset + i * step];
    h[i] = i === n - 1 || (i + 1) % w === 0 ? v : Math.min(h[i + 1], v);
  }
  for (let i = 0; i < n; i++) {
    const lo = Math.max(0, i - r);
    const hi = Math.min(n - 1, i + r);
    dst[offset + i * step] = Math.min(h[lo], g[hi]);
  }
}

/** Minimum over a (2r+1)x(2r+1) square window (clipped at the borders). */
export function minFilter(src: Float32Array, width: number, height: number, r: number): Float32Array {
  const tmp = new Float32Array(src.length);
  const out = new Float32Array(src.length);
  const g = new Float32Array(Math.max(width, height));
  const h = new Float32Array(Math.max(width, height));
  for (let y = 0; y < height; y++) runningMin1d(src, tmp, y * width, 1, width, r, g, h);
  for (let x = 0; x < width; x++) runningMin1d(tmp, out, x, width, height, r, g, h);
  return out;
}

/** Morphological opening (min filter then max filter, same window): removes bright structures
 *  narrower than the window (strokes, in an ink-high signal) and follows smooth backgrounds such as
 *  a lighting gradient exactly, unlike a bare min filter, which sits below them. */
export function opening(src: Float32Array, width: number, height: number, r: number): Float32Array {
  const eroded = minFilter(src, width, height, r);
  for (let i = 0; i < eroded.length; i++) eroded[i] = -eroded[i];
  const dilated = minFilter(eroded, width, height, r);
  for (let i = 0; i < dilated.length; i++) dilated[i] = -dilated[i];
  return dilated;
}

/** Mean over a (2r+1)x(2r+1) window clipped at the borders (separable running sums). */
export function boxBlur(src: Float32Array, width: number, height: number, r: number): Float32Array {
  const tmp = new Float32Array(src.length);
  const out = new Float32Array(src.length);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    let acc = 0;
    for (let x = 0; x < Math.min(r, width); x++) acc += src[row + x];
    for (let x = 0; x < width; x++) {
      if (x + r < width) acc += src[row + x + r];
      if (x - r - 1 >= 0) acc -= src[row + x - r - 1];
      tmp[row + x] = acc / (Math.min(width - 1, x + r) - Math.max(0, x - r) + 1);
    }
  }
  for (let x = 0; x < width; x++) {
    let acc = 0;
    for (let y = 0; y < Math.min(r, height); y++) acc += tmp[y * width + x];
    for (let y = 0; y < height; y++) {
      if (y + r < height) acc += tmp[(y + r) * width + x];
      if (y - r - 1 >= 0) acc -= tmp[(y - r - 1) * width + x];
      out[y * width + x] = acc / (Math.min(height - 1, y + r) - Math.max(0, y - r) + 1);
    }
  }
  return out;
}

/** Otsu's threshold of values in [0,1] (256 bins): the split maximising between-class variance.
 *  Returns a value in [0,1]; 0 for a constant map. */
export function otsuThreshold(values: Float32Array): number {
  const hist = new Float64Array(256);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    hist[v <= 0 ? 0 : v >= 1 ? 255 : (v * 255) | 0]++;
  }
  const total = values.length;
  let sumAll = 0;
  for (let i = 0; i < 256; i++) sumAll += i * hist[i];
  let wB = 0;
  let sumB = 0;
  let best = 0;
  let bestT = 0;
  for (let t = 0; t < 256; t++) {
    wB += hist[t];
    if (wB === 0) continue;
    const wF = total - wB;
    if (wF === 0) break;
    sumB += t * hist[t];
    const mB = sumB / wB;
    const mF = (sumAll - sumB) / wF;
    const between = wB * wF * (mB - mF) * (mB - mF);
    if (between > best) {
      best = between;
      bestT = t;
    }
  }
  return (bestT + 1) / 255;
}

/** 8-connected components of mask (non-zero = set). labels[i] = component index + 1 (0 = none);
 *  areas[k] = pixel count of component k. */
export function connectedComponents(
  mask: Uint8Array,
  width: number,
  height: number,
  labelsScratch?: Int32Array,
  stackScratch?: Int32Array,
): { labels: Int32Array; areas: number[] } {
  // Optional scratch (at least mask.length long) avoids two allocations per call.
  const labels = labelsScratch && labelsScratch.length >= mask.length ? labelsScratch.subarray(0, mask.length).fill(0) : new Int32Array(mask.length);
  const areas: number[] = [];
  const stack = stackScratch && stackScratch.length >= mask.length ? stackScratch : new Int32Array(mask.length);
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || labels[start]) continue;
    const label = areas.length + 1;
    let top = 0;
    stack[top++] = start;
    labels[start] = label;
    let area = 0;
    while (top > 0) {
      const p = stack[--top];
      area++;
      const px = p % width;
      const py = (p - px) / width;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = py + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = px + dx;
          if (nx < 0 || nx >= width) continue;
          const q = ny * width + nx;
          if (mask[q] && !labels[q]) {
            labels[q] = label;
            stack[top++] = q;
          }
        }
      }
    }
    areas.push(area);
  }
  return { labels, areas };
}

/** Median of a histogram-able [0,1] sample (256 bins). */
export function median01(values: Float32Array | number[], count = values.length): number {
  const hist = new Uint32Array(256);
  for (let i = 0; i < count; i++) {
    const v = values[i];
    hist[v <= 0 ? 0 : v >= 1 ? 255 : (v * 255) | 0]++;
  }
  let acc = 0;
  for (let b = 0; b < 256; b++) {
    acc += hist[b];
    if (acc * 2 >= count) return (b + 0.5) / 255;
  }
  return 1;
}

/** Robust quadratic background surface: least-squares fit of
 *  s ≈ c0 + c1·u + c2·v + c3·u² + c4·u·v + c5·v² (u, v in [−0.5, 0.5]) over the pixels, refitted
 *  three times without those whose residual is above 2.5 robust sigmas (the ink, which sits
 *  above the background in an ink-high signal). Smooth lighting (gradients, vignetting) is
 *  followed exactly up to the image edges. Returns the surface and the residual noise sigma
 *  (1.4826 × the median absolute residual of the background pixels). */
export function fitBackground(signal: Float32Array, width: number, height: number): { bg: Float32Array; sigma: number } {
  const n = width * height;
  // Subsample for the fit: at most ~4k pixels.
  const step = Math.max(1, Math.floor(Math.sqrt(n / 4096)));
  const idx: number[] = [];
  for (let y = 0; y < height; y += step) for (let x = 0; x < width; x += step) idx.push(y * width + x);
  const use = new Uint8Array(idx.length).fill(1);
  const basis = (x: number, y: number, out: Float64Array) => {
    const u = (x + 0.5) / width - 0.5;
    const v = (y + 0.5) / height - 0.5;
    out[0] = 1; out[1] = u; out[2] = v; out[3] = u * u; out[4] = u * v; out[5] = v * v;
  };
  const phi = new Float64Array(6);
  let coef: Float64Array = new Float64Array(6);
  let sigma = 0;
  const resid = new Float32Array(idx.length);
  for (let iter = 0; iter < 4; iter++) {
    const ata = new Float64Array(36);
    const atb = new Float64Array(6);
    for (let k = 0; k < idx.length; k++) {
      if (!use[k]) continue;
      const p = idx[k];
      basis(p % width, Math.floor(p / width), phi);
      const s = signal[p];
      for (let a = 0; a < 6; a++) {
        atb[a] += phi[a] * s;
        for (let b = 0; b < 6; b++) ata[a * 6 + b] += phi[a] * phi[b];
      }
    }
    for (let a = 0; a < 6; a++) ata[a * 6 + a] += 1e-6; // ridge: keeps tiny images solvable
    coef = solve6(ata, atb);
    let m = 0;
    for (let k = 0; k < idx.length; k++) {
      const p = idx[k];
      basis(p % width, Math.floor(p / width), phi);
      let fit = 0;
      for (let a = 0; a < 6; a++) fit += coef[a] * phi[a];
      const r = signal[p] - fit;
      if (use[k]) resid[m++] = Math.abs(r);
    }
    sigma = 1.4826 * median01(resid, m);
    for (let k = 0; k < idx.length; k++) {
      const p = idx[k];
      basis(p % width, Math.floor(p / width), phi);
      let fit = 0;
      for (let a = 0; a < 6; a++) fit += coef[a] * phi[a];
      use[k] = signal[p] - fit <= 2.5 * sigma + 1e-3 ? 1 : 0;
    }
  }
  const bg = new Float32Array(n);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      basis(x, y, phi);
      let fit = 0;
      for (let a = 0; a < 6; a++) fit += coef[a] * phi[a];
      bg[y * width + x] = fit;
    }
  }
  return { bg, sigma };
}

/** Solves the 6x6 system A x = b by Gaussian elimination with partial pivoting. */
function solve6(a: Float64Array, b: Float64Array): Float64Array {
  const m = Float64Array.from(a);
  const x = Float64Array.from(b);
  for (let c = 0; c < 6; c++) {
    let piv = c;
    for (let r = c + 1; r < 6; r++) if (Math.abs(m[r * 6 + c]) > Math.abs(m[piv * 6 + c])) piv = r;
    if (piv !== c) {
      for (let k = 0; k < 6; k++) [m[c * 6 + k], m[piv * 6 + k]] = [m[piv * 6 + k], m[c * 6 + k]];
      [x[c], x[piv]] = [x[piv], x[c]];
    }
    const d = m[c * 6 + c] || 1e-12;
    for (let r = c + 1; r < 6; r++) {
      const f = m[r * 6 + c] / d;
      if (f === 0) continue;
      for (let k = c; k < 6; k++) m[r * 6 + k] -= f * m[c * 6 + k];
      x[r] -= f * x[c];
    }
  }
  for (let c = 5; c >= 0; c--) {
    let acc = x[c];
    for (let k = c + 1; k < 6; k++) acc -= m[c * 6 + k] * x[k];
    x[c] = acc / (m[c * 6 + c] || 1e-12);
  }
  return x;
}
