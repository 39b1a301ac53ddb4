// Everything that changes the state, in one file: user intents in, store updates and API calls
// out. Components call these and never touch the store's setters themselves.
import { store, PAGE_SIZE } from './state.js';
import { api } from './api.js';
import { ApiError, MAX_UPLOAD_BYTES, fileTooLargeError } from './errors.js';
import { exportStrokesPng } from './draw-strokes.js';
import { debounce } from './debounce.js';
import { historyQuery } from './history-query.js';
import { applyThemePreference, saveThemePreference } from './theme.js';

/** @typedef {import('./draw-strokes.js').Stroke} Stroke */

// ---- navigation and settings -------------------------------------------------------------

/** @param {'predict' | 'history' | 'stats'} view */
export function setView(view) {
  store.set({ view });
  // Reloaded on every visit (new predictions, other tabs); the old page stays shown meanwhile.
  if (view === 'history') void loadHistory();
  if (view === 'stats') void loadStats();
}

/** @param {'draw' | 'upload' | 'url'} mode */
export function setInputMode(mode) {
  store.set({ inputMode: mode });
}

/** @param {import('./theme.js').ThemePreference} pref */
export function setTheme(pref) {
  applyThemePreference(document.documentElement, pref); // first: the canvas re-reads its colours on the store change
  saveThemePreference(globalThis.localStorage, pref);
  store.set({ theme: pref });
}

/** @param {number} width */
export function setPenWidth(width) {
  store.setSlice('drawing', { penWidth: width });
}

let toastTimer = /** @type {ReturnType<typeof setTimeout> | undefined} */ (undefined);
/** @param {string} text */
export function showToast(text) {
  clearTimeout(toastTimer);
  store.set({ toast: { id: Date.now(), text } });
  toastTimer = setTimeout(() => store.set({ toast: null }), 2600);
}

// ---- predictions ---------------------------------------------------------------------------

// Every request gets a number; only the answer to the newest is shown (answers can overtake).
let requestSeq = 0;
// While drawing, each pause yields a prediction for the drawing so far. Only the latest one for
// the drawing on screen is kept in history: a newer prediction of the same drawing replaces the
// previous one (deleted on the service) unless that one was given feedback.
/** @type {string | null} */
let drawingPredictionId = null;

/** @param {string | null} id */
function discardPrediction(id) {
  if (id) api.deletePrediction(id).catch(() => {}); // best effort: it only tidies history
}

/** @param {import('./api-shapes.js').Prediction} result @param {'canvas' | 'upload' | 'url'} source */
function showResult(result, source) {
  store.setSlice('prediction', { status: 'done', result, error: null, source });
  store.setSlice('feedback', { label: null, saving: false, error: null });
  store.setSlice('history', { loaded: false });
}

/** @param {unknown} error @param {'canvas' | 'upload' | 'url'} source */
function showError(error, source) {
  const apiError =
    error instanceof ApiError
      ? error
      : new ApiError({ title: 'Something went wrong.', detail: String(error instanceof Error ? error.message : error), status: 0, code: 'client' });
  store.setSlice('prediction', { status: 'error', result: null, error: apiError, source });
  store.setSlice('feedback', { label: null, saving: false, error: null });
}

/** @param {'canvas' | 'upload' | 'url'} source */
function startRequest(source) {
  const seq = ++requestSeq;
  store.setSlice('prediction', { status: 'loading', error: null, source });
  return seq;
}

/** @param {Stroke[]} strokes */
async function predictDrawing(strokes) {
  const seq = startRequest('canvas');
  try {
    const blob = await exportStrokesPng(strokes);
    const result = await api.predictImage(blob, 'canvas');
    if (seq !== requestSeq) {
      // A newer drawing state was sent meanwhile: this answer is already out of date.
      if (result.logged) discardPrediction(result.id);
      return;
    }
    if (drawingPredictionId && drawingPredictionId !== result.id) discardPrediction(drawingPredictionId);
    drawingPredictionId = result.logged ? result.id : null;
    showResult(result, 'canvas');
  } catch (error) {
    if (seq === requestSeq) showError(error, 'canvas');
  }
}

