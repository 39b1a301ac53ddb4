// The deploy test's load: `connections` loops POSTing a canvas PNG through the load balancer for
// `seconds`, each recording every 201's prediction id and every failure with its time. One
// callback fires at `eventAt` seconds (the test kills a replica there).
export interface LoadResult {
  durationS: number;
  acknowledged: { id: string; logged: boolean; atS: number }[];
  failures: { atS: number; what: string }[];
}

export async function runLoad(opts: {
  url: string;
  body: Buffer;
  connections: number;
  seconds: number;
  eventAt?: number;
  onEvent?: () => void;
}): Promise<LoadResult> {
  const t0 = performance.now();
  const now = () => (performance.now() - t0) / 1000;
  const result: LoadResult = { durationS: 0, acknowledged: [], failures: [] };
  let event: NodeJS.Timeout | null = null;
  if (opts.onEvent && opts.eventAt !== undefined) event = setTimeout(opts.onEvent, opts.eventAt * 1000);
  const loop = async () => {
    while (now() < opts.seconds) {
      try {
        const res = await fetch(opts.url, {
          method: 'POST',
          headers: { 'content-type': 'image/png' },
          body: new Uint8Array(opts.body),
          signal: AbortSignal.timeout(10_000),
        });
        const text = await res.text();
        if (res.status === 201) {
          const j = JSON.parse(text) as { id: string; logged: boolean };
          result.acknowledged.push({ id: j.id, logged: j.logged, atS: now() });
        } else {
          result.failures.push({ atS: now(), what: `HTTP ${res.status} ${text.slice(0, 120)}` });
        }
      } catch (err) {
        result.failures.push({ atS: now(), what: `${(err as Error).name}: ${(err as Error).message}` });
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  };
  await Promise.all(Array.from({ length: opts.connections }, loop));
  if (event) clearTimeout(event);
  result.durationS = now();
  return result;
}
