// A raw HTTP/1.1 client for hostile-input tests: sends exactly the given bytes (malformed bodies,
// lying Content-Lengths, uploads cut off or stalled) on a fresh socket and reports what came back.
import net from 'node:net';

export interface RawResult {
  /** Status of the first response, or null when the server closed without answering. */
  status: number | null;
  headers: Record<string, string>;
  body: string;
  /** How the exchange ended: the server closed, the client cut it (abortAfterMs), or the timeout. */
  ended: 'closed' | 'aborted' | 'timeout';
  ms: number;
}

export interface RawOptions {
  /** Destroy the socket this long after writing (an aborted upload). */
  abortAfterMs?: number;
  /** Give up (and destroy the socket) after this long; default 10 s. */
  timeoutMs?: number;
  /** Stop reading once a full response arrived (keep-alive answers). Default true. */
  stopAtResponse?: boolean;
}

function parse(raw: Buffer): { status: number | null; headers: Record<string, string>; body: string; complete: boolean } {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return { status: null, headers: {}, body: '', complete: false };
  const lines = raw.toString('latin1', 0, end).split('\r\n');
  const status = Number(lines[0].split(' ')[1]);
  const headers: Record<string, string> = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  const body = raw.subarray(end + 4);
  const length = headers['content-length'] !== undefined ? Number(headers['content-length']) : null;
  return { status, headers, body: body.toString('utf8'), complete: length !== null && body.length >= length };
}

/** Sends `head` + `body` (written as given) to the server at `url` and collects the answer. */
export function rawRequest(url: string, bytes: Buffer | string, opts: RawOptions = {}): Promise<RawResult> {
  const u = new URL(url);
  const t0 = performance.now();
  return new Promise((resolve) => {
    const socket = net.connect(Number(u.port), u.hostname);
    let got = Buffer.alloc(0);
    let settled = false;
    const finish = (ended: RawResult['ended']) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (abort) clearTimeout(abort);
      socket.destroy();
      const p = parse(got);
      resolve({ status: p.status, headers: p.headers, body: p.body, ended, ms: performance.now() - t0 });
    };
    const timer = setTimeout(() => finish('timeout'), opts.timeoutMs ?? 10_000);
    let abort: NodeJS.Timeout | null = null;
    socket.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if ((opts.stopAtResponse ?? true) && parse(got).complete) finish('closed');
    });
    socket.on('error', () => finish('closed'));
    socket.on('close', () => finish('closed'));
    socket.on('connect', () => {
      socket.write(bytes);
      if (opts.abortAfterMs !== undefined) abort = setTimeout(() => finish('aborted'), opts.abortAfterMs);
    });
  });
}

/** A request head for POST `path` with the given headers (Content-Length is yours to state). */
export function head(url: string, path: string, headers: Record<string, string | number>, method = 'POST'): string {
  const host = new URL(url).host;
  return `${method} ${path} HTTP/1.1\r\nHost: ${host}\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
}
