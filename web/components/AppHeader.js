// Top bar: the name, the three views, the theme switch.
import { html } from '../lib/html.js';
import { NavTabs } from './NavTabs.js';
import { ThemeSwitch } from './ThemeSwitch.js';

export function AppHeader() {
  return html`
    <header class="app-header">
      <div class="app-header__inner">
        <div class="brand">
          <span class="brand__mark" aria-hidden="true">7</span>
          <span class="brand__name">inkling</span>
        </div>
        <${NavTabs} />
        <${ThemeSwitch} />
      </div>
    </header>
  `;
}
