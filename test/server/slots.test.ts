// Slots (src/server/slots.ts), the semaphore that bounds the service's large decodes: never more
// than `size` tasks at once, waiters served in arrival order, and a slot comes back however its
// task ends (a task that throws must not shrink the pool for good).
import t from 'tap';
import { Slots } from '../../src/server/slots.ts';

const tick = () => new Promise((r) => setTimeout(r, 1));

t.test('at most size tasks run at once, the rest in arrival order', async (t) => {
  const slots = new Slots(2);
  let running = 0;
  let most = 0;
  const started: number[] = [];
  const task = (i: number) => slots.run(async () => {
    started.push(i);
    running++;
    most = Math.max(most, running);
    for (let k = 0; k < 3; k++) await tick();
    running--;
    return i * 10;
  });
  const results = await Promise.all(Array.from({ length: 7 }, (_, i) => task(i)));
  t.same(results, [0, 10, 20, 30, 40, 50, 60]);
  t.equal(most, 2, 'never more than 2 at once');
  t.same(started, [0, 1, 2, 3, 4, 5, 6], 'started in arrival order');
  t.equal(slots.peakWaiting, 5);
  // Arrivals spread over the run too (slots handed on while others arrive).
  const late: Promise<number>[] = [];
  for (let i = 0; i < 12; i++) {
    late.push(task(i));
    await tick();
  }
  await Promise.all(late);
  t.equal(most, 2, 'still never more than 2 with arrivals spread out');
  t.equal(slots.waitingCount, 0);
});

t.test('a task that throws gives its slot back; the error reaches its caller', async (t) => {
  const slots = new Slots(1);
  await t.rejects(slots.run(async () => {
    throw new Error('decode failed');
  }), /decode failed/);
  const after = await Promise.race([slots.run(async () => 'ran'), new Promise((r) => setTimeout(() => r('stuck'), 1000))]);
  t.equal(after, 'ran', 'the next task still gets the slot');
});

t.test('a task arriving as a slot is handed on cannot overtake the queue', async (t) => {
  const slots = new Slots(1);
  const order: string[] = [];
  let release!: () => void;
  const first = slots.run(() => new Promise<void>((r) => (release = r)).then(() => void order.push('first')));
  const second = slots.run(async () => void order.push('second'));
  await tick();
  release();
  const late = slots.run(async () => void order.push('late'));
  await Promise.all([first, second, late]);
  t.same(order, ['first', 'second', 'late']);
});

t.test('size must be at least 1', async (t) => {
  t.throws(() => new Slots(0), RangeError);
  t.throws(() => new Slots(Number.NaN), RangeError);
});
