// Turns the service's JSON into the shapes the views use, in one place, so a renamed field on
// the service side is a one-line change here. Pure (Node-testable).

/** @param {unknown} v */
const obj = (v) => /** @type {Record<string, any>} */ (v && typeof v === 'object' ? v : {}); // any: untyped JSON
/** @param {unknown} v */
const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v !== '' && Number.isFinite(Number(v)) ? Number(v) : null);

/**
 * @typedef {{ id: string, digit: number, confidence: number, probabilities: number[],
 *   modelVersion: string, input: string, timings: { decodeMs: number|null, preprocessMs: number|null,
 *   inferenceMs: number|null, totalMs: number|null }, logged: boolean,
 *   uncertain: boolean, reason: string|null, message: string|null }} Prediction
 * @param {unknown} raw @returns {Prediction}
 */
export function normalizePrediction(raw) {
  const r = obj(raw);
  const t = obj(r.timings);
  const probabilities = Array.isArray(r.probabilities) ? r.probabilities.map((p) => num(p) ?? 0) : [];
  return {
    id: String(r.id ?? ''),
    digit: num(r.digit) ?? -1,
    confidence: num(r.confidence) ?? 0,
    probabilities: probabilities.length === 10 ? probabilities : Array.from({ length: 10 }, (_, i) => probabilities[i] ?? 0),
    modelVersion: String(r.modelVersion ?? ''),
    input: typeof r.input === 'string' ? r.input : '',
    timings: {
      decodeMs: num(t.decodeMs),
      preprocessMs: num(t.preprocessMs),
      inferenceMs: num(t.inferenceMs),
      totalMs: num(t.totalMs),
    },
    logged: r.logged !== false,
    // the service's "not a digit" detector (or a low top probability): say so next to the guess
    uncertain: r.uncertain === true,
    reason: typeof r.reason === 'string' ? r.reason : null,
    message: typeof r.message === 'string' ? r.message : null,
  };
}

/**
 * @typedef {{ id: string, createdAt: string, source: string, digit: number, confidence: number,
 *   label: number | null, thumbnail: string, input: string }} HistoryItem
 * @param {unknown} raw @returns {HistoryItem}
 */
export function normalizeHistoryItem(raw) {
  const r = obj(raw);
  const label = num(r.label ?? r.trueLabel ?? r.true_label);
  const created = r.createdAt ?? r.created_at;
  return {
    id: String(r.id ?? ''),
    // An ISO string, or epoch milliseconds (what Slonik gives for timestamptz): always ISO here.
    createdAt: typeof created === 'number' ? new Date(created).toISOString() : typeof created === 'string' ? created : '',
    source: String(r.source ?? ''),
    digit: num(r.digit) ?? -1,
    confidence: num(r.confidence) ?? 0,
    label,
    thumbnail: typeof r.thumbnail === 'string' ? r.thumbnail : '',
    input: typeof r.input === 'string' ? r.input : '',
  };
}

/**
 * @param {unknown} raw
 * @returns {{ items: HistoryItem[], nextCursor: string | null, total: number, totalExact: boolean }}
 */
export function normalizeHistoryPage(raw) {
  const r = obj(raw);
  const items = Array.isArray(r.items) ? r.items.map(normalizeHistoryItem) : [];
  return {
    items,
    nextCursor: typeof r.nextCursor === 'string' && r.nextCursor ? r.nextCursor : null,
    total: num(r.total) ?? items.length,
    // false: the total is a cap ("at least"; the server counts date-range matches up to 10,000)
    totalExact: r.totalExact !== false,
  };
}

/**
 * @typedef {{ total: number, labelled: number, correct: number, accuracy: number | null,
 *   confusion: number[][], perDay: { day: string, count: number }[],
 *   latency: { p50: number | null, p90: number | null, p95: number | null, p99: number | null } }} Stats
 * @param {unknown} raw @returns {Stats}
 */
export function normalizeStats(raw) {
  const r = obj(raw);
  const confusionRaw = Array.isArray(r.confusion) ? r.confusion : Array.isArray(r.confusionMatrix) ? r.confusionMatrix : [];
  const confusion = Array.from({ length: 10 }, (_, i) =>
    Array.from({ length: 10 }, (_, j) => num(Array.isArray(confusionRaw[i]) ? confusionRaw[i][j] : 0) ?? 0),
  );
  const labelledFromMatrix = confusion.flat().reduce((a, b) => a + b, 0);
  const correctFromMatrix = confusion.reduce((a, row, i) => a + row[i], 0);
  const labelled = num(r.labelled ?? r.labeled) ?? labelledFromMatrix;
  const correct = num(r.correct) ?? correctFromMatrix;
  const perDayRaw = Array.isArray(r.perDay) ? r.perDay : Array.isArray(r.predictionsPerDay) ? r.predictionsPerDay : [];
  const l = obj(r.latency ?? r.latencyMs);
  return {
    total: num(r.total) ?? 0,
    labelled,
    correct,
    accuracy: num(r.accuracy) ?? (labelled > 0 ? correct / labelled : null),
    confusion,
    perDay: perDayRaw.map((d) => ({ day: String(obj(d).day ?? obj(d).date ?? ''), count: num(obj(d).count) ?? 0 })),
    latency: { p50: num(l.p50), p90: num(l.p90), p95: num(l.p95), p99: num(l.p99) },
  };
}

/**
 * @typedef {{ name: string, version: string, architecture: string, layers: string, parameters: number | null,
 *   accuracy: number | null, temperature: number | null, backend: string }} ModelInfo
 * @param {unknown} raw @returns {ModelInfo}
 */
export function normalizeModel(raw) {
  const r = obj(raw);
  return {
    name: String(r.name ?? ''),
    version: String(r.version ?? r.modelVersion ?? ''),
    layers: typeof r.architectureDetail === 'string' ? r.architectureDetail : '',
    architecture: typeof r.architecture === 'string' ? r.architecture : r.architecture ? JSON.stringify(r.architecture) : '',
    parameters: num(r.parameters ?? r.parameterCount),
    accuracy: num(r.accuracy ?? r.testAccuracy),
    temperature: num(r.temperature),
    backend: String(r.backend ?? ''),
  };
}
