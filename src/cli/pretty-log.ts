// Logs for people: when `inkling serve` writes to a terminal, pino's JSON lines are turned into
// `12:03:04.123 INFO  message  key=value ...` (colours on a TTY). Elsewhere (files, pipes, log
// collectors) the JSON stays as it is. INKLING_LOG_FORMAT=json|pretty overrides the choice.
import { Writable } from 'node:stream';

const LEVELS: Record<number, [string, string]> = {
  10: ['TRACE', '\x1b[90m'],
  20: ['DEBUG', '\x1b[36m'],
  30: ['INFO ', '\x1b[32m'],
  40: ['WARN ', '\x1b[33m'],
  50: ['ERROR', '\x1b[31m'],
  60: ['FATAL', '\x1b[35m'],
};
const SKIP = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'service']);

export function formatLogLine(line: string, colour: boolean): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return `${line}\n`;
  }
  const time = typeof rec.time === 'number' ? new Date(rec.time).toISOString().slice(11, 23) : '';
  const [name, c] = LEVELS[Number(rec.level)] ?? [String(rec.level ?? '').toUpperCase().padEnd(5), ''];
  const extras = Object.entries(rec)
    .filter(([k]) => !SKIP.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? (/\s/.test(v) ? JSON.stringify(v) : v) : JSON.stringify(v)}`)
    .join(' ');
  const level = colour ? `${c}${name}\x1b[0m` : name;
  const dim = (s: string) => (colour ? `\x1b[2m${s}\x1b[0m` : s);
  return `${dim(time)} ${level} ${rec.msg ?? ''}${extras ? `  ${dim(extras)}` : ''}\n`;
}

/** A stream for pino's destination that writes formatted lines to `out`. */
export function prettyStream(out: NodeJS.WritableStream & { isTTY?: boolean }, colour = Boolean(out.isTTY)): Writable {
  let pending = '';
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      pending += chunk.toString();
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        out.write(formatLogLine(pending.slice(0, nl), colour));
        pending = pending.slice(nl + 1);
      }
      done();
    },
  });
}

export function wantPretty(env: NodeJS.ProcessEnv, isTTY: boolean | undefined): boolean {
  if (env.INKLING_LOG_FORMAT === 'json') return false;
  if (env.INKLING_LOG_FORMAT === 'pretty') return true;
  return Boolean(isTTY);
}
