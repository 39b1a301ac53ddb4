// Unit tests of the UI's pure logic (web/lib/), run in Node: the store, stroke smoothing and
// rendering, shortcuts, error wording, the history query, formatting, theme persistence and the
// API response shapes.
import t from 'tap';
import { loadWebModule } from './support/load-web.ts';

type Point = { x: number; y: number };
type PathCommand =
  | { op: 'dot'; x: number; y: number }
  | { op: 'move'; x: number; y: number }
  | { op: 'line'; x: number; y: number }
  | { op: 'quad'; cx: number; cy: number; x: number; y: number };

interface Store<S> {
  get(): S;
  set(update: Partial<S> | ((s: S) => Partial<S> | null)): void;
  setSlice<K extends keyof S>(key: K, update: Partial<S[K]> | ((slice: S[K]) => Partial<S[K]> | null)): void;
  subscribe(listener: (s: S) => void): () => void;
}

const { createStore } = await loadWebModule<{ createStore<S>(initial: S): Store<S> }>('lib/store.js');
const smoothing = await loadWebModule<{
  appendPoint(points: Point[], p: Point, minDistance: number): Point[];
  stabilise(previous: Point | undefined, sample: Point, alpha: number): Point;
  smoothPath(points: Point[]): PathCommand[];
}>('lib/smoothing.js');
const { drawStrokes, EXPORT_SIZE } = await loadWebModule<{
  drawStrokes(ctx: unknown, strokes: { width: number; points: Point[] }[], look: { size: number; ink: string; paper: string }): void;
  EXPORT_SIZE: number;
}>('lib/draw-strokes.js');
const { shortcutFor } = await loadWebModule<{
  shortcutFor(e: { key: string; ctrlKey?: boolean; metaKey?: boolean; altKey?: boolean; target?: unknown }): unknown;
}>('lib/shortcuts.js');
const errors = await loadWebModule<{
  errorFromResponse(status: number, body: unknown): { title: string; detail: string; status: number; code: string };
  networkError(): { title: string; detail: string; status: number; code: string };
  fileTooLargeError(bytes: number): { title: string; detail: string };
}>('lib/errors.js');
const hq = await loadWebModule<{
  emptyFilters(): { digit: string; status: string; source: string; minConfidence: number };
  historyQuery(f: { digit: string; status: string; source: string; minConfidence: number }, cursor: string | null, limit: number): string;
  hasActiveFilters(f: { digit: string; status: string; source: string; minConfidence: number }): boolean;
}>('lib/history-query.js');
const format = await loadWebModule<{
  percent(p: number, decimals?: number): string;
  confidenceLevel(c: number): string;
  formatMs(ms: number | null): string;
  relativeTime(when: Date | string, now?: Date): string;
  sourceLabel(s: string): string;
}>('lib/format.js');
const theme = await loadWebModule<{
  THEME_KEY: string;
  loadThemePreference(storage: { getItem(k: string): string | null } | undefined): string;
  saveThemePreference(storage: { setItem(k: string, v: string): void } | undefined, pref: string): void;
  resolveTheme(pref: string, systemDark: boolean): string;
}>('lib/theme.js');
const shapes = await loadWebModule<{
  normalizePrediction(raw: unknown): { id: string; digit: number; probabilities: number[]; timings: { totalMs: number | null }; logged: boolean };
  normalizeHistoryPage(raw: unknown): { items: { id: string; label: number | null; thumbnail: string; createdAt: string }[]; nextCursor: string | null; total: number; totalExact: boolean };
  normalizeStats(raw: unknown): { total: number; labelled: number; correct: number; accuracy: number | null; confusion: number[][] };
}>('lib/api-shapes.js');
const { debounce } = await loadWebModule<{
  debounce<A extends unknown[]>(fn: (...a: A) => void, ms: number): ((...a: A) => void) & { cancel(): void; flush(): void };
}>('lib/debounce.js');

t.test('store: set merges, functions see the current state, null is no change', async (t) => {
  const store = createStore({ view: 'predict', count: 0, history: { page: 0, items: [1] }, other: { x: 1 } });
  const seen: unknown[] = [];
  const off = store.subscribe((s) => seen.push(s.count));
  store.set({ count: 1 });
  store.set((s) => ({ count: s.count + 1 }));
  store.set(() => null);
  t.same(seen, [1, 2], 'one notification per real change, none for null');
  const before = store.get();
  store.setSlice('history', { page: 3 });
  const after = store.get();
  t.equal(after.history.page, 3);
  t.same(after.history.items, [1], 'the rest of the slice is kept');
  t.not(after.history, before.history, 'the changed slice is a new object (components compare by identity)');
  t.equal(after.other, before.other, 'untouched slices keep their identity');
  t.equal(before.history.page, 0, 'the old state is not mutated');
  off();
  store.set({ count: 9 });
  t.same(seen, [1, 2, 2], 'unsubscribed listeners are not called');
});

