// The model card: version, architecture, parameters, accuracy, temperature, backend.
import { html } from '../lib/html.js';
import { formatCount, percent } from '../lib/format.js';

/** @param {{ model: import('../lib/api-shapes.js').ModelInfo }} props */
export function ModelCard({ model }) {
  const rows = [
    ['Name', model.name || '–'],
    ['Version', model.version || '–'],
    ['Architecture', model.architecture || '–'],
    ['Parameters', model.parameters === null ? '–' : formatCount(model.parameters)],
    ['Test accuracy', model.accuracy === null ? '–' : percent(model.accuracy, 2)],
    ['Temperature', model.temperature === null ? '–' : model.temperature.toFixed(2)],
    ['Backend', model.backend || '–'],
  ];
  return html`<dl class="model-card" data-testid="model-card">
    ${rows.map(([k, v]) => html`<div class="model-card__row"><dt>${k}</dt><dd>${v}</dd></div>`)}
    ${model.layers && html`<div class="model-card__row model-card__row--wide"><dt>Layers</dt><dd class="model-card__layers">${model.layers}</dd></div>`}
  </dl>`;
}
