// An error (or "no digit found") message in plain words; announced by screen readers.
import { html } from '../lib/html.js';
import { Icon } from './Icon.js';

/** @param {{ error: { title: string, detail: string }, tone?: 'error' | 'info' }} props */
export function Notice({ error, tone = 'error' }) {
  return html`<div class=${`notice notice--${tone}`} role=${tone === 'error' ? 'alert' : 'status'} data-testid="notice">
    <${Icon} name=${tone === 'error' ? 'alert' : 'sparkle'} size=${20} />
    <div><p class="notice__title">${error.title}</p><p class="notice__detail">${error.detail}</p></div>
  </div>`;
}