const predictDrawingSoon = debounce(predictDrawing, 250);

/**
 * The drawing changed (a stroke added or removed, or a pause mid-stroke): predict again after a
 * short pause, or go back to the hint when the canvas is empty.
 * @param {Stroke[]} strokes
 */
export function drawingChanged(strokes) {
  if (strokes.length === 0) {
    predictDrawingSoon.cancel();
    requestSeq++; // drop any answer still on its way
    drawingPredictionId = null; // the last prediction of the old drawing stays in history
    store.setSlice('prediction', { status: 'idle', result: null, error: null, source: 'canvas' });
    store.setSlice('feedback', { label: null, saving: false, error: null });
    return;
  }
  predictDrawingSoon(strokes);
}

/** @param {Stroke} stroke */
export function addStroke(stroke) {
  const strokes = [...store.get().drawing.strokes, stroke];
  store.setSlice('drawing', { strokes });
  drawingChanged(strokes);
}

export function undoStroke() {
  const current = store.get().drawing.strokes;
  if (current.length === 0) return;
  const strokes = current.slice(0, -1);
  // Undoing the only stroke takes the drawing back: its prediction goes too (unless labelled).
  if (strokes.length === 0) {
    discardPrediction(drawingPredictionId);
    drawingPredictionId = null;
  }
  store.setSlice('drawing', { strokes });
  drawingChanged(strokes);
}

/** Clear the canvas and the answer shown (the last prediction stays in history). */
export function clearDrawing() {
  store.setSlice('drawing', { strokes: [] });
  drawingChanged([]);
}

/** @param {File} file */
export async function predictFile(file) {
  store.set({ inputMode: 'upload' });
  const old = store.get().upload.previewUrl;
  if (old) URL.revokeObjectURL(old);
  store.setSlice('upload', { previewUrl: URL.createObjectURL(file), fileName: file.name || 'pasted image' });
  drawingPredictionId = null;
  if (file.type && !file.type.startsWith('image/')) {
    requestSeq++;
    showError(new ApiError({ title: 'That file isn’t an image.', detail: 'Pick a PNG, JPEG, WebP or GIF.', status: 415, code: 'unsupported_type' }), 'upload');
    return;
  }
  if (file.size > MAX_UPLOAD_BYTES) {
    requestSeq++;
    showError(fileTooLargeError(file.size), 'upload');
    return;
  }
  const seq = startRequest('upload');
  try {
    const result = await api.predictImage(file, 'upload');
    if (seq === requestSeq) showResult(result, 'upload');
  } catch (error) {
    if (seq === requestSeq) showError(error, 'upload');
  }
}

/** @param {string} url */
export async function predictUrl(url) {
  store.set({ inputMode: 'url' });
  drawingPredictionId = null;
  const trimmed = url.trim();
  if (!/^https?:\/\/\S+$/i.test(trimmed)) {
    requestSeq++;
    showError(new ApiError({ title: 'That isn’t a web address.', detail: 'Paste a link that starts with http:// or https://.', status: 400, code: 'bad_url' }), 'url');
    return;
  }
  const seq = startRequest('url');
  try {
    const result = await api.predictUrl(trimmed);
    if (seq === requestSeq) showResult(result, 'url');
  } catch (error) {
    if (seq === requestSeq) showError(error, 'url');
  }
}

// ---- feedback ------------------------------------------------------------------------------

