// Renders strokes onto any 2D context (the on-screen canvas in theme colours, or the offscreen
// export canvas in black on white). Uses only the CanvasRenderingContext2D calls below, so a
// recording fake context can test it in Node.
import { smoothPath } from './smoothing.js';

/** The coordinate system pen widths are measured in: the 280x280 export (10x MNIST). */
export const EXPORT_SIZE = 280;

/** @typedef {{ width: number, points: import('./smoothing.js').Point[] }} Stroke */

/**
 * @param {CanvasRenderingContext2D} ctx
 * @param {Stroke[]} strokes
 * @param {{ size: number, ink: string, paper: string }} look  size: canvas side in device pixels
 */
export function drawStrokes(ctx, strokes, look) {
  const { size, ink, paper } = look;
  ctx.fillStyle = paper;
  ctx.fillRect(0, 0, size, size);
  ctx.strokeStyle = ink;
  ctx.fillStyle = ink;
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  for (const stroke of strokes) {
    const lineWidth = (stroke.width / EXPORT_SIZE) * size;
    ctx.lineWidth = lineWidth;
    const path = smoothPath(stroke.points);
    ctx.beginPath();
    for (const cmd of path) {
      if (cmd.op === 'dot') {
        ctx.arc(cmd.x * size, cmd.y * size, lineWidth / 2, 0, Math.PI * 2);
        ctx.fill();
      } else if (cmd.op === 'move') {
        ctx.moveTo(cmd.x * size, cmd.y * size);
      } else if (cmd.op === 'line') {
        ctx.lineTo(cmd.x * size, cmd.y * size);
      } else {
        ctx.quadraticCurveTo(cmd.cx * size, cmd.cy * size, cmd.x * size, cmd.y * size);
      }
    }
    if (path.length > 1) ctx.stroke();
  }
}

/**
 * The PNG the API gets for a drawing: 280x280, black ink on opaque white, whatever the theme.
 * (The service finds the polarity itself, but an unambiguous image is the safest contract.)
 * @param {Stroke[]} strokes
 * @returns {Promise<Blob>}
 */
export function exportStrokesPng(strokes) {
  const canvas = document.createElement('canvas');
  canvas.width = EXPORT_SIZE;
  canvas.height = EXPORT_SIZE;
  const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
  drawStrokes(ctx, strokes, { size: EXPORT_SIZE, ink: '#000000', paper: '#ffffff' });
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('canvas export failed'))), 'image/png');
  });
}
