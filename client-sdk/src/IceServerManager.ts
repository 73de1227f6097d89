/**
 * The ICE servers a session's transports use: the application's own (from
 * `ConnectOptions.iceServers`) plus the TURN servers the server hands out with
 * time-limited credentials (at join, admission and token refresh). Before the
 * server's credentials expire (at ~80 % of their lifetime) it asks for fresh
 * ones (`getIceServers`); every change goes to the transports, so ICE restarts
 * and new TURN allocations use credentials that are still valid.
 */
import type { IceServer, ResponseData } from '@huizhen/protocol';
import { errorFields, type Logger } from './logger.js';

export interface IceServerManagerOptions {
  /** The application's own STUN/TURN servers, always included. */
  appServers?: readonly RTCIceServer[];
  /** Asks the server for fresh credentials. */
  fetch: () => Promise<ResponseData['getIceServers']>;
  /** Called with the full list whenever the server's part changes. */
  onChange: (servers: RTCIceServer[]) => void;
  logger: () => Logger;
}

/** What the server sends with a join, an admission or a refresh. */
export interface IceServersUpdate {
  iceServers?: IceServer[];
  iceServersExpireIn?: number;
}

/** Refresh when this share of the credentials' lifetime has passed. */
const REFRESH_AT = 0.8;
/** A failed refresh is retried after this long, while the credentials last. */
const RETRY_MS = 5000;

export class IceServerManager {
  readonly #o: IceServerManagerOptions;
  #server: RTCIceServer[] = [];
  #expiresAt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  constructor(options: IceServerManagerOptions) {
    this.#o = options;
  }

  /** Everything the transports should use now. */
  get servers(): RTCIceServer[] {
    return [...(this.#o.appServers ?? []), ...this.#server.map((s) => ({ ...s }))];
  }

  /** When the server's credentials expire (epoch ms; 0 when it sent none). */
  get expiresAt(): number {
    return this.#expiresAt;
  }

  /** Takes in the servers from a join, admission, refresh or getIceServers answer. */
  apply(update: IceServersUpdate): void {
    if (this.#stopped || update.iceServers === undefined) return;
    const next: RTCIceServer[] = update.iceServers.map((s) => ({
      urls: [...s.urls],
      ...(s.username !== undefined ? { username: s.username } : {}),
      ...(s.credential !== undefined ? { credential: s.credential } : {}),
    }));
    const changed = JSON.stringify(next) !== JSON.stringify(this.#server);
    this.#server = next;
    const expiresIn = update.iceServersExpireIn;
    if (next.length === 0) {
      this.#clear();
      this.#expiresAt = 0;
    } else if (expiresIn !== undefined && expiresIn > 0) {
      const expiresAt = Date.now() + expiresIn * 1000;
      // Only a later expiry is worth a new refresh: credentials end with the token, and
      // re-asking at 80 % of an ever shorter rest would spin. A token refresh extends them.
      if (expiresAt > this.#expiresAt + 1000) {
        this.#expiresAt = expiresAt;
        this.#arm(expiresIn * 1000 * REFRESH_AT);
      }
    }
    if (changed) this.#o.onChange(this.servers);
  }

  /** Holds refreshes (while reconnecting: the rejoin brings fresh servers). */
  pause(): void {
    this.#clear();
    this.#expiresAt = 0;
  }

  stop(): void {
    this.#stopped = true;
    this.#clear();
  }

  #arm(delayMs: number): void {
    this.#clear();
    // setTimeout cannot wait longer than ~24.8 days; credentials never live that long.
    this.#timer = setTimeout(() => void this.#refresh(), Math.max(0, Math.min(delayMs, 2 ** 31 - 1)));
  }

  #clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async #refresh(): Promise<void> {
    this.#timer = undefined;
    if (this.#stopped) return;
    try {
      const fresh = await this.#o.fetch();
      this.#o.logger().debug('ICE servers refreshed', { expiresInSec: fresh.iceServersExpireIn ?? null });
      this.apply(fresh);
    } catch (error) {
      if (this.#stopped) return;
      const left = this.#expiresAt - Date.now();
      this.#o.logger().warn('could not refresh ICE servers', { ...errorFields(error), leftMs: left });
      if (left > RETRY_MS) this.#arm(RETRY_MS);
    }
  }
}
