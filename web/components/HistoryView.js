// History: filters, the cards of this browser's predictions, pagination, clear all.
import { html } from '../lib/html.js';
import { useState } from 'preact/hooks';
import { useStore } from '../lib/use-store.js';
import { clearHistory } from '../lib/actions.js';
import { hasActiveFilters } from '../lib/history-query.js';
import { formatCount } from '../lib/format.js';
import { HistoryFilters } from './HistoryFilters.js';
import { HistoryCard } from './HistoryCard.js';
import { Pagination } from './Pagination.js';
import { ConfirmDialog } from './ConfirmDialog.js';
import { Notice } from './Notice.js';
import { EmptyState } from './EmptyState.js';
import { Icon } from './Icon.js';

export function HistoryView() {
  const history = useStore((s) => s.history);
  const [confirming, setConfirming] = useState(false);
  const filtered = hasActiveFilters(history.filters);
  const countText = `${formatCount(history.total)}${history.totalExact === false ? '+' : ''} ${history.total === 1 ? 'prediction' : 'predictions'}${filtered ? ' match' : ''}`;
  return html`
    <section class="history" aria-labelledby="history-title">
      <div class="view-head">
        <div>
          <h1 id="history-title" class="view-head__title">History</h1>
          <p class="muted" data-testid="history-count" aria-live="polite">${history.loaded ? countText : 'Loading…'}</p>
        </div>
        <button type="button" class="btn btn--danger-ghost" onClick=${() => setConfirming(true)}
          disabled=${history.loaded && history.total === 0 && !filtered}>
          <${Icon} name="trash" size=${16} /> Clear all
        </button>
      </div>
      <${HistoryFilters} filters=${history.filters} />
      ${history.error && html`<${Notice} error=${history.error} />`}
      ${history.loaded && history.items.length === 0 && !history.error &&
        html`<${EmptyState} title=${filtered ? 'Nothing matches these filters' : 'No predictions yet'}
          text=${filtered ? 'Try another digit, status or a lower minimum confidence.' : 'Draw, upload or link a digit and it shows up here.'} />`}
      <ul class=${`history__grid${history.loading ? ' history__grid--loading' : ''}`} data-testid="history-list"
        aria-busy=${history.loading ? 'true' : 'false'} aria-label="Predictions">
        ${history.items.map((item) => html`<${HistoryCard} key=${item.id} item=${item} />`)}
      </ul>
      <${Pagination} />
      <${ConfirmDialog} open=${confirming} title="Clear all history?"
        text="This deletes every prediction made from this browser, with its feedback. It can’t be undone."
        confirmLabel="Clear history" onCancel=${() => setConfirming(false)}
        onConfirm=${() => { setConfirming(false); void clearHistory(); }} />
    </section>
  `;
}
