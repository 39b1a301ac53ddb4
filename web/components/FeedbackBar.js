// Feedback: confirm the answer or pick the right digit (buttons, or type 0-9 anywhere).
import { html } from '../lib/html.js';
import { useStore } from '../lib/use-store.js';
import { sendFeedback } from '../lib/actions.js';
import { Icon } from './Icon.js';

export function FeedbackBar() {
  const result = useStore((s) => s.prediction.result);
  const { label, saving, error } = useStore((s) => s.feedback);
  if (!result) return null;
  const digits = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  return html`
    <div class="feedback" data-testid="feedback">
      <div class="feedback__head">
        <p class="feedback__question" id="feedback-q">${label === null ? 'Is this right?' : 'Thanks for the feedback'}</p>
        <p class="feedback__status small" role="status" data-testid="feedback-status">
          ${label === null
            ? html`<span class="muted">Wrong? Pick the right digit<span class="wide-only"> or type it</span></span>`
            : label === result.digit
              ? html`<span class="ok"><${Icon} name="check" size=${14} /> Confirmed as ${label}</span>`
              : html`<span class="corrected">Corrected to ${label}</span>`}
        </p>
      </div>
      <div class="feedback__row">
        <button type="button" class="btn btn--primary feedback__confirm" disabled=${saving}
          aria-pressed=${label === result.digit ? 'true' : 'false'} onClick=${() => sendFeedback(result.digit)}>
          <${Icon} name="check" size=${16} /> Yes, it’s ${result.digit}
        </button>
        <div class="digit-picker" role="group" aria-labelledby="feedback-q" aria-label="Or pick the right digit">
          ${digits.map(
            (d) => html`<button type="button" class="digit-picker__btn" disabled=${saving}
              aria-pressed=${label === d ? 'true' : 'false'} aria-label=${`It’s a ${d}`} aria-keyshortcuts=${String(d)}
              data-digit=${d} onClick=${() => sendFeedback(d)}>${d}</button>`,
          )}
        </div>
      </div>
      ${error && html`<p class="feedback__error small" role="alert">${error.title} ${error.detail}</p>`}
    </div>
  `;
}