t.test('store: a listener may unsubscribe another during a notification', async (t) => {
  const store = createStore({ n: 0 });
  const calls: string[] = [];
  let offB = () => {};
  store.subscribe(() => {
    calls.push('a');
    offB();
  });
  offB = store.subscribe(() => calls.push('b')) as () => void;
  store.set({ n: 1 });
  store.set({ n: 2 });
  t.same(calls, ['a', 'b', 'a'], 'the loop ran over a copy; b is gone from the next change on');
});

t.test('smoothing: near-duplicate points are dropped, stabiliser moves part way', async (t) => {
  let pts: Point[] = [];
  pts = smoothing.appendPoint(pts, { x: 0.1, y: 0.1 }, 0.01);
  const same = smoothing.appendPoint(pts, { x: 0.105, y: 0.1 }, 0.01);
  t.equal(same, pts, 'a point closer than minDistance returns the same array');
  pts = smoothing.appendPoint(pts, { x: 0.2, y: 0.1 }, 0.01);
  t.equal(pts.length, 2);
  t.same(smoothing.stabilise(undefined, { x: 0.5, y: 0.5 }, 0.5), { x: 0.5, y: 0.5 }, 'first sample kept as is');
  t.same(smoothing.stabilise({ x: 0, y: 0 }, { x: 1, y: 0.5 }, 0.5), { x: 0.5, y: 0.25 });
});

t.test('smoothing: path is a dot, a line, or quadratics through midpoints ending at the last sample', async (t) => {
  t.same(smoothing.smoothPath([]), []);
  t.same(smoothing.smoothPath([{ x: 0.3, y: 0.4 }]), [{ op: 'dot', x: 0.3, y: 0.4 }]);
  t.same(smoothing.smoothPath([{ x: 0, y: 0 }, { x: 1, y: 1 }]), [
    { op: 'move', x: 0, y: 0 },
    { op: 'line', x: 1, y: 1 },
  ]);
  const pts = [
    { x: 0, y: 0 },
    { x: 0.4, y: 0 },
    { x: 0.4, y: 0.4 },
    { x: 0.8, y: 0.4 },
  ];
  const path = smoothing.smoothPath(pts);
  t.same(path[0], { op: 'move', x: 0, y: 0 }, 'starts where the pen went down');
  t.same(path[path.length - 1], { op: 'line', x: 0.8, y: 0.4 }, 'ends where the pen lifted');
  const quads = path.filter((c) => c.op === 'quad');
  t.equal(quads.length, pts.length - 2, 'one curve per interior sample');
  quads.forEach((q, i) => {
    if (q.op !== 'quad') return;
    t.same({ x: q.cx, y: q.cy }, pts[i + 1], 'the interior sample is the control point');
    t.same({ x: q.x, y: q.y }, { x: (pts[i + 1].x + pts[i + 2].x) / 2, y: (pts[i + 1].y + pts[i + 2].y) / 2 }, 'curves meet at midpoints (C1 joins)');
  });
});

t.test('drawStrokes: paper first, widths and coordinates scaled from the 280 px export', async (t) => {
  const calls: [string, ...unknown[]][] = [];
  const ctx = new Proxy({} as Record<string, unknown>, {
    get: (target, key: string) => (key in target ? target[key] : (...args: unknown[]) => calls.push([key, ...args])),
    set: (target, key: string, value) => {
      target[key] = value;
      calls.push([`set ${key}`, value]);
      return true;
    },
  });
  drawStrokes(ctx, [{ width: 28, points: [{ x: 0.5, y: 0.5 }] }, { width: 14, points: [{ x: 0, y: 0 }, { x: 1, y: 0.5 }] }], { size: 560, ink: '#111', paper: '#fff' });
  t.same(calls[0], ['set fillStyle', '#fff']);
  t.same(calls[1], ['fillRect', 0, 0, 560, 560], 'the whole canvas is painted first (opaque export)');
  t.equal(EXPORT_SIZE, 280);
  const widths = calls.filter((c) => c[0] === 'set lineWidth').map((c) => c[1]);
  t.same(widths, [56, 28], 'pen widths scale with the canvas (28 px at 280 -> 56 px at 560)');
  const arc = calls.find((c) => c[0] === 'arc');
  t.same(arc?.slice(1, 4), [280, 280, 28], 'a single tap is a round dot of the pen width');
  t.ok(calls.some((c) => c[0] === 'lineTo' && c[1] === 560 && c[2] === 280), 'coordinates are normalised * size');
});

