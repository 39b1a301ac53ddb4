// Learning-rate schedules as pure functions of the step (0-based, one step = one batch), so
// resuming only needs the step counter.
//
// onecycle: torch.optim.lr_scheduler.OneCycleLR (anneal 'cos', two phases): from maxLr/div up to
//   maxLr over the first pctStart of the steps, then down to maxLr/(div·finalDiv), both halves
//   cosine-shaped: lr = end + (start − end)·(1 + cos(π·t))/2.
// cosine: linear warm-up from maxLr/warmupSteps to maxLr over warmupSteps, then cosine decay to
//   minLr at the last step.
// constant: maxLr throughout.

export type ScheduleName = 'onecycle' | 'cosine' | 'constant';
export const SCHEDULES: readonly ScheduleName[] = ['onecycle', 'cosine', 'constant'];

export interface ScheduleConfig {
  name: ScheduleName;
  maxLr: number;
  totalSteps: number;
  /** onecycle: fraction of steps spent rising (PyTorch default 0.3). */
  pctStart: number;
  /** onecycle: initial lr = maxLr / divFactor (PyTorch default 25). */
  divFactor: number;
  /** onecycle: final lr = initial / finalDivFactor (PyTorch default 1e4). */
  finalDivFactor: number;
  /** cosine: warm-up length in steps. */
  warmupSteps: number;
  /** cosine: lr at the last step. */
  minLr: number;
}

/** A schedule as a recipe states it: everything but the step counts, which only the trainer
 *  knows (steps per epoch come from the data), so nobody builds a placeholder. */
export type ScheduleShape = Omit<ScheduleConfig, 'totalSteps' | 'warmupSteps'>;

/** PyTorch's OneCycleLR defaults (and minLr 0 for cosine). */
export function scheduleShape(name: ScheduleName, maxLr: number): ScheduleShape {
  return { name, maxLr, pctStart: 0.3, divFactor: 25, finalDivFactor: 1e4, minLr: 0 };
}

/** The schedule as run: the shape with its step counts (a resolved schedule's are replaced). */
export function resolveSchedule(shape: ScheduleShape, totalSteps: number, warmupSteps: number): ScheduleConfig {
  return { ...shape, totalSteps, warmupSteps };
}

export function defaultSchedule(name: ScheduleName, maxLr: number, totalSteps: number): ScheduleConfig {
  return resolveSchedule(scheduleShape(name, maxLr), totalSteps, Math.round(totalSteps * 0.05));
}

function annealCos(start: number, end: number, t: number): number {
  return end + ((start - end) / 2) * (Math.cos(Math.PI * t) + 1);
}

export function lrAt(c: ScheduleConfig, step: number): number {
  const s = Math.min(Math.max(step, 0), c.totalSteps - 1);
  switch (c.name) {
    case 'constant':
      return c.maxLr;
    case 'onecycle': {
      const initial = c.maxLr / c.divFactor;
      const final = initial / c.finalDivFactor;
      const peak = c.pctStart * c.totalSteps - 1;
      const last = c.totalSteps - 1;
      if (s <= peak) return annealCos(initial, c.maxLr, peak > 0 ? s / peak : 1);
      return annealCos(c.maxLr, final, (s - peak) / (last - peak));
    }
    case 'cosine': {
      if (s < c.warmupSteps) return (c.maxLr * (s + 1)) / c.warmupSteps;
      const span = c.totalSteps - 1 - c.warmupSteps;
      return annealCos(c.maxLr, c.minLr, span > 0 ? (s - c.warmupSteps) / span : 1);
    }
  }
}

/** onecycle's momentum cycling (β1 for Adam, momentum for SGD): opposite to the lr, between
 *  maxMomentum at the ends and baseMomentum at the peak (PyTorch: 0.95 and 0.85). Other
 *  schedules keep maxMomentum. */
export function momentumAt(c: ScheduleConfig, step: number, baseMomentum = 0.85, maxMomentum = 0.95): number {
  if (c.name !== 'onecycle') return maxMomentum;
  const s = Math.min(Math.max(step, 0), c.totalSteps - 1);
  const peak = c.pctStart * c.totalSteps - 1;
  const last = c.totalSteps - 1;
  if (s <= peak) return annealCos(maxMomentum, baseMomentum, peak > 0 ? s / peak : 1);
  return annealCos(baseMomentum, maxMomentum, (s - peak) / (last - peak));
}
