// The circuit breaker (issue 14, D6): a call that hangs is cut by the client-side timeout and, for
// writes, opens the breaker; while open, calls fail at once; one probe at a time checks the
// dependency, and the breaker closes (listeners hear it) when a probe answers. An error that is
// not about the connection opens it only if the probe fails too.
import t from 'tap';
import { CircuitBreaker, CircuitOpenError, CallTimeoutError } from '../../src/server/circuit-breaker.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const never = () => new Promise<never>(() => {});

function breaker(state: { up: boolean; probes: number; inFlight: number; maxInFlight: number; hang?: boolean; neverSettle?: boolean }) {
  return new CircuitBreaker({
    name: 'dep',
    probeTimeoutMs: 50,
    probeIntervalMs: 20,
    isConnectionError: (e) => (e as Error).message === 'ECONNREFUSED',
    probe: async () => {
      state.probes++;
      state.inFlight++;
      state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
      if (state.neverSettle) {
        state.neverSettle = false; // only the first probe: its connection is gone for good
        return never();
      }
      try {
        if (state.hang) await sleep(500);
        if (!state.up) throw new Error('down');
      } finally {
        state.inFlight--;
      }
    },
  });
}

t.test('a hanging call times out, trips the breaker, later calls fail at once, a probe closes it', async (t) => {
  const state = { up: false, probes: 0, inFlight: 0, maxInFlight: 0 };
  const b = breaker(state);
  const changes: boolean[] = [];
  b.onChange((open) => changes.push(open));
  const t0 = performance.now();
  await t.rejects(b.call(never, { timeoutMs: 100, tripOnTimeout: true }), CallTimeoutError);
  t.ok(performance.now() - t0 < 400, 'cut at the timeout');
  t.equal(b.isOpen, true, 'open');
  const t1 = performance.now();
  await t.rejects(b.call(async () => 1, { timeoutMs: 100 }), CircuitOpenError);
  t.ok(performance.now() - t1 < 20, 'open: fails at once, without calling');
  await sleep(100);
  t.equal(b.isOpen, true, 'still open while the probe fails');
  state.up = true;
  await b.whenClosed(2000);
  t.equal(await b.call(async () => 42, { timeoutMs: 100 }), 42, 'closed again: calls go through');
  t.same(changes, [true, false], 'listeners heard open, then closed');
  t.equal(b.trips, 1);
  await b.stop();
});

t.test('a slow read (no tripOnTimeout) opens the breaker only if the probe fails too', async (t) => {
  const state = { up: true, probes: 0, inFlight: 0, maxInFlight: 0 };
  const b = breaker(state);
  await t.rejects(b.call(never, { timeoutMs: 50 }), CallTimeoutError);
  t.equal(b.isOpen, false, 'the database answers the probe: a slow query is not an outage');
  state.up = false;
  await t.rejects(b.call(never, { timeoutMs: 50 }), CallTimeoutError);
  t.equal(b.isOpen, true, 'the probe fails too: open');
  await b.stop();
});

t.test('a query error opens it only when the probe fails; a connection error opens it at once', async (t) => {
  const state = { up: true, probes: 0, inFlight: 0, maxInFlight: 0 };
  const b = breaker(state);
  await t.rejects(b.call(async () => { throw new Error('check constraint violated'); }, { timeoutMs: 100 }), /check constraint/);
  t.equal(b.isOpen, false, 'a bad row is not an outage');
  const probes = state.probes;
  await t.rejects(b.call(async () => { throw new Error('ECONNREFUSED'); }, { timeoutMs: 100 }), /ECONNREFUSED/);
  t.equal(b.isOpen, true, 'a refused connection is');
  t.equal(state.probes, probes, 'without a probe first');
  await b.stop();
});

t.test('one probe at a time, even when probes hang past their timeout', async (t) => {
  const state = { up: false, probes: 0, inFlight: 0, maxInFlight: 0, hang: true };
  const b = breaker(state);
  b.trip('test');
  await sleep(700);
  t.equal(state.maxInFlight, 1, 'never two probes in flight');
  t.ok(state.probes >= 1 && state.probes <= 3, `${state.probes} probe(s) in 700 ms with 500 ms hangs`);
  await b.stop();
});

t.test('a probe that never settles is given up on, so the breaker still closes when the dependency is back', async (t) => {
  const state = { up: false, probes: 0, inFlight: 0, maxInFlight: 0, neverSettle: true };
  const b = breaker(state);
  b.trip('test');
  await sleep(100);
  state.up = true;
  t.equal(b.isOpen, true, 'open while the only probe hangs');
  // 50 ms probe timeout x PROBE_ABANDON_FACTOR (20) = 1 s before a fresh probe goes out.
  await b.whenClosed(5_000);
  t.equal(b.isOpen, false, 'closed by a fresh probe');
  t.ok(state.probes >= 2, `${state.probes} probes (the hung one was abandoned)`);
  await b.stop();
});
