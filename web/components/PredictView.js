// The Predict view: the input (draw / upload / link) on the left, the answer on the right
// (stacked on a phone).
import { html } from '../lib/html.js';
import { useStore } from '../lib/use-store.js';
import { InputTabs } from './InputTabs.js';
import { DrawPad } from './DrawPad.js';
import { UploadPanel } from './UploadPanel.js';
import { UrlPanel } from './UrlPanel.js';
import { ResultPanel } from './ResultPanel.js';

export function PredictView() {
  const mode = useStore((s) => s.inputMode);
  return html`
    <div class="predict">
      <section class="card predict__input" aria-labelledby="input-title">
        <h1 id="input-title" class="visually-hidden">Give inkling a digit</h1>
        <${InputTabs} />
        <div class="predict__panel" role="tabpanel" id=${`panel-${mode}`} aria-labelledby=${`tab-${mode}`}>
          ${mode === 'draw' && html`<${DrawPad} />`}
          ${mode === 'upload' && html`<${UploadPanel} />`}
          ${mode === 'url' && html`<${UrlPanel} />`}
        </div>
      </section>
      <${ResultPanel} />
    </div>
  `;
}
