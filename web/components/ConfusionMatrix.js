// The confusion matrix as a heat map: rows are the true label (from feedback), columns the
// predicted digit. Cell shade = count / the largest count; the diagonal (right answers) is in
// the accent colour, mistakes in red. A real <table>, so screen readers can walk it.
import { html } from '../lib/html.js';
import { EmptyState } from './EmptyState.js';

/** @param {{ matrix: number[][] }} props */
export function ConfusionMatrix({ matrix }) {
  const max = Math.max(0, ...matrix.flat());
  if (max === 0) {
    return html`<${EmptyState} title="No feedback yet" text="Confirm or correct a few predictions and the matrix fills in." />`;
  }
  const digits = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  return html`
    <div class="matrix-wrap">
      <table class="matrix" data-testid="confusion-matrix">
        <caption class="visually-hidden">Confusion matrix: rows are the true digit, columns the predicted digit</caption>
        <thead>
          <tr><th scope="col" class="matrix__corner"><span class="small muted">true ↓ / predicted →</span></th>
            ${digits.map((d) => html`<th scope="col">${d}</th>`)}</tr>
        </thead>
        <tbody>
          ${matrix.map(
            (row, t) => html`<tr>
              <th scope="row">${t}</th>
              ${row.map((count, p) => {
                const kind = count === 0 ? 'zero' : t === p ? 'hit' : 'miss';
                return html`<td class=${`matrix__cell matrix__cell--${kind}`} style=${{ '--v': count / max }}
                  title=${`true ${t}, predicted ${p}: ${count}`}>${count || ''}</td>`;
              })}
            </tr>`,
          )}
        </tbody>
      </table>
    </div>
  `;
}
