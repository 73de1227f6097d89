/**
 * The reconnect loop: waits as the ReconnectPolicy says, opens a new socket
 * and joins with `resumeSessionId` and `resumeFromSeq`; past the server's
 * grace period (SESSION_EXPIRED, or an answer that did not resume) it joins
 * afresh. It decides when to give up; what a resumed or fresh session means is
 * the engine's (and the Room's) business, reached through `ReconnectorHost`.
 * In cluster mode a failed attempt moves on to the next of the cluster's
 * nodes (ServerCandidates), so a session whose node died resumes on another:
 * that node does not know the session (SESSION_EXPIRED), so it joins afresh
 * with the same identity and its admission comes from the room's durable state.
 */
import {
  ConnectionError,
  ConnectionErrorReason,
  DisconnectReason,
  ErrorCode,
  HuizhenError,
  disconnectReasonForCode,
  isHuizhenError,
} from '../errors.js';
import { errorFields, type Logger } from '../logger.js';
import { PROTOCOL_VERSION, type NotificationData, type ResponseData } from '@huizhen/protocol';
import type { ReconnectPolicy } from '../ReconnectPolicy.js';
import type { SignalClient, SignalCloseInfo } from '../SignalClient.js';
import { isRetryable } from './failures.js';

/** Opening a socket while reconnecting may take this long at most: the grace period is short. */
const RECONNECT_CONNECT_TIMEOUT_MS = 5000;

type JoinResponse = ResponseData['join'];

export interface ReconnectorHost {
  readonly policy: ReconnectPolicy;
  /** Whether a TOKEN_EXPIRED answer may be retried with a token from the provider. */
  readonly canGetNewToken: boolean;
  readonly connectTimeoutMs: number | undefined;
  log(): Logger;
  signal(): SignalClient | undefined;
  sessionId(): string;
  /** The token to rejoin with (a new one from the provider if `forceNew` or the current one runs out soon). */
  tokenFor(forceNew: boolean): Promise<string>;
  /** The server accepted `token`. */
  setToken(token: string): void;
  ended(): boolean;
  sessionClosed(): NotificationData['sessionClosed'] | undefined;
  /** The same session goes on. */
  resume(joined: JoinResponse): Promise<void>;
  /** The old session is gone on the server (before the fresh join's request). */
  replaceSession(): void;
  /** A fresh session was joined after `replaceSession`. */
  startFresh(joined: JoinResponse): Promise<void>;
  finish(reason: DisconnectReason, error: HuizhenError): void;
  finishClosedByServer(closed: NotificationData['sessionClosed']): void;
  /** Moves the signaling client to the next server candidate (cluster mode); false when there is none. */
  nextServer(): boolean;
}

export class Reconnector {
  readonly #host: ReconnectorHost;
  /** Cuts the current wait between attempts short. */
  #wake: (() => void) | undefined;

  constructor(host: ReconnectorHost) {
    this.#host = host;
  }

  /** Ends the current wait between attempts now (the room was left). */
  wake(): void {
    this.#wake?.();
  }

  /** Retries until an attempt succeeds, the policy gives up, the server refuses, or the room is left. */
  async run(lost: SignalCloseInfo, error: HuizhenError): Promise<void> {
    const host = this.#host;
    const startedAt = Date.now();
    let retryCount = 0;
    let newToken = false;
    for (;;) {
      const elapsedMs = Date.now() - startedAt;
      const delay = host.policy.nextRetryDelayMs({
        retryCount,
        elapsedMs,
        closeCode: lost.code,
        closeReason: lost.reason,
      });
      if (delay === null) {
        host.log().warn('giving up reconnecting', { attempts: retryCount, elapsedMs });
        host.finish(
          DisconnectReason.ConnectionLost,
          new ConnectionError(
            ConnectionErrorReason.ConnectionLost,
            `The connection to the server was lost and could not be restored (${retryCount} attempt${retryCount === 1 ? '' : 's'} in ${Math.round(elapsedMs / 1000)} s)`,
            ErrorCode.CONNECTION_FAILED,
            { cause: error },
          ),
        );
        return;
      }
      await this.#sleep(delay);
      if (host.ended()) return;
      retryCount++;
      try {
        await this.#attempt(newToken);
        return;
      } catch (failure) {
        if (host.ended()) return;
        // Drop a half-open attempt (e.g. join timed out) before the next one.
        host.signal()?.close(1000, 'reconnect attempt failed');
        const closed = host.sessionClosed();
        if (closed) {
          host.finishClosedByServer(closed);
          return;
        }
        if (isHuizhenError(failure, ErrorCode.TOKEN_EXPIRED) && host.canGetNewToken && !newToken) {
          newToken = true;
        } else if (isHuizhenError(failure, ErrorCode.ROOM_ON_OTHER_NODE) && host.nextServer()) {
          // The room is homed on another node of the cluster: try the next one.
        } else if (!isRetryable(failure)) {
          const code = (failure as HuizhenError).code;
          host.log().warn('reconnect refused', { code });
          host.finish(disconnectReasonForCode(code), failure as HuizhenError);
          return;
        }
        host.log().info('reconnect attempt failed', { attempt: retryCount, ...errorFields(failure) });
        // This server did not take us back (it may be dead): the next attempt tries another node, if any.
        if (!isHuizhenError(failure, ErrorCode.ROOM_ON_OTHER_NODE)) host.nextServer();
      }
    }
  }

  /** Waits `ms`, or less if the browser says it is back online or the room is left. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const target = globalThis as {
        addEventListener?: (type: string, fn: () => void) => void;
        removeEventListener?: (type: string, fn: () => void) => void;
      };
      const done = (): void => {
        clearTimeout(timer);
        target.removeEventListener?.('online', done);
        if (this.#wake === done) this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      target.addEventListener?.('online', done);
      this.#wake = done;
    });
  }

  async #attempt(forceNewToken: boolean): Promise<void> {
    const host = this.#host;
    const signal = host.signal();
    if (!signal) throw new HuizhenError(ErrorCode.INVALID_STATE, 'No signaling client to reconnect');
    const token = await host.tokenFor(forceNewToken);
    if (host.ended()) return;
    await signal.connect({
      timeoutMs: Math.min(host.connectTimeoutMs ?? RECONNECT_CONNECT_TIMEOUT_MS, RECONNECT_CONNECT_TIMEOUT_MS),
    });
    let joined: JoinResponse;
    try {
      joined = await signal.request('join', {
        protocolVersion: PROTOCOL_VERSION,
        token,
        resumeSessionId: host.sessionId(),
        // Only notifications after this one are replayed; nothing twice, nothing lost.
        resumeFromSeq: signal.lastNotificationSeq,
      });
    } catch (error) {
      if (!isHuizhenError(error, ErrorCode.SESSION_EXPIRED)) throw error;
      host.log().info('the server no longer has this session; joining afresh');
      host.setToken(token);
      await this.#joinAfresh(signal, token);
      return;
    }
    if (host.ended()) return;
    host.setToken(token);
    if (!joined.resumed) {
      // Not resumed although asked: treat it as the fresh session it is.
      host.replaceSession();
      await host.startFresh(joined);
      return;
    }
    await host.resume(joined);
  }

  /** The server forgot the session: join as new, then bring back what this client had. */
  async #joinAfresh(signal: SignalClient, token: string): Promise<void> {
    // Anything still queued from the old session no longer applies.
    this.#host.replaceSession();
    signal.resetNotificationSeq();
    const joined = await signal.request('join', { protocolVersion: PROTOCOL_VERSION, token });
    if (this.#host.ended()) return;
    await this.#host.startFresh(joined);
  }
}
