// Previous / next through the history (cursor pages), with "page N of M".
import { html } from '../lib/html.js';
import { useStore } from '../lib/use-store.js';
import { nextHistoryPage, previousHistoryPage } from '../lib/actions.js';
import { PAGE_SIZE } from '../lib/state.js';
import { Icon } from './Icon.js';

export function Pagination() {
  const { page, nextCursor, total, loading } = useStore((s) => s.history);
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  if (pages <= 1 && page === 0) return null;
  return html`
    <nav class="pagination" aria-label="History pages">
      <button type="button" class="btn btn--ghost" onClick=${previousHistoryPage} disabled=${page === 0 || loading}>
        <${Icon} name="chevronLeft" size=${16} /> Newer
      </button>
      <span class="pagination__label muted" data-testid="page-label">Page ${page + 1} of ${Math.max(pages, page + 1)}</span>
      <button type="button" class="btn btn--ghost" onClick=${nextHistoryPage} disabled=${!nextCursor || loading}>
        Older <${Icon} name="chevronRight" size=${16} />
      </button>
    </nav>
  `;
}
