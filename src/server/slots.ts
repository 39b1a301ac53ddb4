// A counting semaphore: at most `size` tasks hold a slot at once; the others wait in arrival
// order. The preprocessing pool bounds its large decodes with it (preprocess-pool.ts).

export class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];
  /** The most tasks that ever waited at once (metrics, tests). */
  peakWaiting = 0;

  constructor(readonly size: number) {
    if (!(size >= 1)) throw new RangeError(`Slots: size must be at least 1 (got ${size})`);
    this.free = size;
  }

  /** Tasks waiting for a slot now. */
  get waitingCount(): number {
    return this.waiting.length;
  }

  /** Runs `task` once a slot is free; the slot is given back when it settles, however it ends. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else {
      await new Promise<void>((resolve) => {
        this.waiting.push(resolve);
        this.peakWaiting = Math.max(this.peakWaiting, this.waiting.length);
      });
    }
    try {
      return await task();
    } finally {
      // The slot passes straight to the next waiter (it never becomes free in between, so a task
      // arriving meanwhile cannot overtake the queue).
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}
