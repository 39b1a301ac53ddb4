// Entry point: restore the theme, mount the app.
import { render } from 'preact';
import { html } from './lib/html.js';
import { store } from './lib/state.js';
import { applyThemePreference, loadThemePreference } from './lib/theme.js';
import { App } from './components/App.js';

const theme = loadThemePreference(globalThis.localStorage);
applyThemePreference(document.documentElement, theme);
store.set({ theme });

const root = /** @type {HTMLElement} */ (document.getElementById('app'));
render(html`<${App} />`, root);
root.dataset.ready = 'true'; // the browser tests wait for this
