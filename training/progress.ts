// The per-epoch progress display. On a terminal: one line redrawn in place,
//   epoch  3/12 [██████████░░░░░░░░░░] 215/429  1,620 samples/s  loss 0.0412  acc 98.71%  ETA 0:13
// Otherwise (logs, CI, pipes): a plain line at each quarter of the epoch, nothing redrawn.

export interface ProgressSnapshot {
  step: number;
  samples: number;
  loss: number;
  accuracy: number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export class EpochProgress {
  private readonly start = performance.now();
  private lastQuarter = 0;

  constructor(
    private readonly out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
    private readonly epoch: number,
    private readonly epochs: number,
    private readonly steps: number,
    private readonly tty = Boolean(out.isTTY),
  ) {}

  line(s: ProgressSnapshot, barWidth = 20): string {
    const elapsed = (performance.now() - this.start) / 1000;
    const rate = elapsed > 0 ? s.samples / elapsed : 0;
    const eta = s.step > 0 ? (elapsed / s.step) * (this.steps - s.step) : NaN;
    const w = String(this.epochs).length;
    const head = `epoch ${String(this.epoch).padStart(w)}/${this.epochs}`;
    const filled = Math.round((barWidth * s.step) / this.steps);
    const bar = this.tty ? ` [${'█'.repeat(filled)}${'░'.repeat(barWidth - filled)}]` : '';
    return `${head}${bar} ${String(s.step).padStart(String(this.steps).length)}/${this.steps}  ${Math.round(rate).toLocaleString('en-US')} samples/s  loss ${s.loss.toFixed(4)}  acc ${(100 * s.accuracy).toFixed(2)}%  ETA ${formatDuration(eta)}`;
  }

  update(s: ProgressSnapshot): void {
    if (this.tty) {
      this.out.write(`\r${this.line(s)}\x1b[K`);
      return;
    }
    const quarter = Math.floor((4 * s.step) / this.steps);
    if (quarter > this.lastQuarter && s.step < this.steps) {
      this.lastQuarter = quarter;
      this.out.write(`${this.line(s)}\n`);
    }
  }

  /** Ends the epoch's line with the summary (validation figures). */
  finish(s: ProgressSnapshot, summary: string): void {
    const text = `${this.line(s)}  ${summary}`;
    this.out.write(this.tty ? `\r${text}\x1b[K\n` : `${text}\n`);
  }

  get elapsedSeconds(): number {
    return (performance.now() - this.start) / 1000;
  }
}
