// Link: classify an image on the web by its address.
import { html } from '../lib/html.js';
import { useState } from 'preact/hooks';
import { useStore } from '../lib/use-store.js';
import { predictUrl } from '../lib/actions.js';
import { Icon } from './Icon.js';

export function UrlPanel() {
  const [url, setUrl] = useState('');
  const loading = useStore((s) => s.prediction.status === 'loading' && s.prediction.source === 'url');
  /** @param {Event} event */
  const submit = (event) => {
    event.preventDefault();
    void predictUrl(url);
  };
  return html`
    <form class="url-form" onSubmit=${submit}>
      <div class="url-form__art" aria-hidden="true"><${Icon} name="link" size=${32} /></div>
      <label class="field">
        <span class="field__label">Image address</span>
        <input class="input" type="url" inputmode="url" placeholder="https://example.com/digit.png" required
          value=${url} onInput=${(/** @type {Event} */ e) => setUrl(/** @type {HTMLInputElement} */ (e.currentTarget).value)} />
      </label>
      <button class="btn btn--primary" type="submit" disabled=${loading || !url.trim()}>
        ${loading ? 'Fetching…' : 'Predict from link'}
      </button>
      <p class="muted small">The server fetches the image (public http/https addresses only, up to 5 MB).</p>
    </form>
  `;
}
