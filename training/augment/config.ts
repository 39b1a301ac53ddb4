// What augmentation does and how strongly, as plain numbers (all of them CLI flags).
//
// Aimed at what users really draw and upload: mouse/finger strokes thicker or thinner than
// MNIST's pen, digits rotated, slanted, shifted and scaled, and a little wobble.

export interface AugmentConfig {
  /** Probability that a sample gets the random affine transform. */
  affineP: number;
  /** Rotation drawn uniformly from ±rotateDeg degrees. */
  rotateDeg: number;
  /** Scale drawn log-uniformly from [1/(1+scale), 1+scale]. */
  scale: number;
  /** Horizontal shear (slant) drawn uniformly from ±shearDeg degrees. */
  shearDeg: number;
  /** Translation drawn uniformly from ±translatePx pixels on each axis (28x28 pixels). */
  translatePx: number;
  /** Probability of a stroke-thickness change. */
  thicknessP: number;
  /** Largest thickening (grayscale dilation radius, pixels, fractional allowed). */
  thickenPx: number;
  /** Largest thinning (grayscale erosion radius, pixels, fractional allowed). */
  thinPx: number;
  /** Probability of an elastic distortion. */
  elasticP: number;
  /** Standard deviation of the elastic displacement at the control points, pixels. */
  elasticPx: number;
  /** Control-point spacing of the elastic field, pixels (larger = smoother). */
  elasticGridPx: number;
  /** Re-apply the service's MNIST framing (fit in 20x20, centre of mass at the centre). */
  reframe: boolean;
}

export const AUGMENT_NONE: AugmentConfig = {
  affineP: 0, rotateDeg: 0, scale: 0, shearDeg: 0, translatePx: 0,
  thicknessP: 0, thickenPx: 0, thinPx: 0,
  elasticP: 0, elasticPx: 0, elasticGridPx: 7,
  reframe: false,
};

export const AUGMENT_PRESETS: Record<string, AugmentConfig> = {
  none: AUGMENT_NONE,
  light: {
    affineP: 0.5, rotateDeg: 8, scale: 0.08, shearDeg: 8, translatePx: 1.5,
    thicknessP: 0.3, thickenPx: 1, thinPx: 0.3,
    elasticP: 0, elasticPx: 0, elasticGridPx: 7,
    reframe: true,
  },
  default: {
    affineP: 0.8, rotateDeg: 12, scale: 0.12, shearDeg: 12, translatePx: 2,
    thicknessP: 0.5, thickenPx: 1.5, thinPx: 0.5,
    elasticP: 0.3, elasticPx: 1.0, elasticGridPx: 7,
    reframe: true,
  },
  strong: {
    affineP: 0.9, rotateDeg: 20, scale: 0.2, shearDeg: 20, translatePx: 3,
    thicknessP: 0.7, thickenPx: 2.5, thinPx: 0.6,
    elasticP: 0.5, elasticPx: 1.5, elasticGridPx: 7,
    reframe: true,
  },
};

/** Flag names (`--aug-rotate 15`) mapped onto config fields, with the allowed range. */
/** The numeric fields of AugmentConfig (what an aug-* flag sets). */
export type NumericAugmentField = { [K in keyof AugmentConfig]: AugmentConfig[K] extends number ? K : never }[keyof AugmentConfig];

export const AUGMENT_FLAGS: Record<string, { field: NumericAugmentField; min: number; max: number; help: string }> = {
  'aug-affine-p': { field: 'affineP', min: 0, max: 1, help: 'probability of the random affine transform' },
  'aug-rotate': { field: 'rotateDeg', min: 0, max: 180, help: 'max rotation, degrees' },
  'aug-scale': { field: 'scale', min: 0, max: 1, help: 'max relative scale change (0.1 = 1/1.1..1.1)' },
  'aug-shear': { field: 'shearDeg', min: 0, max: 45, help: 'max shear (slant), degrees' },
  'aug-translate': { field: 'translatePx', min: 0, max: 8, help: 'max shift, pixels' },
  'aug-thickness-p': { field: 'thicknessP', min: 0, max: 1, help: 'probability of a stroke-thickness change' },
  'aug-thicken': { field: 'thickenPx', min: 0, max: 4, help: 'max dilation radius, pixels' },
  'aug-thin': { field: 'thinPx', min: 0, max: 2, help: 'max erosion radius, pixels' },
  'aug-elastic-p': { field: 'elasticP', min: 0, max: 1, help: 'probability of an elastic distortion' },
  'aug-elastic': { field: 'elasticPx', min: 0, max: 4, help: 'elastic displacement std, pixels' },
  'aug-elastic-grid': { field: 'elasticGridPx', min: 2, max: 28, help: 'elastic control-point spacing, pixels' },
};

/** True when the config changes nothing (lets the pipeline take the copy-only fast path). */
export function isIdentity(c: AugmentConfig): boolean {
  const affine = c.affineP > 0 && (c.rotateDeg > 0 || c.scale > 0 || c.shearDeg > 0 || c.translatePx > 0);
  const thickness = c.thicknessP > 0 && (c.thickenPx > 0 || c.thinPx > 0);
  const elastic = c.elasticP > 0 && c.elasticPx > 0;
  return !affine && !thickness && !elastic && !c.reframe;
}