t.test('shortcuts: C, Z, digits; not while typing; Ctrl+Z is undo', async (t) => {
  t.same(shortcutFor({ key: 'c' }), { type: 'clear' });
  t.same(shortcutFor({ key: 'C' }), { type: 'clear' });
  t.same(shortcutFor({ key: 'z' }), { type: 'undo' });
  t.same(shortcutFor({ key: 'z', ctrlKey: true }), { type: 'undo' });
  t.same(shortcutFor({ key: '7' }), { type: 'label', digit: 7 });
  t.same(shortcutFor({ key: '0' }), { type: 'label', digit: 0 });
  t.equal(shortcutFor({ key: 'c', ctrlKey: true }), null, 'Ctrl+C stays copy');
  t.equal(shortcutFor({ key: 'x' }), null);
  t.equal(shortcutFor({ key: '7', target: { tagName: 'INPUT', type: 'url' } }), null, 'typing in a text field');
  t.equal(shortcutFor({ key: '7', target: { tagName: 'TEXTAREA' } }), null);
  t.equal(shortcutFor({ key: 'c', target: { tagName: 'DIV', isContentEditable: true } }), null);
  t.same(shortcutFor({ key: 'z', target: { tagName: 'INPUT', type: 'range' } }), { type: 'undo' }, 'the pen slider does not swallow shortcuts');
});

t.test('errors: API errors in plain words', async (t) => {
  const noDigit = errors.errorFromResponse(422, { error: { code: 'no_digit', message: 'blank image' } });
  t.equal(noDigit.title, 'No digit found.');
  t.equal(noDigit.code, 'no_digit');
  t.match(errors.errorFromResponse(413, { error: { code: 'too_large', message: 'x' } }).title, /too large/);
  t.match(errors.errorFromResponse(413, null).detail, /5 MB/, 'a 413 with no JSON body (a proxy) still explains');
  t.match(errors.errorFromResponse(415, { error: { code: 'unsupported_type', message: '' } }).detail, /PNG, JPEG/);
  t.match(errors.errorFromResponse(429, {}).title, /Too many/);
  t.match(errors.errorFromResponse(503, { error: { code: 'x', message: 'stack trace' } }).title, /server/);
  t.notMatch(errors.errorFromResponse(500, { error: { code: 'x', message: 'stack trace' } }).detail, /stack/, 'internal messages are not shown');
  t.equal(errors.errorFromResponse(400, { error: { code: 'bad_url', message: 'Only http(s) addresses.' } }).detail, 'Only http(s) addresses.', 'a 400 shows the service’s own explanation');
  const fetchFailed = errors.errorFromResponse(502, { error: { code: 'url_fetch_failed', message: 'the URL answered HTTP 404' } });
  t.equal(fetchFailed.title, 'Couldn’t fetch that image.', 'a linked image the service could not fetch is not "a server problem"');
  t.equal(fetchFailed.detail, 'the URL answered HTTP 404');
  const net = errors.networkError();
  t.equal(net.status, 0);
  t.match(net.title, /reach the server/);
  t.match(errors.fileTooLargeError(7 * 1024 * 1024).detail, /7\.0 MB/);
});

t.test('history query: only the filters that are set, confidence as a fraction', async (t) => {
  const f = hq.emptyFilters();
  t.equal(hq.historyQuery(f, null, 12), 'limit=12');
  t.notOk(hq.hasActiveFilters(f));
  const g = { digit: '7', status: 'incorrect', source: 'canvas', minConfidence: 0.8 };
  t.ok(hq.hasActiveFilters(g));
  const params = new URLSearchParams(hq.historyQuery(g, 'abc==', 12));
  t.same(Object.fromEntries(params), { limit: '12', cursor: 'abc==', digit: '7', status: 'incorrect', source: 'canvas', minConfidence: '0.8' });
  t.equal(new URLSearchParams(hq.historyQuery({ ...f, digit: '0' }, null, 5)).get('digit'), '0', 'digit 0 is a filter, not "empty"');
});

