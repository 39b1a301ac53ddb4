// Draw / Upload / Link tabs (WAI-ARIA tabs: arrow keys move and select).
import { html } from '../lib/html.js';
import { useStore } from '../lib/use-store.js';
import { setInputMode } from '../lib/actions.js';
import { Icon } from './Icon.js';

const MODES = /** @type {const} */ ([
  { id: 'draw', label: 'Draw', icon: 'pen' },
  { id: 'upload', label: 'Upload', icon: 'upload' },
  { id: 'url', label: 'Link', icon: 'link' },
]);

export function InputTabs() {
  const mode = useStore((s) => s.inputMode);
  /** @param {KeyboardEvent} event */
  const onKeyDown = (event) => {
    const i = MODES.findIndex((m) => m.id === mode);
    const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
    if (!step) return;
    event.preventDefault();
    const next = MODES[(i + step + MODES.length) % MODES.length].id;
    setInputMode(next);
    requestAnimationFrame(() => document.getElementById(`tab-${next}`)?.focus());
  };
  return html`
    <div class="tabs" role="tablist" aria-label="How to give a digit" onKeyDown=${onKeyDown}>
      ${MODES.map(
        (m) => html`<button type="button" role="tab" id=${`tab-${m.id}`} class="tabs__tab"
          aria-selected=${mode === m.id ? 'true' : 'false'} aria-controls=${`panel-${m.id}`}
          tabindex=${mode === m.id ? 0 : -1} onClick=${() => setInputMode(m.id)}>
          <${Icon} name=${m.icon} size=${16} /> ${m.label}
        </button>`,
      )}
    </div>
  `;
}
