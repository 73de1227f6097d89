/**
 * The extension point for reconnection. Today a dropped socket ends the room in
 * `disconnected`; when reconnection lands, SignalClient will ask a policy how
 * long to wait before each new attempt (and rejoin with `resumeSessionId`).
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

export interface ReconnectPolicy {
  /** Milliseconds to wait before the next attempt, or `null` to give up. */
  nextRetryDelayMs(context: ReconnectContext): number | null;
}

/** The current behaviour: never reconnect. */
export const noReconnect: ReconnectPolicy = {
  nextRetryDelayMs: () => null,
};
