// All ten probabilities as horizontal bars, the predicted digit highlighted. Each row is one
// list item with its value spelled out for screen readers.
import { html } from '../lib/html.js';
import { percent } from '../lib/format.js';

/** @param {{ probabilities: number[], digit: number }} props */
export function ProbabilityBars({ probabilities, digit }) {
  return html`
    <ol class="bars" aria-label="Probability of each digit" data-testid="probabilities">
      ${probabilities.map(
        (p, d) => html`<li class=${`bars__row${d === digit ? ' bars__row--top' : ''}`} aria-label=${`${d}: ${percent(p)}`}>
          <span class="bars__digit" aria-hidden="true">${d}</span>
          <span class="bars__track" aria-hidden="true"><span class="bars__fill" style=${{ '--p': Math.max(0, Math.min(1, p)) }}></span></span>
          <span class="bars__value" aria-hidden="true">${percent(p)}</span>
        </li>`,
      )}
    </ol>
  `;
}
