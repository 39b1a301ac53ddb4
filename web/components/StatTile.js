// One headline number with its label and a note below.
import { html } from '../lib/html.js';

/** @param {{ label: string, value: string, note?: string, testid?: string }} props */
export function StatTile({ label, value, note = '', testid }) {
  return html`<div class="tile card" data-testid=${testid}>
    <p class="tile__label">${label}</p>
    <p class="tile__value">${value}</p>
    <p class="tile__note muted small">${note || '\u00a0'}</p>
  </div>`;
}
