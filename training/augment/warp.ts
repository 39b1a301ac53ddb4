// Geometric augmentation: one inverse-mapped bilinear resampling pass that applies a random
// affine transform and an elastic distortion together (one interpolation, so no double blur).
//
// For each destination pixel centre p (canvas coordinates, origin at the canvas centre):
//   q   = p + e(p)                       e = elastic displacement, bilinear on a coarse grid of
//                                          N(0, σ²) control vectors (a cheap stand-in for
//                                          Simard et al.'s Gaussian-smoothed random field)
//   src = A⁻¹ · q + centre_of_source     A = translate · rotate · shear · scale
// and the source (u8, 0..255) is read bilinearly with zeros outside. With A = I, e = 0 and the
// canvas the source's size, src lands exactly on pixel centres and the copy is exact.

/** The inverse affine map [a b; c d] plus translation, destination -> source. */
export interface InverseAffine {
  a: number;
  b: number;
  c: number;
  d: number;
  tx: number;
  ty: number;
}

export const IDENTITY_AFFINE: InverseAffine = { a: 1, b: 0, c: 0, d: 1, tx: 0, ty: 0 };

/** Writes the inverse of translate(tx,ty)·rotate(θ)·shearX(k)·scale(s) into `out`. */
export function inverseAffine(out: InverseAffine, rotateRad: number, scale: number, shearRad: number, tx: number, ty: number): InverseAffine {
  // Forward linear part M = R · H · S with H = [1 tan(k); 0 1], S = s·I.
  const cos = Math.cos(rotateRad);
  const sin = Math.sin(rotateRad);
  const k = Math.tan(shearRad);
  const m00 = cos * scale;
  const m01 = (cos * k - sin) * scale;
  const m10 = sin * scale;
  const m11 = (sin * k + cos) * scale;
  const det = m00 * m11 - m01 * m10;
  out.a = m11 / det;
  out.b = -m01 / det;
  out.c = -m10 / det;
  out.d = m00 / det;
  // p = M·s + t  =>  s = M⁻¹·(p − t)
  out.tx = -(out.a * tx + out.b * ty);
  out.ty = -(out.c * tx + out.d * ty);
  return out;
}

/** A coarse grid of displacement vectors; `vectors` holds (dx, dy) per control point. */
export interface ElasticField {
  /** Control points per side. */
  points: number;
  spacing: number;
  vectors: Float32Array;
}

/** Room for the finest grid (spacing 2 px) on a canvas of `canvasSide`. */
export function createElasticField(canvasSide: number): ElasticField {
  const points = Math.ceil(canvasSide / 2) + 2;
  return { points, spacing: 2, vectors: new Float32Array(2 * points * points) };
}

/**
 * Resamples the u8 `src` (srcSide², at srcOffset) into `dst` (dstSide², values 0..1).
 * `field` may be null (no elastic part).
 */
export function warpBilinear(
  src: Uint8Array, srcOffset: number, srcSide: number,
  dst: Float32Array, dstSide: number,
  inv: InverseAffine, field: ElasticField | null,
): void {
  const half = dstSide / 2;
  const srcCentre = srcSide / 2;
  const scale = 1 / 255;
  const maxIdx = srcSide - 1;
  for (let y = 0; y < dstSide; y++) {
    const py = y + 0.5 - half;
    for (let x = 0; x < dstSide; x++) {
      let qx = x + 0.5 - half;
      let qy = py;
      if (field !== null) {
        // Bilinear interpolation of the control vectors at (x, y) in canvas pixels.
        const gx = (x + 0.5) / field.spacing;
        const gy = (y + 0.5) / field.spacing;
        const ix = Math.floor(gx);
        const iy = Math.floor(gy);
        const fx = gx - ix;
        const fy = gy - iy;
        const n = field.points;
        const v = field.vectors;
        const i00 = 2 * (iy * n + ix);
        const i01 = i00 + 2;
        const i10 = i00 + 2 * n;
        const i11 = i10 + 2;
        const w00 = (1 - fx) * (1 - fy);
        const w01 = fx * (1 - fy);
        const w10 = (1 - fx) * fy;
        const w11 = fx * fy;
        qx += w00 * v[i00] + w01 * v[i01] + w10 * v[i10] + w11 * v[i11];
        qy += w00 * v[i00 + 1] + w01 * v[i01 + 1] + w10 * v[i10 + 1] + w11 * v[i11 + 1];
      }
      // Continuous source index (pixel centres at integers).
      const sx = inv.a * qx + inv.b * qy + inv.tx + srcCentre - 0.5;
      const sy = inv.c * qx + inv.d * qy + inv.ty + srcCentre - 0.5;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      let value = 0;
      if (x0 >= -1 && y0 >= -1 && x0 <= maxIdx && y0 <= maxIdx) {
        const fx = sx - x0;
        const fy = sy - y0;
        const inX0 = x0 >= 0;
        const inX1 = x0 + 1 <= maxIdx;
        const row0 = srcOffset + y0 * srcSide;
        const row1 = row0 + srcSide;
        let top = 0;
        let bottom = 0;
        if (y0 >= 0) top = (inX0 ? src[row0 + x0] * (1 - fx) : 0) + (inX1 ? src[row0 + x0 + 1] * fx : 0);
        if (y0 + 1 <= maxIdx) bottom = (inX0 ? src[row1 + x0] * (1 - fx) : 0) + (inX1 ? src[row1 + x0 + 1] * fx : 0);
        value = (top * (1 - fy) + bottom * fy) * scale;
      }
      dst[y * dstSide + x] = value;
    }
  }
}

/** Fills the control grid of `field` for a canvas of `canvasSide` with N(0, sigma²) vectors. */
export function drawElasticField(field: ElasticField, canvasSide: number, spacing: number, sigma: number, rng: { normal(): number }): void {
  field.spacing = spacing;
  field.points = Math.ceil(canvasSide / spacing) + 2;
  const count = field.points * field.points;
  if (2 * count > field.vectors.length) throw new RangeError(`elastic grid of ${field.points}² points exceeds its buffer; use a larger --aug-elastic-grid`);
  for (let i = 0; i < 2 * count; i++) field.vectors[i] = sigma * rng.normal();
}
