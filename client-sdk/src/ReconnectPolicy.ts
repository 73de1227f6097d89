/**
 * How a room retries after its signaling connection drops. The Room asks the
 * policy before every attempt; the policy answers with a delay or gives up.
 * Pass your own with `connect(url, token, { reconnectPolicy })`.
 */

/** What a policy knows when deciding on the next attempt. */
export interface ReconnectContext {
  /** Attempts made so far for this outage (0 before the first). */
  readonly retryCount: number;
  /** Milliseconds since the connection was lost. */
  readonly elapsedMs: number;
  /** The WebSocket close code of the lost connection. */
  readonly closeCode: number;
  /** The WebSocket close reason, possibly empty. */
  readonly closeReason: string;
}

/** Decides whether and when to try again after the connection dropped (`ConnectOptions.reconnectPolicy`). */
export interface ReconnectPolicy {
  /** Milliseconds to wait before the next attempt, or `null` to give up. */
  nextRetryDelayMs(context: ReconnectContext): number | null;
}

/** Options of `DefaultReconnectPolicy`. */
export interface DefaultReconnectPolicyOptions {
  /**
   * Base delay before each attempt; the last one repeats.
   * Default: 300 ms, 1 s, 2 s, 4 s (then every 4 s).
   */
  delaysMs?: readonly number[];
  /**
   * Each delay is spread by up to this fraction either way, so a room full of
   * clients cut off together does not hammer the server in lockstep. Default 0.3.
   */
  jitter?: number;
  /**
   * No attempt starts later than this after the connection was lost. Default
   * 20 000 ms: the server keeps a dropped participant's place for 20 s
   * (`rooms.reconnectGraceMs`); after that a session can only be joined afresh.
   */
  maxElapsedMs?: number;
  /** Source of randomness in [0, 1); for tests. */
  random?: () => number;
}

/** Backoff with jitter, bounded by the server's reconnect grace period. */
export class DefaultReconnectPolicy implements ReconnectPolicy {
  readonly #delays: readonly number[];
  readonly #jitter: number;
  readonly #maxElapsedMs: number;
  readonly #random: () => number;

  constructor(options: DefaultReconnectPolicyOptions = {}) {
    const delays = options.delaysMs ?? [300, 1000, 2000, 4000];
    if (delays.length === 0 || delays.some((d) => !(d >= 0)))
      throw new RangeError('delaysMs must be a non-empty list of delays >= 0');
    this.#delays = [...delays];
    this.#jitter = Math.min(Math.max(options.jitter ?? 0.3, 0), 1);
    this.#maxElapsedMs = options.maxElapsedMs ?? 20_000;
    this.#random = options.random ?? Math.random;
  }

  nextRetryDelayMs(context: ReconnectContext): number | null {
    const base = this.#delays[Math.min(context.retryCount, this.#delays.length - 1)]!;
    const delay = Math.round(base * (1 + this.#jitter * (2 * this.#random() - 1)));
    if (context.elapsedMs + delay > this.#maxElapsedMs) return null;
    return delay;
  }
}

/** Never reconnect: a dropped connection ends the room with `connectionLost`. */
export const noReconnect: ReconnectPolicy = {
  nextRetryDelayMs: () => null,
};
