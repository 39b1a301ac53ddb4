// Predictions per day: a bar per day for the last two weeks (days with none included).
import { html } from '../lib/html.js';
import { EmptyState } from './EmptyState.js';

const DAYS_SHOWN = 14;

/**
 * Fill in the days with no predictions so the bars are evenly spaced in time.
 * @param {{ day: string, count: number }[]} days @param {Date} today
 */
function lastDays(days, today) {
  const counts = new Map(days.map((d) => [d.day.slice(0, 10), d.count]));
  const out = [];
  for (let i = DAYS_SHOWN - 1; i >= 0; i--) {
    const date = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - i));
    const key = date.toISOString().slice(0, 10);
    out.push({ key, date, count: counts.get(key) ?? 0 });
  }
  return out;
}

/** @param {{ days: { day: string, count: number }[] }} props */
export function DailyChart({ days }) {
  const series = lastDays(days, new Date());
  const max = Math.max(0, ...series.map((d) => d.count));
  if (max === 0) return html`<${EmptyState} icon="chart" title="No predictions in the last two weeks" text="They’ll show up here by day." />`;
  return html`
    <ol class="daily" aria-label="Predictions per day, last 14 days" data-testid="daily-chart">
      ${series.map((d, i) => {
        const label = d.date.toLocaleDateString(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });
        return html`<li class="daily__day" aria-label=${`${label}: ${d.count}`} title=${`${label}: ${d.count}`}>
          <span class="daily__count" aria-hidden="true">${d.count || ''}</span>
          <span class="daily__bar" style=${{ '--h': d.count / max }} aria-hidden="true"></span>
          <span class="daily__label" aria-hidden="true">${i % 2 === 1 || i === series.length - 1 ? label : ''}</span>
        </li>`;
      })}
    </ol>
  `;
}
