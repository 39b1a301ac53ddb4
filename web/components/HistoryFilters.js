// The history filters: digit, feedback status, source, minimum confidence.
import { html } from '../lib/html.js';
import { useEffect, useState } from 'preact/hooks';
import { setHistoryFilters } from '../lib/actions.js';
import { emptyFilters, hasActiveFilters } from '../lib/history-query.js';

/** @param {{ filters: import('../lib/history-query.js').HistoryFilters }} props */
export function HistoryFilters({ filters }) {
  // The slider shows its value while dragging; the list reloads when it is let go.
  const [minPct, setMinPct] = useState(Math.round(filters.minConfidence * 100));
  useEffect(() => setMinPct(Math.round(filters.minConfidence * 100)), [filters.minConfidence]);
  const value = (/** @type {Event} */ e) => /** @type {HTMLSelectElement | HTMLInputElement} */ (e.currentTarget).value;
  return html`
    <form class="filters" aria-label="Filter history" onSubmit=${(/** @type {Event} */ e) => e.preventDefault()}>
      <label class="field">
        <span class="field__label">Digit</span>
        <select class="input" name="digit" value=${filters.digit} onChange=${(/** @type {Event} */ e) => setHistoryFilters({ digit: value(e) })}>
          <option value="">Any</option>
          ${[0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((d) => html`<option value=${String(d)}>${d}</option>`)}
        </select>
      </label>
      <label class="field">
        <span class="field__label">Feedback</span>
        <select class="input" name="status" value=${filters.status} onChange=${(/** @type {Event} */ e) => setHistoryFilters({ status: value(e) })}>
          <option value="">All</option>
          <option value="correct">Correct</option>
          <option value="incorrect">Incorrect</option>
          <option value="unlabelled">No feedback</option>
        </select>
      </label>
      <label class="field">
        <span class="field__label">Source</span>
        <select class="input" name="source" value=${filters.source} onChange=${(/** @type {Event} */ e) => setHistoryFilters({ source: value(e) })}>
          <option value="">All</option>
          <option value="canvas">Drawn</option>
          <option value="upload">Uploaded</option>
          <option value="url">Link</option>
        </select>
      </label>
      <div class="field field--range">
        <span class="field__label">
          <label for="filter-min-confidence">Min. confidence</label>
          <output class="field__value" for="filter-min-confidence">${minPct}%</output>
        </span>
        <input id="filter-min-confidence" type="range" name="minConfidence" min="0" max="100" step="5" value=${minPct}
          aria-valuetext=${`${minPct}%`}
          onInput=${(/** @type {Event} */ e) => setMinPct(Number(value(e)))}
          onChange=${(/** @type {Event} */ e) => setHistoryFilters({ minConfidence: Number(value(e)) / 100 })} />
      </div>
      <button type="button" class="btn btn--ghost filters__reset" disabled=${!hasActiveFilters(filters)}
        onClick=${() => setHistoryFilters(emptyFilters())}>Reset</button>
    </form>
  `;
}
