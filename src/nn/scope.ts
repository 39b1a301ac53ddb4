// Lifetime scopes. `tidy(fn)` disposes every tensor created while fn runs, except the ones fn
// returns (they move to the enclosing scope) and the ones passed to `keep`. Outside any tidy,
// tensors live until `dispose()`.

/** What a scope tracks: a tensor, seen only through what lifetime needs. */
export interface Tracked {
  readonly disposed: boolean;
  kept: boolean;
  dispose(): void;
}

const scopes: Tracked[][] = [];

/** Registers a new tensor with the innermost scope (no-op outside tidy). */
export function track(t: Tracked): void {
  const n = scopes.length;
  if (n > 0) scopes[n - 1].push(t);
}

/** Marks t to survive every enclosing tidy; free it yourself with dispose(). Returns t. */
export function keep<T extends Tracked>(t: T): T {
  t.kept = true;
  return t;
}

/** How many tidy scopes are open (tests check that none leaks). */
export function scopeDepth(): number {
  return scopes.length;
}

function collect(value: unknown, out: Set<Tracked>, depth: number): void {
  if (value === null || typeof value !== 'object' || depth > 4) return;
  if (isTracked(value)) {
    out.add(value);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) collect(v, out, depth + 1);
  } else if (value instanceof Map) {
    for (const v of value.values()) collect(v, out, depth + 1);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collect(v, out, depth + 1);
  }
}

function isTracked(v: object): v is Tracked {
  return 'kept' in v && 'dispose' in v && 'disposed' in v;
}

/** Runs fn in a new scope. Tensors returned (directly, or inside arrays, Maps and plain objects)
 *  survive into the enclosing scope; all other tensors created inside are disposed. fn must be
 *  synchronous: a training step enqueues work and never awaits. */
export function tidy<T>(fn: () => T): T {
  const scope: Tracked[] = [];
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    for (const t of scope) if (!t.kept && !t.disposed) t.dispose();
    throw e;
  }
  scopes.pop();
  if (result instanceof Promise) {
    for (const t of scope) if (!t.kept && !t.disposed) t.dispose();
    throw new Error('tidy(fn): fn returned a Promise; tidy scopes are synchronous (await outside, tidy inside)');
  }
  let survivors: Set<Tracked> | null = null;
  if (result !== undefined && result !== null && typeof result === 'object') {
    survivors = new Set();
    collect(result, survivors, 0);
  }
  for (const t of scope) {
    if (t.kept || t.disposed) continue;
    if (survivors !== null && survivors.has(t)) track(t);
    else t.dispose();
  }
  return result;
}
