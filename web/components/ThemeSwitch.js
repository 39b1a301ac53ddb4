// Light / dark / system, as a radio group (arrow keys move between the three).
import { html } from '../lib/html.js';
import { useStore } from '../lib/use-store.js';
import { setTheme } from '../lib/actions.js';
import { Icon } from './Icon.js';

const CHOICES = /** @type {const} */ ([
  { id: 'light', label: 'Light theme', icon: 'sun' },
  { id: 'dark', label: 'Dark theme', icon: 'moon' },
  { id: 'system', label: 'Follow the system theme', icon: 'monitor' },
]);

export function ThemeSwitch() {
  const theme = useStore((s) => s.theme);
  return html`
    <fieldset class="theme-switch">
      <legend class="visually-hidden">Theme</legend>
      ${CHOICES.map(
        (c) => html`<label class="theme-switch__option" title=${c.label}>
          <input type="radio" name="theme" value=${c.id} checked=${theme === c.id}
            aria-label=${c.label} onChange=${() => setTheme(c.id)} />
          <${Icon} name=${c.icon} size=${16} />
        </label>`,
      )}
    </fieldset>
  `;
}
