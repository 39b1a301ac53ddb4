// Theme preference: 'light' | 'dark' | 'system', remembered in localStorage. 'system' is the
// absence of a data-theme attribute: the stylesheet then follows prefers-color-scheme itself,
// so the page is right even before this script runs.

export const THEME_KEY = 'inkling.theme';
export const THEME_CHOICES = /** @type {const} */ (['light', 'dark', 'system']);

/** @typedef {'light' | 'dark' | 'system'} ThemePreference */

/**
 * @param {{ getItem(key: string): string | null } | undefined} storage
 * @returns {ThemePreference}
 */
export function loadThemePreference(storage) {
  let saved = null;
  try {
    saved = storage?.getItem(THEME_KEY) ?? null;
  } catch {
    // Storage can throw (privacy modes, sandboxed frames): fall back to the system theme.
  }
  return saved === 'light' || saved === 'dark' || saved === 'system' ? saved : 'system';
}

/** @param {{ setItem(key: string, value: string): void } | undefined} storage @param {ThemePreference} pref */
export function saveThemePreference(storage, pref) {
  try {
    storage?.setItem(THEME_KEY, pref);
  } catch {
    // Not fatal: the choice just will not survive a reload.
  }
}

/** @param {ThemePreference} pref @param {boolean} systemPrefersDark @returns {'light' | 'dark'} */
export function resolveTheme(pref, systemPrefersDark) {
  if (pref === 'system') return systemPrefersDark ? 'dark' : 'light';
  return pref;
}

/** Reflect the preference on <html>: data-theme for explicit choices, none for 'system'. */
export function applyThemePreference(/** @type {HTMLElement} */ root, /** @type {ThemePreference} */ pref) {
  if (pref === 'system') delete root.dataset.theme;
  else root.dataset.theme = pref;
}
