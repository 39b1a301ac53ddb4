// The drawing canvas and its toolbar. Strokes are kept as normalised points (see smoothing.js)
// and the whole drawing is re-rendered from them, which makes undo, resizing and theme changes
// trivial. The stroke being drawn lives in a ref until the pen lifts; pauses mid-stroke still
// trigger a (debounced) prediction.
import { html } from '../lib/html.js';
import { useEffect, useRef } from 'preact/hooks';
import { useStore } from '../lib/use-store.js';
import { addStroke, drawingChanged, clearDrawing, undoStroke, setPenWidth } from '../lib/actions.js';
import { appendPoint, stabilise } from '../lib/smoothing.js';
import { drawStrokes } from '../lib/draw-strokes.js';
import { Icon } from './Icon.js';

const MIN_POINT_DISTANCE = 0.004; // about 1 px of the 280 px export
const STABILISE_ALPHA = 0.65;

/** @param {HTMLCanvasElement} canvas */
function inkColours(canvas) {
  const style = getComputedStyle(canvas);
  return { ink: style.getPropertyValue('--ink').trim() || '#111', paper: style.getPropertyValue('--paper').trim() || '#fff' };
}

export function DrawPad() {
  const { strokes, penWidth } = useStore((s) => s.drawing);
  const theme = useStore((s) => s.theme);
  const canvasRef = useRef(/** @type {HTMLCanvasElement | null} */ (null));
  /** @type {{ current: import('../lib/draw-strokes.js').Stroke | null }} */
  const active = useRef(null);
  const pointerId = useRef(/** @type {number | null} */ (null));
  const strokesRef = useRef(strokes);
  strokesRef.current = strokes;

  const render = () => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    const all = active.current ? [...strokesRef.current, active.current] : strokesRef.current;
    drawStrokes(ctx, all, { size: canvas.width, ...inkColours(canvas) });
  };

  // Keep the backing store at the displayed size times the device pixel ratio (sharp on
  // retina screens), and redraw when the size, the strokes or the theme change.
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const resize = () => {
      const px = Math.max(1, Math.round(canvas.clientWidth * (window.devicePixelRatio || 1)));
      if (canvas.width !== px) {
        canvas.width = px;
        canvas.height = px;
      }
      render();
    };
    resize();
    const observer = new ResizeObserver(resize);
    observer.observe(canvas);
    const media = matchMedia('(prefers-color-scheme: dark)');
    media.addEventListener('change', render);
    return () => {
      observer.disconnect();
      media.removeEventListener('change', render);
    };
  }, []);
  useEffect(render, [strokes, theme]);

  /** @param {PointerEvent} event */
  const pointFrom = (event) => {
    const rect = /** @type {HTMLCanvasElement} */ (canvasRef.current).getBoundingClientRect();
    return {
      x: Math.min(1, Math.max(0, (event.clientX - rect.left) / rect.width)),
      y: Math.min(1, Math.max(0, (event.clientY - rect.top) / rect.height)),
    };
  };

  /** @param {PointerEvent} event */
  const onPointerDown = (event) => {
    if (event.button !== 0 || pointerId.current !== null) return;
    event.preventDefault();
    /** @type {HTMLCanvasElement} */ (event.currentTarget).setPointerCapture(event.pointerId);
    pointerId.current = event.pointerId;
    active.current = { width: penWidth, points: [pointFrom(event)] };
    render();
  };

  /** @param {PointerEvent} event */
  const onPointerMove = (event) => {
    const stroke = active.current;
    if (!stroke || event.pointerId !== pointerId.current) return;
    // Coalesced events carry every sample the hardware produced between two frames.
    const samples = event.getCoalescedEvents?.() ?? [];
    let points = stroke.points;
    for (const sample of samples.length ? samples : [event]) {
      points = appendPoint(points, stabilise(points[points.length - 1], pointFrom(sample), STABILISE_ALPHA), MIN_POINT_DISTANCE);
    }
    if (points === stroke.points) return;
    active.current = { ...stroke, points };
    render();
    drawingChanged([...strokesRef.current, active.current]);
  };

  /** @param {PointerEvent} event */
  const onPointerUp = (event) => {
    if (event.pointerId !== pointerId.current) return;
    const stroke = active.current;
    active.current = null;
    pointerId.current = null;
    if (stroke) {
      // End exactly where the pen lifted (the stabiliser lags the pointer slightly).
      const end = pointFrom(event);
      addStroke({ ...stroke, points: appendPoint(stroke.points, end, MIN_POINT_DISTANCE / 2) });
    }
  };

  const empty = strokes.length === 0;
  return html`
    <div class="drawpad">
      <div class="drawpad__surface">
        <canvas ref=${canvasRef} class="drawpad__canvas" data-testid="draw-canvas" role="img"
          aria-label="Drawing area. Draw one digit with a mouse, pen or finger; the prediction updates as you draw."
          onPointerDown=${onPointerDown} onPointerMove=${onPointerMove} onPointerUp=${onPointerUp}
          onPointerCancel=${onPointerUp}></canvas>
        ${empty && html`<p class="drawpad__placeholder" aria-hidden="true">Draw a digit here</p>`}
      </div>
      <div class="drawpad__toolbar">
        <label class="pen-width">
          <span class="pen-width__label">Pen</span>
          <input type="range" min="10" max="40" step="1" value=${penWidth} aria-label="Pen width"
            aria-valuetext=${`${penWidth} pixels`}
            onInput=${(/** @type {Event} */ e) => setPenWidth(Number(/** @type {HTMLInputElement} */ (e.currentTarget).value))} />
          <span class="pen-width__preview" aria-hidden="true"><span class="pen-width__dot" style=${{ '--pen': penWidth }}></span></span>
        </label>
        <div class="drawpad__actions">
          <button type="button" class="btn btn--ghost" onClick=${undoStroke} disabled=${empty}
            aria-keyshortcuts="Z" title="Undo last stroke (Z)"><${Icon} name="undo" size=${16} />Undo</button>
          <button type="button" class="btn btn--ghost" onClick=${clearDrawing} disabled=${empty}
            aria-keyshortcuts="C" title="Clear the canvas (C)"><${Icon} name="eraser" size=${16} />Clear</button>
        </div>
      </div>
    </div>
  `;
}
