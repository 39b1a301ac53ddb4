// Stats: headline numbers, the confusion matrix, predictions per day, latency, the model card.
import { html } from '../lib/html.js';
import { useStore } from '../lib/use-store.js';
import { formatCount, formatMs, percent } from '../lib/format.js';
import { StatTile } from './StatTile.js';
import { ConfusionMatrix } from './ConfusionMatrix.js';
import { DailyChart } from './DailyChart.js';
import { LatencyPanel } from './LatencyPanel.js';
import { ModelCard } from './ModelCard.js';
import { Notice } from './Notice.js';

export function StatsView() {
  const { data, model, loading, error } = useStore((s) => s.stats);
  return html`
    <section class="stats" aria-labelledby="stats-title" aria-busy=${loading ? 'true' : 'false'}>
      <div class="view-head">
        <div>
          <h1 id="stats-title" class="view-head__title">Stats</h1>
          <p class="muted">How the model is doing on the digits given to it, from your feedback.</p>
        </div>
      </div>
      ${error && html`<${Notice} error=${error} />`}
      ${!data && loading && html`<div class="result__loading" role="status"><span class="spinner" aria-hidden="true"></span>Loading stats…</div>`}
      ${data && html`
        <div class="tiles">
          <${StatTile} label="Predictions" value=${formatCount(data.total)} testid="stat-total" />
          <${StatTile} label="Accuracy (from feedback)" value=${data.accuracy === null ? '–' : percent(data.accuracy, 1)}
            note=${`${formatCount(data.correct)} of ${formatCount(data.labelled)} labelled`} testid="stat-accuracy" />
          <${StatTile} label="Median latency" value=${formatMs(data.latency.p50)} note=${`p99 ${formatMs(data.latency.p99)}`} testid="stat-latency" />
          <${StatTile} label="Model test accuracy" value=${model?.accuracy == null ? '–' : percent(model.accuracy, 2)}
            note=${model?.backend ? `on ${model.backend}` : ''} testid="stat-model" />
        </div>
        <div class="stats__grid">
          <div class="card"><h2 class="card__title">Confusion matrix</h2><${ConfusionMatrix} matrix=${data.confusion} /></div>
          <div class="stats__side">
            <div class="card"><h2 class="card__title">Predictions per day</h2><${DailyChart} days=${data.perDay} /></div>
            <div class="card"><h2 class="card__title">Latency</h2><${LatencyPanel} latency=${data.latency} /></div>
          </div>
        </div>`}
      ${model && html`<div class="card"><h2 class="card__title">Model</h2><${ModelCard} model=${model} /></div>`}
    </section>
  `;
}
