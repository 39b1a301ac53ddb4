// The big answer: the digit, its confidence (colour-coded) and how long it took.
import { html } from '../lib/html.js';
import { confidenceLevel, formatMs, percent } from '../lib/format.js';

/** @param {{ result: import('../lib/api-shapes.js').Prediction }} props */
export function PredictionSummary({ result }) {
  const level = confidenceLevel(result.confidence);
  return html`
    <div class="summary" aria-live="polite" aria-atomic="true">
      <div class="summary__digit" data-testid="predicted-digit" aria-label=${`Predicted digit ${result.digit}`}>${result.digit}</div>
      <div class="summary__meta">
        <span class=${`badge badge--${level}`} data-testid="confidence">${percent(result.confidence)} sure</span>
        <span class="muted small" title=${result.modelVersion ? `model ${result.modelVersion}` : undefined}>
          answered in ${formatMs(result.timings.totalMs)}
        </span>
        ${!result.logged && html`<span class="muted small">Not saved to history</span>`}
      </div>
      ${result.uncertain && html`
        <p class="summary__uncertain" data-testid="uncertain" role="status">
          <strong>${result.reason === 'not_a_digit' ? 'This may not be a digit.' : 'Not sure about this one.'}</strong>
          ${' '}${result.message ?? ''}
        </p>`}
    </div>
  `;
}
