/**
 * The generator's event-loop lag, kept as raw histogram buckets so the lag of
 * several generator processes merges into one distribution (a percentile of
 * percentiles would not mean anything). A 10 ms timer records how long each
 * of its intervals really took; what exceeds 10 ms is the lag.
 */
import { Histogram } from './histogram.js';

export const LOOP_INTERVAL_MS = 10;

export class LoopLagSampler {
  /** Timer intervals in ms (10 on an idle loop). */
  readonly intervals = new Histogram();
  #timer: NodeJS.Timeout | undefined;
  #last = 0;

  start(): void {
    if (this.#timer) return;
    this.#last = performance.now();
    this.#timer = setInterval(() => {
      const now = performance.now();
      this.intervals.record(now - this.#last);
      this.#last = now;
    }, LOOP_INTERVAL_MS);
    this.#timer.unref();
  }

  reset(): void {
    this.intervals.reset();
    this.#last = performance.now();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

/** p99 lag of a (possibly merged) interval histogram: the excess over the timer's interval. */
export function loopLagP99Ms(intervals: Histogram): number {
  const p99 = intervals.quantile(0.99);
  return Number.isFinite(p99) ? Math.max(0, p99 - LOOP_INTERVAL_MS) : 0;
}
