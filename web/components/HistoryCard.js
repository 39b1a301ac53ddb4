// One prediction in the history: thumbnail, digit, confidence, source, time, feedback, delete.
import { html } from '../lib/html.js';
import { confidenceLevel, percent, relativeTime, sourceLabel } from '../lib/format.js';
import { deleteHistoryItem } from '../lib/actions.js';
import { Icon } from './Icon.js';

/** @param {{ item: import('../lib/api-shapes.js').HistoryItem }} props */
export function HistoryCard({ item }) {
  const level = confidenceLevel(item.confidence);
  const when = item.createdAt ? new Date(item.createdAt) : null;
  const time = when ? relativeTime(when) : '';
  const verdict = item.label === null ? 'unlabelled' : item.label === item.digit ? 'correct' : 'incorrect';
  const thumb = item.thumbnail || item.input;
  return html`
    <li class=${`hcard hcard--${verdict}`} data-testid="history-item" data-id=${item.id} data-digit=${item.digit}
      data-confidence=${item.confidence}>
      <div class="hcard__thumb">
        ${thumb ? html`<img src=${thumb} alt="" class=${item.thumbnail ? '' : 'pixelated'} />` : html`<${Icon} name="image" size=${24} />`}
      </div>
      <div class="hcard__body">
        <div class="hcard__top">
          <span class="hcard__digit" aria-label=${`Predicted ${item.digit}`}>${item.digit}</span>
          <span class=${`badge badge--${level}`}>${percent(item.confidence)}</span>
        </div>
        <div class="hcard__meta small muted">
          <span>${sourceLabel(item.source)}</span>
          ${time && html`<span aria-hidden="true">·</span><time datetime=${when?.toISOString()} title=${when?.toLocaleString()}>${time}</time>`}
        </div>
        <div class="hcard__verdict small" data-testid="history-verdict">
          ${verdict === 'unlabelled' && html`<span class="muted">No feedback</span>`}
          ${verdict === 'correct' && html`<span class="ok"><${Icon} name="check" size=${14} /> Correct</span>`}
          ${verdict === 'incorrect' && html`<span class="corrected"><${Icon} name="x" size=${14} /> Actually ${item.label}</span>`}
        </div>
      </div>
      <button type="button" class="icon-btn hcard__delete" onClick=${() => deleteHistoryItem(item.id)}
        aria-label=${`Delete the prediction ${item.digit}${time ? ` from ${time}` : ''}`} title="Delete">
        <${Icon} name="trash" size=${16} />
      </button>
    </li>
  `;
}
