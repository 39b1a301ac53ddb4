// Upload: a drop zone that is also a file picker (click, Enter/Space), drag and drop, and a
// hint that pasting works too. Shows a preview of the picked image.
import { html } from '../lib/html.js';
import { useRef, useState } from 'preact/hooks';
import { useStore } from '../lib/use-store.js';
import { predictFile } from '../lib/actions.js';
import { Icon } from './Icon.js';

export function UploadPanel() {
  const { previewUrl, fileName } = useStore((s) => s.upload);
  const [dragging, setDragging] = useState(false);
  const input = useRef(/** @type {HTMLInputElement | null} */ (null));

  /** @param {FileList | null | undefined} files */
  const take = (files) => {
    const file = files?.[0];
    if (file) void predictFile(file);
  };

  return html`
    <div class="upload">
      <label class=${`dropzone${dragging ? ' dropzone--over' : ''}${previewUrl ? ' dropzone--filled' : ''}`}
        data-testid="dropzone"
        onDragEnter=${(/** @type {DragEvent} */ e) => { e.preventDefault(); setDragging(true); }}
        onDragOver=${(/** @type {DragEvent} */ e) => { e.preventDefault(); if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy'; }}
        onDragLeave=${() => setDragging(false)}
        onDrop=${(/** @type {DragEvent} */ e) => { e.preventDefault(); setDragging(false); take(e.dataTransfer?.files); }}>
        <input ref=${input} class="visually-hidden" type="file" accept="image/png,image/jpeg,image/webp,image/gif"
          data-testid="file-input" aria-describedby="upload-help"
          onChange=${(/** @type {Event} */ e) => { take(/** @type {HTMLInputElement} */ (e.currentTarget).files); /** @type {HTMLInputElement} */ (e.currentTarget).value = ''; }} />
        ${previewUrl
          ? html`<img class="dropzone__preview" src=${previewUrl} alt=${`Preview of ${fileName}`} />`
          : html`<span class="dropzone__icon"><${Icon} name="image" size=${32} /></span>`}
        <span class="dropzone__title">${previewUrl ? fileName : 'Choose an image or drop it here'}</span>
        <span class="dropzone__help" id="upload-help">
          ${previewUrl ? 'Choose another, drop one here, or paste' : 'PNG, JPEG, WebP or GIF up to 5 MB. You can also paste an image.'}
        </span>
      </label>
    </div>
  `;
}
