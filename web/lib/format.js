// Small formatting helpers shared by the views. Pure functions (Node-testable).

/**
 * "97%" or, near certainty, "99.6%" so 0.996 is not shown as a flat 100%. `decimals` forces a
 * precision (accuracies: 99.31% is worth telling apart from 99%).
 * @param {number} p @param {number} [decimals]
 */
export function percent(p, decimals) {
  if (!Number.isFinite(p)) return '–';
  const v = p * 100;
  if (decimals !== undefined) return `${v.toFixed(decimals)}%`;
  if (v >= 99.5 && v < 100) return `${(Math.floor(v * 10) / 10).toFixed(1)}%`; // floor: never a false 100
  if (v > 0 && v < 1) return '<1%';
  return `${Math.round(v)}%`;
}

/**
 * Colour band for a confidence: high >= 0.9 (green), medium >= 0.6 (amber), else low (red).
 * @param {number} confidence
 * @returns {'high' | 'medium' | 'low'}
 */
export function confidenceLevel(confidence) {
  if (confidence >= 0.9) return 'high';
  if (confidence >= 0.6) return 'medium';
  return 'low';
}

/** "1.9 ms", "12 ms", "1.2 s". */
export function formatMs(/** @type {number | null | undefined} */ ms) {
  if (ms == null || !Number.isFinite(ms)) return '–';
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

/**
 * "just now", "5 min ago", "3 h ago", "yesterday", else a short date.
 * @param {Date | string | number} when
 * @param {Date} [now]
 */
export function relativeTime(when, now = new Date()) {
  const date = when instanceof Date ? when : new Date(when);
  const seconds = (now.getTime() - date.getTime()) / 1000;
  if (!Number.isFinite(seconds)) return '';
  if (seconds < 45) return 'just now';
  if (seconds < 3600) return `${Math.max(1, Math.round(seconds / 60))} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  if (seconds < 2 * 86400) return 'yesterday';
  return date.toLocaleDateString(undefined, { month: 'short', day: 'numeric', year: date.getFullYear() === now.getFullYear() ? undefined : 'numeric' });
}

/** 421834 -> "421,834"; stable across locales for the tests (en-US grouping). */
export function formatCount(/** @type {number} */ n) {
  if (!Number.isFinite(n)) return '–';
  return n.toLocaleString('en-US');
}

/** A source name for people: canvas -> "Drawn", upload -> "Uploaded", url -> "Link". */
export function sourceLabel(/** @type {string} */ source) {
  return { canvas: 'Drawn', upload: 'Uploaded', url: 'Link' }[source] ?? source;
}
