/**
 * A log-bucketed histogram (about 2 % relative error) so millions of delay
 * samples cost one array increment each and percentiles stay cheap.
 */
const GROWTH = 1.02;
const LOG_GROWTH = Math.log(GROWTH);
/** Smallest value kept apart from zero (1 µs when recording milliseconds). */
const MIN = 0.001;
const BUCKETS = Math.ceil(Math.log(1e6 / MIN) / LOG_GROWTH) + 2;

/** A histogram's raw buckets (sparse: [bucket, count] pairs), to merge histograms across processes. */
export interface HistogramSnapshot {
  buckets: [number, number][];
  count: number;
  sum: number;
  max: number;
}

export class Histogram {
  readonly #counts = new Uint32Array(BUCKETS);
  count = 0;
  sum = 0;
  max = 0;

  record(value: number): void {
    if (!Number.isFinite(value)) return;
    const v = value < 0 ? 0 : value;
    const i = v <= MIN ? 0 : Math.min(BUCKETS - 1, 1 + Math.floor(Math.log(v / MIN) / LOG_GROWTH));
    this.#counts[i]!++;
    this.count++;
    this.sum += v;
    if (v > this.max) this.max = v;
  }

  merge(other: Histogram): void {
    for (let i = 0; i < BUCKETS; i++) this.#counts[i]! += other.#counts[i]!;
    this.count += other.count;
    this.sum += other.sum;
    this.max = Math.max(this.max, other.max);
  }

  snapshot(): HistogramSnapshot {
    const buckets: [number, number][] = [];
    for (let i = 0; i < BUCKETS; i++) if (this.#counts[i]) buckets.push([i, this.#counts[i]!]);
    return { buckets, count: this.count, sum: this.sum, max: this.max };
  }

  /** Adds another process's raw buckets (what merge() does for a histogram in this process). */
  mergeSnapshot(s: HistogramSnapshot): void {
    for (const [i, n] of s.buckets) if (i >= 0 && i < BUCKETS) this.#counts[i]! += n;
    this.count += s.count;
    this.sum += s.sum;
    this.max = Math.max(this.max, s.max);
  }

  static fromSnapshots(list: readonly HistogramSnapshot[]): Histogram {
    const h = new Histogram();
    for (const s of list) h.mergeSnapshot(s);
    return h;
  }

  /** q in [0, 1]; NaN when empty. Returns the bucket's upper edge (a slight over-estimate). */
  quantile(q: number): number {
    if (this.count === 0) return Number.NaN;
    const target = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i]!;
      if (seen >= target) return Math.min(this.max, i === 0 ? MIN : MIN * GROWTH ** i);
    }
    return this.max;
  }

  get mean(): number {
    return this.count ? this.sum / this.count : Number.NaN;
  }

  reset(): void {
    this.#counts.fill(0);
    this.count = 0;
    this.sum = 0;
    this.max = 0;
  }
}

/** Nearest-rank percentile of an already sorted sample; NaN when empty. */
function pickSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** p50, p95 and p99 of a small sample (join times) with one sort. */
export function quantiles(values: readonly number[]): { p50: number; p95: number; p99: number; n: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: pickSorted(sorted, 0.5),
    p95: pickSorted(sorted, 0.95),
    p99: pickSorted(sorted, 0.99),
    n: values.length,
  };
}
