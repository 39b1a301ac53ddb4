// Trailing-edge debounce with cancel and flush. Pure (Node-testable with real timers).

/**
 * @template {unknown[]} A
 * @param {(...args: A) => void} fn
 * @param {number} waitMs
 */
export function debounce(fn, waitMs) {
  /** @type {ReturnType<typeof setTimeout> | null} */
  let timer = null;
  /** @type {A | null} */
  let pending = null;
  const run = () => {
    timer = null;
    const args = pending;
    pending = null;
    if (args) fn(...args);
  };
  /** @param {A} args */
  const debounced = (...args) => {
    pending = args;
    if (timer) clearTimeout(timer);
    timer = setTimeout(run, waitMs);
  };
  debounced.cancel = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    pending = null;
  };
  debounced.flush = () => {
    if (timer) clearTimeout(timer);
    run();
  };
  return debounced;
}
