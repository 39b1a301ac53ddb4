// The page: header, the current view, the toast; global keyboard shortcuts and paste.
import { html } from '../lib/html.js';
import { useEffect } from 'preact/hooks';
import { useStore } from '../lib/use-store.js';
import { store } from '../lib/state.js';
import { shortcutFor } from '../lib/shortcuts.js';
import { clearDrawing, undoStroke, sendFeedback, predictFile, predictUrl } from '../lib/actions.js';
import { AppHeader } from './AppHeader.js';
import { PredictView } from './PredictView.js';
import { HistoryView } from './HistoryView.js';
import { StatsView } from './StatsView.js';
import { Toast } from './Toast.js';

/** @param {KeyboardEvent} event */
function onKeyDown(event) {
  const state = store.get();
  if (state.view !== 'predict' || event.defaultPrevented) return;
  if (document.querySelector('dialog[open]')) return;
  const shortcut = shortcutFor(event);
  if (!shortcut) return;
  if (shortcut.type === 'label') {
    if (state.prediction.status !== 'done') return;
    event.preventDefault();
    void sendFeedback(shortcut.digit);
  } else if (state.inputMode === 'draw') {
    event.preventDefault();
    if (shortcut.type === 'clear') clearDrawing();
    else undoStroke();
  }
}

/** Paste an image (or an image address) anywhere on the Predict view to classify it. */
function onPaste(/** @type {ClipboardEvent} */ event) {
  if (store.get().view !== 'predict') return;
  const target = /** @type {HTMLElement | null} */ (event.target);
  if (target && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA')) return;
  const data = event.clipboardData;
  if (!data) return;
  const file = [...data.files].find((f) => f.type.startsWith('image/'));
  if (file) {
    event.preventDefault();
    void predictFile(file);
    return;
  }
  const text = data.getData('text/plain').trim();
  if (/^https?:\/\//i.test(text)) {
    event.preventDefault();
    void predictUrl(text);
  }
}

export function App() {
  const view = useStore((s) => s.view);
  useEffect(() => {
    window.addEventListener('keydown', onKeyDown);
    window.addEventListener('paste', onPaste);
    return () => {
      window.removeEventListener('keydown', onKeyDown);
      window.removeEventListener('paste', onPaste);
    };
  }, []);
  return html`
    <a class="skip-link" href="#main">Skip to content</a>
    <${AppHeader} />
    <main id="main" class="main" tabindex="-1">
      ${view === 'predict' && html`<${PredictView} />`}
      ${view === 'history' && html`<${HistoryView} />`}
      ${view === 'stats' && html`<${StatsView} />`}
    </main>
    <${Toast} />
  `;
}
