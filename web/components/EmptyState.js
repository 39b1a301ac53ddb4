// A friendly placeholder for an empty list or chart.
import { html } from '../lib/html.js';
import { Icon } from './Icon.js';

/** @param {{ title: string, text: string, icon?: string }} props */
export function EmptyState({ title, text, icon = 'grid' }) {
  return html`<div class="empty" data-testid="empty">
    <span class="empty__icon" aria-hidden="true"><${Icon} name=${icon} size=${28} /></span>
    <p class="empty__title">${title}</p>
    <p class="muted">${text}</p>
  </div>`;
}
