/**
 * Keeps a session's token fresh: asks the application's token provider for a
 * new token at about 80 % of the current one's lifetime and hands it to the
 * server, retrying while time is left. Knows nothing about sockets.
 */
import { errorFields, type Logger } from './logger.js';

/** Returns a fresh join token for the same person and room (e.g. from your backend). */
export type TokenProvider = () => Promise<string>;

export interface TokenRefresherOptions {
  provider: TokenProvider;
  /** Sends the new token to the server; resolves with its lifetime in seconds. */
  send: (token: string) => Promise<number>;
  /** Called with every token the server accepted. */
  onRefreshed: (token: string, expiresInSec: number) => void;
  /** The session's current logger. */
  logger: () => Logger;
}

/** Refresh when this share of the lifetime has passed. */
const REFRESH_AT = 0.8;
/** Retries after a failed refresh wait at least this long. */
const MIN_RETRY_MS = 2000;

export class TokenRefresher {
  readonly #o: TokenRefresherOptions;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #expiresAt = 0;
  #paused = false;
  #running = false;

  constructor(options: TokenRefresherOptions) {
    this.#o = options;
  }

  /** Plans the next refresh for a token that expires in `expiresInSec` seconds. */
  schedule(expiresInSec: number): void {
    this.#expiresAt = Date.now() + expiresInSec * 1000;
    this.#arm(Math.max(0, expiresInSec * 1000 * REFRESH_AT));
  }

  /** Holds refreshes (e.g. while reconnecting: the rejoin brings its own token). */
  pause(): void {
    this.#paused = true;
    this.#clear();
  }

  stop(): void {
    this.pause();
  }

  #arm(delayMs: number): void {
    this.#clear();
    this.#paused = false;
    // setTimeout cannot wait longer than ~24.8 days; no token lives that long.
    this.#timer = setTimeout(() => void this.#refresh(), Math.min(delayMs, 2 ** 31 - 1));
  }

  #clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async #refresh(): Promise<void> {
    this.#timer = undefined;
    if (this.#paused || this.#running) return;
    this.#running = true;
    try {
      const token = await this.#o.provider();
      if (this.#paused) return;
      const expiresIn = await this.#o.send(token);
      if (this.#paused) return;
      this.#o.logger().debug('token refreshed', { expiresInSec: expiresIn });
      this.#o.onRefreshed(token, expiresIn);
      this.schedule(expiresIn);
    } catch (error) {
      if (this.#paused) return;
      // Try again while the old token lasts; the server ends the session (TOKEN_EXPIRED) if it runs out.
      const left = this.#expiresAt - Date.now();
      this.#o.logger().warn('token refresh failed', { leftMs: left, ...errorFields(error) });
      if (left > MIN_RETRY_MS) this.#arm(Math.max(MIN_RETRY_MS, left / 2));
    } finally {
      this.#running = false;
    }
  }
}
