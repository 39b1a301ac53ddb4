// The one place the UI's state lives. Components read it with useStore(selector) and change it
// only through the functions in actions.js.
import { createStore } from './store.js';
import { emptyFilters } from './history-query.js';

export const PAGE_SIZE = 12;
export const DEFAULT_PEN_WIDTH = 22; // in 280-px export units; MNIST strokes are ~2-3 px of 28

export function initialState() {
  return {
    /** @type {'predict' | 'history' | 'stats'} */
    view: 'predict',
    /** @type {import('./theme.js').ThemePreference} */
    theme: 'system',
    /** @type {'draw' | 'upload' | 'url'} */
    inputMode: 'draw',
    drawing: {
      /** @type {import('./draw-strokes.js').Stroke[]} */
      strokes: [],
      penWidth: DEFAULT_PEN_WIDTH,
    },
    upload: {
      /** @type {string | null} object URL of the picked image, for the preview */
      previewUrl: null,
      fileName: '',
    },
    prediction: {
      /** @type {'idle' | 'loading' | 'done' | 'error'} */
      status: 'idle',
      /** @type {import('./api-shapes.js').Prediction | null} */
      result: null,
      /** @type {import('./errors.js').ApiError | null} */
      error: null,
      /** @type {'canvas' | 'upload' | 'url' | null} */
      source: null,
    },
    feedback: {
      /** @type {number | null} the label stored for the current prediction */
      label: null,
      saving: false,
      /** @type {import('./errors.js').ApiError | null} */
      error: null,
    },
    history: {
      filters: emptyFilters(),
      /** @type {import('./api-shapes.js').HistoryItem[]} */
      items: [],
      total: 0,
      totalExact: true,
      /** cursors[i] opens page i (page 0 has none) */
      cursors: /** @type {(string | null)[]} */ ([null]),
      page: 0,
      /** @type {string | null} */
      nextCursor: null,
      loading: false,
      loaded: false,
      /** @type {import('./errors.js').ApiError | null} */
      error: null,
    },
    stats: {
      /** @type {import('./api-shapes.js').Stats | null} */
      data: null,
      /** @type {import('./api-shapes.js').ModelInfo | null} */
      model: null,
      loading: false,
      /** @type {import('./errors.js').ApiError | null} */
      error: null,
    },
    /** @type {{ id: number, text: string } | null} a short confirmation ("History cleared") */
    toast: null,
  };
}

/** @typedef {ReturnType<typeof initialState>} AppState */

export const store = createStore(initialState());
