// Child process of malloc-tuning.test.ts: allocates 40 5 MB buffers with small survivors between
// them (upload buffers amid the service's other allocations), frees the large ones, three rounds,
// and prints how far the resident set stayed above where it started. With `tune`, the service's
// malloc settings are applied first.
import { limitMallocRetention } from '../../src/server/malloc-tuning.ts';

const rssMb = () => process.memoryUsage.rss() / 2 ** 20;
// gc: exposed by --expose-gc, which the test passes
const gc = (globalThis as unknown as { gc: () => void }).gc;
const tuned = process.argv[2] === 'tune' ? limitMallocRetention({}) : 'untuned';
const base = rssMb();
const survivors: Buffer[] = [];
let worst = 0;
for (let round = 0; round < 3; round++) {
  let large: Buffer[] = [];
  for (let i = 0; i < 40; i++) {
    large.push(Buffer.allocUnsafeSlow(5 * 1024 * 1024).fill(i));
    survivors.push(Buffer.allocUnsafeSlow(64 * 1024).fill(1));
  }
  large = [];
  gc();
  await new Promise((r) => setTimeout(r, 50));
  gc();
  worst = Math.max(worst, rssMb() - base);
}
console.log(JSON.stringify({ tuned, retainedMb: Math.round(worst), survivors: survivors.length }));