/** @param {number} label 0..9 */
export async function sendFeedback(label) {
  const { prediction, feedback } = store.get();
  const result = prediction.result;
  if (prediction.status !== 'done' || !result || feedback.saving) return;
  if (!result.logged) {
    store.setSlice('feedback', {
      error: new ApiError({ title: 'This prediction wasn’t saved,', detail: 'so it can’t be labelled. Try again in a moment.', status: 0, code: 'not_logged' }),
    });
    return;
  }
  store.setSlice('feedback', { saving: true, error: null });
  try {
    await api.setFeedback(result.id, label);
    if (store.get().prediction.result?.id !== result.id) return;
    if (drawingPredictionId === result.id) drawingPredictionId = null; // labelled: keep it
    store.setSlice('feedback', { label, saving: false, error: null });
    store.setSlice('history', { loaded: false });
  } catch (error) {
    store.setSlice('feedback', { saving: false, error: error instanceof ApiError ? error : null });
  }
}

// ---- history -------------------------------------------------------------------------------

let historySeq = 0;

export async function loadHistory() {
  const seq = ++historySeq;
  const { filters, cursors, page } = store.get().history;
  store.setSlice('history', { loading: true, error: null });
  try {
    const result = await api.listPredictions(historyQuery(filters, cursors[page] ?? null, PAGE_SIZE));
    if (seq !== historySeq) return;
    if (result.items.length === 0 && page > 0) {
      // The page emptied (deleted from another tab, or its last card): step back one.
      store.setSlice('history', { page: page - 1, loading: false });
      return loadHistory();
    }
    store.setSlice('history', { items: result.items, total: result.total, totalExact: result.totalExact, nextCursor: result.nextCursor, loading: false, loaded: true });
  } catch (error) {
    if (seq !== historySeq) return;
    store.setSlice('history', { loading: false, loaded: true, error: error instanceof ApiError ? error : null });
  }
}

/** @param {Partial<import('./history-query.js').HistoryFilters>} patch */
export function setHistoryFilters(patch) {
  store.setSlice('history', (h) => ({ filters: { ...h.filters, ...patch }, cursors: [null], page: 0 }));
  void loadHistory();
}

export function nextHistoryPage() {
  const { nextCursor, page, cursors } = store.get().history;
  if (!nextCursor) return;
  store.setSlice('history', { cursors: [...cursors.slice(0, page + 1), nextCursor], page: page + 1 });
  void loadHistory();
}

export function previousHistoryPage() {
  const { page } = store.get().history;
  if (page === 0) return;
  store.setSlice('history', { page: page - 1 });
  void loadHistory();
}

/** @param {string} id */
export async function deleteHistoryItem(id) {
  try {
    await api.deletePrediction(id);
    if (drawingPredictionId === id) drawingPredictionId = null;
    const current = store.get().prediction.result;
    if (current?.id === id) store.setSlice('prediction', { result: { ...current, logged: false } });
    showToast('Prediction deleted');
  } catch (error) {
    store.setSlice('history', { error: error instanceof ApiError ? error : null });
    return;
  }
  await loadHistory();
}

export async function clearHistory() {
  try {
    await api.clearPredictions();
  } catch (error) {
    store.setSlice('history', { error: error instanceof ApiError ? error : null });
    return;
  }
  drawingPredictionId = null;
  const current = store.get().prediction.result;
  if (current) store.setSlice('prediction', { result: { ...current, logged: false } });
  store.setSlice('history', { items: [], total: 0, cursors: [null], page: 0, nextCursor: null, loaded: true, error: null });
  showToast('History cleared');
}

// ---- stats ---------------------------------------------------------------------------------

export async function loadStats() {
  store.setSlice('stats', { loading: true, error: null });
  const [stats, model] = await Promise.allSettled([api.stats(), api.model()]);
  store.setSlice('stats', {
    loading: false,
    data: stats.status === 'fulfilled' ? stats.value : store.get().stats.data,
    model: model.status === 'fulfilled' ? model.value : store.get().stats.model,
    error: stats.status === 'rejected' && stats.reason instanceof ApiError ? stats.reason : model.status === 'rejected' && model.reason instanceof ApiError ? model.reason : null,
  });
}
