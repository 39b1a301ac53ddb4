// The view switcher: Predict / History / Stats (buttons with aria-current, not a router).
import { html } from '../lib/html.js';
import { useStore } from '../lib/use-store.js';
import { setView } from '../lib/actions.js';
import { Icon } from './Icon.js';

const VIEWS = /** @type {const} */ ([
  { id: 'predict', label: 'Predict', icon: 'pen' },
  { id: 'history', label: 'History', icon: 'history' },
  { id: 'stats', label: 'Stats', icon: 'chart' },
]);

export function NavTabs() {
  const view = useStore((s) => s.view);
  return html`
    <nav class="nav" aria-label="Views">
      ${VIEWS.map(
        (v) => html`<button type="button" class="nav__tab" aria-current=${view === v.id ? 'page' : undefined}
          data-view=${v.id} onClick=${() => setView(v.id)}>
          <${Icon} name=${v.icon} /><span>${v.label}</span>
        </button>`,
      )}
    </nav>
  `;
}
