/**
 * One token bucket (util/RateLimiter) per key — an identity or an IP address —
 * so `limit` starts per `windowMs` are allowed for each key. Buckets that have
 * filled up again are forgotten, so the map cannot grow without bound from
 * many one-off callers.
 */
import { RateLimiter } from '../util/RateLimiter.js';

export class KeyedRateLimiter {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, { limiter: RateLimiter; lastMs: number }>();
  /** Hard bound on the keys held at once; past it, the oldest are dropped. */
  readonly #maxKeys: number;

  constructor(limit: number, windowMs: number, options: { now?: () => number; maxKeys?: number } = {}) {
    this.#limit = limit;
    this.#windowMs = windowMs;
    this.#now = options.now ?? (() => performance.now());
    this.#maxKeys = options.maxKeys ?? 100_000;
  }

  /** Takes one start for `key`; false when `key` has used up its allowance. */
  take(key: string): boolean {
    const now = this.#now();
    this.#sweep(now);
    const bucket = this.#buckets.get(key) ?? {
      limiter: new RateLimiter((this.#limit * 1000) / this.#windowMs, this.#limit, this.#now),
      lastMs: now,
    };
    bucket.lastMs = now;
    // Re-inserted on every use, so the map's order is least recently used first.
    this.#buckets.delete(key);
    this.#buckets.set(key, bucket);
    if (this.#buckets.size > this.#maxKeys) this.#buckets.delete(this.#buckets.keys().next().value as string);
    return bucket.limiter.take();
  }

  get size(): number {
    return this.#buckets.size;
  }

  /** A bucket untouched for a whole window is full again; forgetting it changes nothing. */
  #sweep(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      if (now - bucket.lastMs < this.#windowMs) break; // least recently used first: the rest are newer
      this.#buckets.delete(key);
    }
  }
}
