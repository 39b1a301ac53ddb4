// API errors in plain words. The service answers { error: { code, message } }; a failed fetch
// (no answer at all) is the network being down. Pure (Node-testable).

export class ApiError extends Error {
  /**
   * @param {{ title: string, detail: string, status: number, code: string }} info
   */
  constructor(info) {
    super(`${info.title} ${info.detail}`.trim());
    this.name = 'ApiError';
    this.title = info.title;
    this.detail = info.detail;
    this.status = info.status;
    this.code = info.code;
  }
}

export const MAX_UPLOAD_BYTES = 5 * 1024 * 1024;

/** The error for a request that never got an answer. */
export function networkError() {
  return new ApiError({
    title: 'Can’t reach the server.',
    detail: 'Check your connection (or that inkling is running) and try again.',
    status: 0,
    code: 'network',
  });
}

/**
 * @param {number} status
 * @param {unknown} body the parsed JSON body, if any
 */
export function errorFromResponse(status, body) {
  const err = /** @type {{ error?: { code?: unknown, message?: unknown } } | null} */ (body)?.error;
  const code = typeof err?.code === 'string' ? err.code : '';
  const serverMessage = typeof err?.message === 'string' ? err.message : '';
  const plain = plainWords(status, code, serverMessage);
  return new ApiError({ ...plain, status, code: code || `http_${status}` });
}

/**
 * @param {number} status @param {string} code @param {string} serverMessage
 * @returns {{ title: string, detail: string }}
 */
function plainWords(status, code, serverMessage) {
  if (code === 'no_digit' || status === 422) {
    return { title: 'No digit found.', detail: 'The image looks blank. Draw or upload a single digit.' };
  }
  if (status === 413 || code === 'too_large' || code === 'payload_too_large' || code === 'image_too_large') {
    return { title: 'That image is too large.', detail: serverMessage || 'Images up to 5 MB are accepted; try a smaller one.' };
  }
  if (status === 415 || code === 'unsupported_type' || code === 'unsupported_media_type') {
    return { title: 'That file isn’t an image inkling can read.', detail: 'Use a PNG, JPEG, WebP or GIF.' };
  }
  if (code === 'bad_url' || code.startsWith('url_')) {
    // The service fetches linked images itself: its message says what went wrong (not public,
    // HTTP 404, timed out…), and it is written for people.
    return { title: 'Couldn’t fetch that image.', detail: serverMessage || 'Check the address and try again.' };
  }
  if (status === 429) {
    return { title: 'Too many requests.', detail: 'Wait a few seconds, then try again.' };
  }
  if (status === 404) {
    return { title: 'Not found.', detail: serverMessage || 'That prediction no longer exists.' };
  }
  if (status >= 500) {
    return { title: 'The server ran into a problem.', detail: 'Try again in a moment.' };
  }
  return { title: 'That didn’t work.', detail: serverMessage || `The server answered ${status}.` };
}

/** The message for a file refused before upload because it is over the limit. */
export function fileTooLargeError(/** @type {number} */ bytes) {
  const mb = (bytes / 1024 / 1024).toFixed(1);
  return new ApiError({
    title: 'That image is too large.',
    detail: `It is ${mb} MB; images up to 5 MB are accepted.`,
    status: 413,
    code: 'too_large',
  });
}
