// Latency percentiles of the service (server-side total time per prediction).
import { html } from '../lib/html.js';
import { formatMs } from '../lib/format.js';

/** @param {{ latency: import('../lib/api-shapes.js').Stats['latency'] }} props */
export function LatencyPanel({ latency }) {
  const rows = /** @type {const} */ ([['p50', 'median'], ['p90', ''], ['p95', ''], ['p99', 'slowest 1%']]);
  const shown = rows.filter(([k]) => latency[k] !== null);
  const max = Math.max(0, ...shown.map(([k]) => latency[k] ?? 0));
  if (shown.length === 0) return html`<p class="muted">No timings yet.</p>`;
  return html`
    <dl class="latency" data-testid="latency">
      ${shown.map(
        ([k, note]) => html`<div class="latency__row">
          <dt>${k}${note && html` <span class="muted small">${note}</span>`}</dt>
          <dd><span class="latency__bar" style=${{ '--w': max ? (latency[k] ?? 0) / max : 0 }} aria-hidden="true"></span>${formatMs(latency[k])}</dd>
        </div>`,
      )}
    </dl>
  `;
}
