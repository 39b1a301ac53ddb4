// The HTTP client for the inkling API (issue 4). Every call either resolves with the parsed
// JSON or throws an ApiError whose title/detail are already plain words for people.
import { ApiError, errorFromResponse, networkError } from './errors.js';
import { normalizeHistoryPage, normalizePrediction, normalizeStats, normalizeModel } from './api-shapes.js';

/**
 * @param {string} method @param {string} path
 * @param {{ body?: BodyInit, headers?: Record<string, string>, signal?: AbortSignal }} [options]
 */
async function request(method, path, options = {}) {
  /** @type {Response} */
  let response;
  try {
    response = await fetch(path, { method, credentials: 'same-origin', ...options });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw networkError();
  }
  const text = await response.text().catch(() => '');
  /** @type {unknown} */
  let body = null;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
  }
  if (!response.ok) throw errorFromResponse(response.status, body);
  return body;
}

const json = (/** @type {unknown} */ value) => ({
  body: JSON.stringify(value),
  headers: { 'Content-Type': 'application/json' },
});

export const api = {
  /**
   * POST an image (a canvas PNG or a picked file) as multipart: field `image` + field `source`.
   * @param {Blob} image @param {'canvas' | 'upload'} source @param {AbortSignal} [signal]
   */
  async predictImage(image, source, signal) {
    const form = new FormData();
    form.append('source', source);
    form.append('image', image, image instanceof File ? image.name : `${source}.png`);
    return normalizePrediction(await request('POST', '/api/predictions', { body: form, signal }));
  },
  /** @param {string} url @param {AbortSignal} [signal] */
  async predictUrl(url, signal) {
    return normalizePrediction(await request('POST', '/api/predictions', { ...json({ url, source: 'url' }), signal }));
  },
  /** @param {string} id @param {number} label */
  async setFeedback(id, label) {
    return request('PUT', `/api/predictions/${encodeURIComponent(id)}/feedback`, json({ label }));
  },
  /** @param {string} query built by historyQuery() */
  async listPredictions(query) {
    return normalizeHistoryPage(await request('GET', `/api/predictions?${query}`));
  },
  /** @param {string} id */
  async deletePrediction(id) {
    await request('DELETE', `/api/predictions/${encodeURIComponent(id)}`);
  },
  async clearPredictions() {
    await request('DELETE', '/api/predictions');
  },
  async stats() {
    return normalizeStats(await request('GET', '/api/stats'));
  },
  async model() {
    return normalizeModel(await request('GET', '/api/model'));
  },
};

export { ApiError };
