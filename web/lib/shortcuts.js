// Keyboard shortcuts: C clears the canvas, Z (or Ctrl/Cmd+Z) undoes the last stroke, 0-9 give
// feedback. Keys typed into a form field are never shortcuts.

/**
 * @typedef {{ type: 'clear' } | { type: 'undo' } | { type: 'label', digit: number }} Shortcut
 * @param {{ key: string, ctrlKey?: boolean, metaKey?: boolean, altKey?: boolean, target?: unknown }} event
 * @returns {Shortcut | null}
 */
export function shortcutFor(event) {
  if (isTypingTarget(event.target)) return null;
  const key = event.key;
  const command = Boolean(event.ctrlKey || event.metaKey);
  if (event.altKey) return null;
  if (key === 'z' || key === 'Z') return { type: 'undo' };
  if (command) return null;
  if (key === 'c' || key === 'C') return { type: 'clear' };
  if (/^[0-9]$/.test(key)) return { type: 'label', digit: Number(key) };
  return null;
}

/** @param {unknown} target */
function isTypingTarget(target) {
  if (!target || typeof target !== 'object') return false;
  const el = /** @type {{ tagName?: string, isContentEditable?: boolean, type?: string }} */ (target);
  if (el.isContentEditable) return true;
  const tag = (el.tagName ?? '').toUpperCase();
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  // Range sliders, checkboxes and radios take arrow keys, not letters: shortcuts still apply.
  if (tag === 'INPUT') return !['range', 'checkbox', 'radio', 'button'].includes((el.type ?? 'text').toLowerCase());
  return false;
}
