// useStore(selector): the Preact side of the store. The component re-renders only when the
// value its selector picks changes (by identity: the store replaces a slice when it changes).
import { useEffect, useReducer, useRef } from 'preact/hooks';
import { store } from './state.js';

/**
 * @template T
 * @param {(state: ReturnType<typeof store.get>) => T} selector
 * @returns {T}
 */
export function useStore(selector) {
  const [, forceRender] = useReducer((/** @type {number} */ n) => n + 1, 0);
  const value = selector(store.get());
  const latest = useRef({ selector, value });
  latest.current = { selector, value };
  useEffect(
    () =>
      store.subscribe((state) => {
        if (!Object.is(latest.current.selector(state), latest.current.value)) forceRender(0);
      }),
    [],
  );
  return value;
}
