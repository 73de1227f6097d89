/**
 * Retry delays: exponential with full jitter (a random wait between 0 and
 * min(cap, base · 2^(attempt-1))), so endpoints coming back from an outage are
 * not hit by every queued room at the same instant.
 */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

/** The ceiling of the wait after the `attempt`-th failure (1-based). */
export function backoffCeilingMs(attempt: number, { initialMs, maxMs }: BackoffOptions): number {
  // 2^31 overflows nothing in a double, but clamp the exponent so huge attempt counts stay finite.
  return Math.min(maxMs, initialMs * 2 ** Math.min(Math.max(attempt - 1, 0), 40));
}

/** The wait after the `attempt`-th failure; `random` returns [0, 1). */
export function backoffDelayMs(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  return Math.floor(random() * backoffCeilingMs(attempt, options));
}
