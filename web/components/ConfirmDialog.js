// A modal confirmation on the native <dialog> (focus trap, Escape and the backdrop for free).
import { html } from '../lib/html.js';
import { useEffect, useRef } from 'preact/hooks';

/**
 * @param {{ open: boolean, title: string, text: string, confirmLabel: string,
 *   onConfirm: () => void, onCancel: () => void }} props
 */
export function ConfirmDialog({ open, title, text, confirmLabel, onConfirm, onCancel }) {
  const ref = useRef(/** @type {HTMLDialogElement | null} */ (null));
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return html`
    <dialog ref=${ref} class="dialog" aria-labelledby="dialog-title" aria-describedby="dialog-text"
      onCancel=${(/** @type {Event} */ e) => { e.preventDefault(); onCancel(); }}
      onClick=${(/** @type {MouseEvent} */ e) => { if (e.target === ref.current) onCancel(); }}>
      <div class="dialog__body">
        <h2 id="dialog-title" class="dialog__title">${title}</h2>
        <p id="dialog-text" class="muted">${text}</p>
        <div class="dialog__actions">
          <button type="button" class="btn btn--ghost" onClick=${onCancel} autofocus>Cancel</button>
          <button type="button" class="btn btn--danger" onClick=${onConfirm}>${confirmLabel}</button>
        </div>
      </div>
    </dialog>
  `;
}
