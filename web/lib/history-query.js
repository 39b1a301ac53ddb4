// Builds the GET /api/predictions query from the history filters. Empty filters are left out so
// the URL stays short and the service applies its defaults. Pure (Node-testable).

/**
 * @typedef {{ digit: string, status: string, source: string, minConfidence: number }} HistoryFilters
 *   digit: '' or '0'..'9'; status: '' | 'correct' | 'incorrect' | 'unlabelled';
 *   source: '' | 'canvas' | 'upload' | 'url'; minConfidence: 0..1 (0 = no filter)
 */

/** @returns {HistoryFilters} */
export function emptyFilters() {
  return { digit: '', status: '', source: '', minConfidence: 0 };
}

/**
 * @param {HistoryFilters} filters @param {string | null} cursor @param {number} limit
 * @returns {string} the query string without the leading '?'
 */
export function historyQuery(filters, cursor, limit) {
  const params = new URLSearchParams();
  params.set('limit', String(limit));
  if (cursor) params.set('cursor', cursor);
  if (/^[0-9]$/.test(filters.digit)) params.set('digit', filters.digit);
  if (filters.status) params.set('status', filters.status);
  if (filters.source) params.set('source', filters.source);
  if (filters.minConfidence > 0) params.set('minConfidence', String(filters.minConfidence));
  return params.toString();
}

/** @param {HistoryFilters} filters */
export function hasActiveFilters(filters) {
  return Boolean(filters.digit || filters.status || filters.source || filters.minConfidence > 0);
}