t.test('format: percentages, confidence bands, times', async (t) => {
  t.equal(format.percent(0.97), '97%');
  t.equal(format.percent(0.996), '99.6%', 'not rounded up to a false 100%');
  t.equal(format.percent(1), '100%');
  t.equal(format.percent(0.99999), '99.9%', 'almost certain is not shown as 100.0%');
  t.equal(format.percent(0.004), '<1%');
  t.equal(format.percent(0), '0%');
  t.equal(format.percent(0.99312, 2), '99.31%');
  t.equal(format.confidenceLevel(0.95), 'high');
  t.equal(format.confidenceLevel(0.7), 'medium');
  t.equal(format.confidenceLevel(0.3), 'low');
  t.equal(format.formatMs(1.94), '1.9 ms');
  t.equal(format.formatMs(42.4), '42 ms');
  t.equal(format.formatMs(1500), '1.5 s');
  t.equal(format.formatMs(null), '–');
  const now = new Date('2026-11-26T12:00:00Z');
  t.equal(format.relativeTime(new Date('2026-11-26T11:59:50Z'), now), 'just now');
  t.equal(format.relativeTime('2026-11-26T11:55:00Z', now), '5 min ago');
  t.equal(format.relativeTime('2026-11-26T09:00:00Z', now), '3 h ago');
  t.equal(format.relativeTime('2026-11-25T08:00:00Z', now), 'yesterday');
  t.equal(format.sourceLabel('canvas'), 'Drawn');
  t.equal(format.sourceLabel('url'), 'Link');
});

t.test('theme: remembered choice, system by default, storage failures tolerated', async (t) => {
  const data = new Map<string, string>();
  const storage = { getItem: (k: string) => data.get(k) ?? null, setItem: (k: string, v: string) => void data.set(k, v) };
  t.equal(theme.loadThemePreference(storage), 'system');
  theme.saveThemePreference(storage, 'dark');
  t.equal(data.get(theme.THEME_KEY), 'dark');
  t.equal(theme.loadThemePreference(storage), 'dark');
  data.set(theme.THEME_KEY, 'purple');
  t.equal(theme.loadThemePreference(storage), 'system', 'an unknown saved value falls back to system');
  const throwing = {
    getItem: () => {
      throw new Error('SecurityError');
    },
    setItem: () => {
      throw new Error('QuotaExceeded');
    },
  };
  t.equal(theme.loadThemePreference(throwing), 'system');
  t.doesNotThrow(() => theme.saveThemePreference(throwing, 'light'));
  t.equal(theme.resolveTheme('system', true), 'dark');
  t.equal(theme.resolveTheme('system', false), 'light');
  t.equal(theme.resolveTheme('light', true), 'light');
});

t.test('api shapes: predictions, history pages and stats from the service JSON', async (t) => {
  const p = shapes.normalizePrediction({ id: 42, digit: 7, confidence: 0.9, probabilities: [0.1, 0.9], timings: { totalMs: 2 }, logged: true });
  t.equal(p.id, '42');
  t.equal(p.probabilities.length, 10, 'always ten bars');
  t.equal(p.timings.totalMs, 2);
  t.equal(shapes.normalizePrediction({ logged: false }).logged, false);
  const page = shapes.normalizeHistoryPage({ items: [{ id: 'a', label: 3, thumbnail: 'data:x' }, { id: 'b' }], nextCursor: 'n1', total: '7' });
  t.equal(page.total, 7);
  t.equal(page.totalExact, true, 'a total is exact unless the server says otherwise');
  t.equal(shapes.normalizeHistoryPage({ items: [], nextCursor: null, total: 10000, totalExact: false }).totalExact, false, 'a capped total stays capped');
  t.equal(page.nextCursor, 'n1');
  t.equal(page.items[0].label, 3);
  t.equal(page.items[1].label, null, 'no label = unlabelled');
  t.equal(shapes.normalizeHistoryPage({ items: [], nextCursor: null, total: 0 }).nextCursor, null);
  const when = Date.UTC(2026, 10, 26, 12, 0, 0);
  t.equal(shapes.normalizeHistoryPage({ items: [{ id: 'c', createdAt: when }] }).items[0].createdAt, '2026-11-26T12:00:00.000Z', 'epoch ms become ISO');
  const cm = Array.from({ length: 10 }, (_, i) => Array.from({ length: 10 }, (_, j) => (i === j ? 2 : i === 1 && j === 7 ? 1 : 0)));
  const s = shapes.normalizeStats({ total: 30, confusion: cm });
  t.equal(s.labelled, 21, 'labelled counted from the matrix when not given');
  t.equal(s.correct, 20);
  t.equal(s.accuracy, 20 / 21);
  t.equal(shapes.normalizeStats({}).accuracy, null, 'no feedback: no accuracy, not 0%');
});

t.test('debounce: one trailing call with the last arguments; cancel and flush', async (t) => {
  const calls: number[] = [];
  const d = debounce((n: number) => calls.push(n), 20);
  d(1);
  d(2);
  d(3);
  await new Promise((r) => setTimeout(r, 60));
  t.same(calls, [3]);
  d(4);
  d.cancel();
  await new Promise((r) => setTimeout(r, 40));
  t.same(calls, [3], 'cancelled');
  d(5);
  d.flush();
  t.same(calls, [3, 5], 'flushed at once');
});
