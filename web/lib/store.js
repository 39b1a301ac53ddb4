// A tiny store: one state object, replaced (never mutated) on every change, and a set of
// listeners told after each change. No framework here, so it runs in Node for the unit tests.

/**
 * @template S
 * @param {S} initial
 */
export function createStore(initial) {
  let state = initial;
  /** @type {Set<(state: S) => void>} */
  const listeners = new Set();

  function notify() {
    // Copy first: a listener may unsubscribe (a component unmounting) while we loop.
    for (const listener of [...listeners]) listener(state);
  }

  return {
    /** @returns {S} */
    get: () => state,
    /**
     * Shallow-merge a patch into the top level. A function receives the current state and
     * returns the patch (or null for "no change").
     * @param {Partial<S> | ((s: S) => Partial<S> | null)} update
     */
    set(update) {
      const patch = typeof update === 'function' ? update(state) : update;
      if (!patch) return;
      state = { ...state, ...patch };
      notify();
    },
    /**
     * Shallow-merge a patch into one slice (`state[key]`), leaving the others untouched.
     * @template {keyof S} K
     * @param {K} key
     * @param {Partial<S[K]> | ((slice: S[K]) => Partial<S[K]> | null)} update
     */
    setSlice(key, update) {
      const slice = state[key];
      const patch = typeof update === 'function' ? update(slice) : update;
      if (!patch) return;
      state = { ...state, [key]: { ...slice, ...patch } };
      notify();
    },
    /** @param {(state: S) => void} listener @returns {() => void} unsubscribe */
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
