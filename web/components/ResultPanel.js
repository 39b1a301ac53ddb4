// The answer side of the Predict view: a hint before anything is given, the error in plain
// words, or the prediction with its probabilities, what the model saw and the feedback bar.
import { html } from '../lib/html.js';
import { useStore } from '../lib/use-store.js';
import { Notice } from './Notice.js';
import { PredictionSummary } from './PredictionSummary.js';
import { ProbabilityBars } from './ProbabilityBars.js';
import { ModelInput } from './ModelInput.js';
import { FeedbackBar } from './FeedbackBar.js';
import { Icon } from './Icon.js';

function Hint() {
  const mode = useStore((s) => s.inputMode);
  const text = {
    draw: 'Draw a digit from 0 to 9. The prediction appears as you draw.',
    upload: 'Choose, drop or paste a picture of a digit.',
    url: 'Paste the address of a picture of a digit.',
  }[mode];
  return html`<div class="hint" data-testid="hint">
    <span class="hint__icon" aria-hidden="true"><${Icon} name="sparkle" size=${28} /></span>
    <p class="hint__title">No digit yet</p>
    <p class="hint__text">${text}</p>
    <p class="hint__keys muted small"><kbd>C</kbd> clear · <kbd>Z</kbd> undo · <kbd>0</kbd>–<kbd>9</kbd> correct the answer</p>
  </div>`;
}

export function ResultPanel() {
  const prediction = useStore((s) => s.prediction);
  const { status, result, error } = prediction;
  const busy = status === 'loading';
  return html`
    <section class="card result" aria-labelledby="result-title" aria-busy=${busy ? 'true' : 'false'} data-testid="result">
      <h2 id="result-title" class="card__title">Prediction</h2>
      ${status === 'idle' && html`<${Hint} />`}
      ${status === 'error' && error && html`<${Notice} error=${error} tone=${error.code === 'no_digit' ? 'info' : 'error'} />`}
      ${busy && !result && html`<div class="result__loading" role="status"><span class="spinner" aria-hidden="true"></span>Reading your digit…</div>`}
      ${result && status !== 'error' && status !== 'idle' && html`
        <div class=${`result__body${busy ? ' result__body--stale' : ''}`}>
          <div class="result__top">
            <${PredictionSummary} result=${result} />
            <${ModelInput} src=${result.input} digit=${result.digit} />
          </div>
          <${ProbabilityBars} probabilities=${result.probabilities} digit=${result.digit} />
          <${FeedbackBar} />
        </div>`}
    </section>
  `;
}
