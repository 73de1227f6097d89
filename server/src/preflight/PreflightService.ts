/**
 * The pre-call check on this node: starts loopbacks for any holder of a valid
 * token, outside every room (no room is looked up, created or told), within
 * limits — per identity and per IP address (starts per minute), a cap on
 * concurrent checks, on duration and on bitrate — and counts and audits each
 * one (never the token).
 */
import { randomUUID } from 'node:crypto';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { ErrorCode, type IceServer, type NotificationData } from '@huizhen/protocol';
import { actorOf, type AuditSink } from '../audit/AuditLog.js';
import type { TokenClaims } from '../auth/tokens.js';
import { personKey } from '../auth/person.js';
import { HuizhenError } from '../errors.js';
import type { WorkerPool } from '../media/WorkerPool.js';
import type { Logger } from '../observability/logger.js';
import type { TurnCredentials } from '../media/turnCredentials.js';
import { KeyedRateLimiter } from './KeyedRateLimiter.js';
import { PreflightSession, type PreflightEnd } from './PreflightSession.js';

export interface PreflightConfig {
  enabled: boolean;
  maxDurationMs: number;
  maxBitrate: number;
  perIdentityPerMinute: number;
  perIpPerMinute: number;
  maxConcurrent: number;
}

/** What a preflight needs from its connection. */
export interface PreflightHost {
  /** Tells the client the server ended the check, then closes the socket. */
  ended(data: NotificationData['preflightEnded']): void;
}

export interface PreflightServiceOptions {
  config: PreflightConfig;
  pool: WorkerPool;
  registry: Registry;
  audit: AuditSink;
  logger: Logger;
  /** Which ICE candidates the loopback offers (as rooms do): both by default. */
  iceProtocols?: readonly ('udp' | 'tcp')[];
  /** Issues TURN credentials (the same as for a join); absent when the server has no TURN. */
  turn?: TurnCredentials;
}

const MINUTE_MS = 60_000;

export class PreflightService {
  readonly #options: PreflightServiceOptions;
  readonly #byIdentity: KeyedRateLimiter;
  readonly #byIp: KeyedRateLimiter;
  readonly #active = new Set<PreflightSession>();
  readonly #starts: Counter<'outcome'>;
  readonly #ends: Histogram<'reason'>;
  #closed = false;

  constructor(options: PreflightServiceOptions) {
    this.#options = options;
    const { config, registry } = options;
    this.#byIdentity = new KeyedRateLimiter(config.perIdentityPerMinute, MINUTE_MS);
    this.#byIp = new KeyedRateLimiter(config.perIpPerMinute, MINUTE_MS);
    this.#starts = new Counter({
      name: 'huizhen_preflight_starts_total',
      help: 'Pre-call checks asked for, by outcome (ok or error code)',
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.#ends = new Histogram({
      name: 'huizhen_preflight_duration_seconds',
      help: 'How long pre-call checks ran, by how they ended',
      labelNames: ['reason'],
      buckets: [1, 2.5, 5, 10, 20, 30, 60, 120],
      registers: [registry],
    });
    const active = this.#active;
    new Gauge({
      name: 'huizhen_preflight_active',
      help: 'Pre-call checks running on this node',
      registers: [registry],
      collect() {
        this.set(active.size);
      },
    });
  }

  get active(): number {
    return this.#active.size;
  }

  /** Checked before the token, so guessing tokens from one address is limited too. */
  admitIp(remoteIp: string | undefined): void {
    if (!this.#options.config.enabled)
      this.#refuse(ErrorCode.INVALID_STATE, 'Connection checks are turned off on this server.');
    if (remoteIp !== undefined && !this.#byIp.take(remoteIp)) {
      this.#refuse(
        ErrorCode.RATE_LIMITED,
        'Too many connection checks from this network; please wait a minute and try again.',
      );
    }
  }

  async start(
    claims: TokenClaims,
    remoteIp: string | undefined,
    host: PreflightHost,
  ): Promise<{ session: PreflightSession; iceServers: IceServer[] | undefined }> {
    const { config, pool, audit, logger } = this.#options;
    if (this.#closed)
      this.#refuse(ErrorCode.SERVER_SHUTTING_DOWN, 'The server is restarting; please try again in a moment.');
    if (!this.#byIdentity.take(personKey(claims.issuer, claims.identity))) {
      this.#refuse(
        ErrorCode.RATE_LIMITED,
        `You can run the connection check ${config.perIdentityPerMinute} times a minute; please wait a moment and try again.`,
      );
    }
    if (this.#active.size >= config.maxConcurrent) {
      this.#refuse(
        ErrorCode.RATE_LIMITED,
        'The server is running many connection checks right now; please try again in a minute.',
      );
    }
    const id = randomUUID();
    const log = logger.child({ preflight: id, participant: claims.identity });
    let session: PreflightSession;
    try {
      // A router of its own: no room's router is ever touched by a preflight.
      const place = await pool.createRouter({ preflight: id });
      session = await PreflightSession.create(id, place, { ...config, protocols: this.#options.iceProtocols }, log, {
        onEnd: (reason, durationMs) => this.#ended(session, claims, reason, durationMs, host),
      });
    } catch (err) {
      this.#starts.inc({ outcome: err instanceof HuizhenError ? err.code : ErrorCode.MEDIA_ERROR });
      throw err;
    }
    this.#active.add(session);
    this.#starts.inc({ outcome: 'ok' });
    audit.append({
      event: 'preflight_started',
      actor: actorOf(claims),
      details: { preflight: id, remote: remoteIp ?? null },
    });
    log.info('preflight started');
    return { session, iceServers: this.#iceServers(claims) };
  }

  /**
   * TURN credentials for the check only: they expire a minute after its time
   * cap (and never after the token), so a check's credentials cannot be kept
   * for relaying anything else.
   */
  #iceServers(claims: TokenClaims): IceServer[] | undefined {
    const { turn, config } = this.#options;
    if (!turn) return undefined;
    const until = Math.floor(Date.now() / 1000) + Math.ceil(config.maxDurationMs / 1000) + 60;
    return turn.issue({
      issuer: claims.issuer,
      identity: claims.identity,
      tokenExpiresAt: Math.min(claims.expiresAt, until),
    }).iceServers;
  }

  #ended(
    session: PreflightSession,
    claims: TokenClaims,
    reason: PreflightEnd,
    durationMs: number,
    host: PreflightHost,
  ): void {
    this.#active.delete(session);
    this.#ends.observe({ reason }, durationMs / 1000);
    this.#options.audit.append({
      event: 'preflight_ended',
      actor: actorOf(claims),
      details: { preflight: session.id, reason, durationMs },
    });
    this.#options.logger.info('preflight ended', { preflight: session.id, reason, durationMs });
    if (reason !== 'ended' && reason !== 'closed') host.ended({ reason, durationMs });
  }

  #refuse(code: ErrorCode, message: string): never {
    this.#starts.inc({ outcome: code });
    throw new HuizhenError(code, message);
  }

  /** Ends every running check (the server is stopping). */
  close(): void {
    this.#closed = true;
    for (const s of [...this.#active]) s.end('serverShuttingDown');
  }
}
