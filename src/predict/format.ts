// Output formats of `inkling predict`: JSON lines (one object per file) or CSV with a header.
import type { PredictRecord } from './run.ts';

export type OutputFormat = 'jsonl' | 'csv';

const round = (x: number) => Math.round(x * 1e6) / 1e6;

export function jsonLine(r: PredictRecord): string {
  if (r.error !== undefined) return `${JSON.stringify({ file: r.file, error: r.error, model: r.model })}\n`;
  return `${JSON.stringify({
    file: r.file,
    digit: r.digit,
    confidence: round(r.confidence!),
    top: r.top!.map((t) => ({ digit: t.digit, probability: round(t.probability) })),
    uncertain: r.uncertain,
    reason: r.reason,
    input: r.input,
    model: r.model,
  })}\n`;
}

/** RFC 4180 quoting where needed. */
export function csvField(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvHeader(topK: number): string {
  const tops = Array.from({ length: topK }, (_, i) => `top${i + 1},p${i + 1}`).join(',');
  return `file,digit,confidence,${tops},uncertain,reason,input,model,error\n`;
}

export function csvLine(r: PredictRecord, topK: number): string {
  const tops: (string | number)[] = [];
  for (let i = 0; i < topK; i++) {
    const t = r.top?.[i];
    tops.push(t ? t.digit : '', t ? round(t.probability) : '');
  }
  const fields = [r.file, r.digit, r.confidence === undefined ? undefined : round(r.confidence), ...tops, r.uncertain, r.reason, r.input, r.model, r.error];
  return `${fields.map((f) => csvField(f as string | number | boolean | null | undefined)).join(',')}\n`;
}
