// A short confirmation at the bottom of the screen, announced politely to screen readers.
import { html } from '../lib/html.js';
import { useStore } from '../lib/use-store.js';
import { Icon } from './Icon.js';

export function Toast() {
  const toast = useStore((s) => s.toast);
  return html`<div class="toast-region" role="status" aria-live="polite">
    ${toast && html`<div class="toast" key=${toast.id}><${Icon} name="check" size=${16} />${toast.text}</div>`}
  </div>`;
}
