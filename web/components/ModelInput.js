// What the model saw: the 28x28 input the service returned, enlarged with crisp pixels.
import { html } from '../lib/html.js';

/** @param {{ src: string, digit: number }} props */
export function ModelInput({ src, digit }) {
  if (!src) return null;
  return html`
    <figure class="model-input">
      <img class="model-input__img" src=${src} width="28" height="28" data-testid="model-input"
        alt=${`The 28 by 28 pixel image the model classified as ${digit}`} />
      <figcaption class="muted small">What the model saw (28×28)</figcaption>
    </figure>
  `;
}
