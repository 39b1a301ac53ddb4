import t from 'tap';
import { defaultSchedule, lrAt, momentumAt } from '../../training/schedule.ts';

t.test('onecycle matches PyTorch OneCycleLR endpoints and peak', async (t) => {
  const c = defaultSchedule('onecycle', 0.01, 1000);
  t.ok(Math.abs(lrAt(c, 0) - 0.01 / 25) < 1e-12, 'starts at max/div_factor');
  t.ok(Math.abs(lrAt(c, 299) - 0.01) < 1e-12, 'peaks at step pct_start·total − 1');
  t.ok(Math.abs(lrAt(c, 999) - 0.01 / 25 / 1e4) < 1e-15, 'ends at initial/final_div_factor');
  // Values PyTorch 1.13 prints for OneCycleLR(max_lr=0.01, total_steps=1000) at steps 100 and 650.
  t.ok(Math.abs(lrAt(c, 100) - 0.0028145736) < 1e-9, `step 100: ${lrAt(c, 100)}`);
  t.ok(Math.abs(lrAt(c, 650) - 0.0049775802) < 1e-9, `step 650: ${lrAt(c, 650)}`);
  let rising = true;
  for (let s = 1; s < 300; s++) if (lrAt(c, s) <= lrAt(c, s - 1)) rising = false;
  t.ok(rising, 'monotone up to the peak');
  t.ok(Math.abs(momentumAt(c, 0) - 0.95) < 1e-12 && Math.abs(momentumAt(c, 299) - 0.85) < 1e-12 && Math.abs(momentumAt(c, 999) - 0.95) < 1e-12);
});

t.test('cosine with warm-up and constant', async (t) => {
  const c = { ...defaultSchedule('cosine', 0.1, 200), warmupSteps: 10, minLr: 0.001 };
  t.ok(Math.abs(lrAt(c, 0) - 0.01) < 1e-12, 'warm-up starts at max/warmup');
  t.ok(Math.abs(lrAt(c, 9) - 0.1) < 1e-12, 'reaches max at the end of warm-up');
  t.ok(Math.abs(lrAt(c, 10) - 0.1) < 1e-12);
  t.ok(Math.abs(lrAt(c, 199) - 0.001) < 1e-12, 'ends at minLr');
  t.ok(Math.abs(lrAt(c, 10 + 189 / 2) - (0.001 + 0.099 / 2)) < 1e-9, 'halfway is the midpoint');
  t.equal(lrAt(c, 5000), lrAt(c, 199), 'past the end stays at the end');
  t.equal(lrAt(defaultSchedule('constant', 0.3, 10), 7), 0.3);
});
