// Stroke smoothing. Points are stored in normalised canvas coordinates (0..1) so a drawing
// renders the same on a 300 px phone canvas, a 2x retina canvas and the 280x280 PNG sent to
// the API. The curve is the classic "quadratic through midpoints": each sampled point is a
// control point and the curve passes through the midpoints between consecutive samples, which
// gives a C1-continuous path with no overshoot (unlike Catmull-Rom) and costs nothing.

/** @typedef {{ x: number, y: number }} Point */
/**
 * @typedef {{ op: 'dot', x: number, y: number }
 *   | { op: 'move', x: number, y: number }
 *   | { op: 'line', x: number, y: number }
 *   | { op: 'quad', cx: number, cy: number, x: number, y: number }} PathCommand
 */

/**
 * Append `point` unless it is closer than `minDistance` to the last kept point (pointer events
 * fire many times per pixel on fast devices; near-duplicates only add jitter).
 * Returns a new array; the input is not changed.
 * @param {Point[]} points @param {Point} point @param {number} minDistance
 */
export function appendPoint(points, point, minDistance) {
  const last = points[points.length - 1];
  if (last && Math.hypot(point.x - last.x, point.y - last.y) < minDistance) return points;
  return [...points, point];
}

/**
 * Light exponential smoothing of raw pointer input to take out hand and digitiser jitter:
 * the kept point moves `alpha` of the way from the previous kept point to the new sample.
 * alpha = 1 keeps the raw sample.
 * @param {Point | undefined} previous @param {Point} sample @param {number} alpha
 * @returns {Point}
 */
export function stabilise(previous, sample, alpha) {
  if (!previous) return sample;
  return { x: previous.x + (sample.x - previous.x) * alpha, y: previous.y + (sample.y - previous.y) * alpha };
}

/**
 * The path through `points`: a dot for one point, a line for two, otherwise a line to the first
 * midpoint, quadratic curves from midpoint to midpoint (control = the sample between them), and
 * a line to the last sample so the stroke ends where the pen lifted.
 * @param {Point[]} points
 * @returns {PathCommand[]}
 */
export function smoothPath(points) {
  if (points.length === 0) return [];
  const first = points[0];
  if (points.length === 1) return [{ op: 'dot', x: first.x, y: first.y }];
  /** @type {PathCommand[]} */
  const path = [{ op: 'move', x: first.x, y: first.y }];
  if (points.length === 2) {
    path.push({ op: 'line', x: points[1].x, y: points[1].y });
    return path;
  }
  const mid = (/** @type {Point} */ a, /** @type {Point} */ b) => ({ x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 });
  const m0 = mid(points[0], points[1]);
  path.push({ op: 'line', x: m0.x, y: m0.y });
  for (let i = 1; i < points.length - 1; i++) {
    const m = mid(points[i], points[i + 1]);
    path.push({ op: 'quad', cx: points[i].x, cy: points[i].y, x: m.x, y: m.y });
  }
  const last = points[points.length - 1];
  path.push({ op: 'line', x: last.x, y: last.y });
  return path;
}
