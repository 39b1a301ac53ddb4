// Applies an AugmentConfig to one 28x28 u8 sample, writing 0..1 floats into a caller's slot.
//
// Order: warp (affine + elastic, one bilinear pass) onto a canvas -> stroke thickness ->
// MNIST framing (src/preprocess/frame.ts, the same function the service runs on user input, so
// train and serve see identical framing). When framing is on, the canvas is 36x36 (the 28x28
// source centred in it) so that scaling up or rotating never clips ink before framing re-fits
// the digit into 20x20; framing then undoes most of the scale and shift, which is what the
// service will do to a user's drawing too. Draws come from a stream re-seeded per
// (seed, epoch, dataset index), so results do not depend on batch order or thread.
import { frameDigit } from '../../src/preprocess/frame.ts';
import { IMAGE_PIXELS, IMAGE_SIDE } from '../data/mnist.ts';
import { SampleRng } from '../rng.ts';
import { type AugmentConfig, isIdentity } from './config.ts';
import { changeThickness } from './morphology.ts';
import { createElasticField, drawElasticField, IDENTITY_AFFINE, inverseAffine, type InverseAffine, warpBilinear } from './warp.ts';

const FRAMED_CANVAS = 36;
const DEG = Math.PI / 180;

export class Augmenter {
  readonly config: AugmentConfig;
  readonly identity: boolean;
  private readonly canvasSide: number;
  private readonly canvas: Float32Array;
  private readonly scratch: Float32Array;
  private readonly field;
  private readonly inv: InverseAffine = { ...IDENTITY_AFFINE };
  private readonly rng = new SampleRng();

  constructor(config: AugmentConfig, private readonly seed: number) {
    this.config = { ...config };
    this.identity = isIdentity(config);
    this.canvasSide = config.reframe ? FRAMED_CANVAS : IMAGE_SIDE;
    this.canvas = new Float32Array(this.canvasSide * this.canvasSide);
    this.scratch = new Float32Array(this.canvasSide * this.canvasSide);
    this.field = createElasticField(this.canvasSide);
  }

  /**
   * Augments sample `index` (its pixels at `pixels[index·784 ..]`) for `epoch`, writing 784 values
   * in 0..1 to out[outOffset ..].
   */
  apply(pixels: Uint8Array, index: number, epoch: number, out: Float32Array, outOffset: number): void {
    const c = this.config;
    const srcOffset = index * IMAGE_PIXELS;
    if (this.identity) {
      for (let i = 0; i < IMAGE_PIXELS; i++) out[outOffset + i] = pixels[srcOffset + i] / 255;
      return;
    }
    const rng = this.rng;
    rng.reseed(this.seed, epoch, index);

    let inv = IDENTITY_AFFINE;
    if (rng.chance(c.affineP)) {
      const rot = rng.range(-c.rotateDeg, c.rotateDeg) * DEG;
      const logS = Math.log1p(c.scale);
      const scale = Math.exp(rng.range(-logS, logS));
      const shear = rng.range(-c.shearDeg, c.shearDeg) * DEG;
      const tx = rng.range(-c.translatePx, c.translatePx);
      const ty = rng.range(-c.translatePx, c.translatePx);
      inv = inverseAffine(this.inv, rot, scale, shear, tx, ty);
    }
    let field = null;
    if (rng.chance(c.elasticP) && c.elasticPx > 0) {
      drawElasticField(this.field, this.canvasSide, c.elasticGridPx, c.elasticPx, rng);
      field = this.field;
    }
    const side = this.canvasSide;
    warpBilinear(pixels, srcOffset, IMAGE_SIDE, this.canvas, side, inv, field);

    if (rng.chance(c.thicknessP)) {
      // Thicken or thin with equal odds, then a uniform radius up to the limit.
      const radius = rng.uniform() < 0.5 ? rng.range(0, c.thickenPx) : -rng.range(0, c.thinPx);
      changeThickness(this.canvas, this.scratch, side, radius);
    }

    if (c.reframe) {
      const framed = frameDigit(this.canvas, side, side);
      if (framed !== null) {
        out.set(framed, outOffset);
        return;
      }
      // Erosion or a shift removed all ink (rare): fall back to the plain sample.
      for (let i = 0; i < IMAGE_PIXELS; i++) out[outOffset + i] = pixels[srcOffset + i] / 255;
      return;
    }
    out.set(this.canvas.subarray(0, IMAGE_PIXELS), outOffset);
  }
}
