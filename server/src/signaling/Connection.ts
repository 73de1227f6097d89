/**
 * One signaling WebSocket. It parses and validates every frame before it
 * touches any state, answers each request exactly once (typed error on
 * failure), serializes a connection's requests, and protects the rest of the
 * server from a misbehaving client: frame size, rate and error budgets.
 */
import type { WebSocket, RawData } from 'ws';
import {
  CloseCode,
  ErrorCode,
  METHODS,
  ProtocolValidationError,
  parseEnvelope,
  parseRequest,
  type Method,
  type NotificationData,
  type Notification,
  type ServerMessage,
  type WireError,
} from '@huizhen/protocol';
import { HuizhenError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { SinkOwner } from '../rooms/Participant.js';
import { handlers, type HandlerScope, type Session } from './handlers.js';
import { RateLimiter } from '../util/RateLimiter.js';
import type { SignalingContext } from './SignalingContext.js';
import type { PreflightSession } from '../preflight/PreflightSession.js';
import type { EdgeSession } from '../cluster/relay/EdgeSession.js';
import type { EdgeConnection } from '../cluster/relay/EdgeRooms.js';
import type { NotificationSink } from '../rooms/Participant.js';

/** How the socket closes when the server ends a session, by the reason's error code. */
const SESSION_CLOSE_CODES: Record<string, number> = {
  [ErrorCode.DUPLICATE_IDENTITY]: CloseCode.DUPLICATE_IDENTITY,
  [ErrorCode.SERVER_SHUTTING_DOWN]: CloseCode.SERVER_SHUTTING_DOWN,
  [ErrorCode.TOKEN_EXPIRED]: CloseCode.TOKEN_EXPIRED,
  [ErrorCode.ADMISSION_DENIED]: CloseCode.ADMISSION_DENIED,
  [ErrorCode.REMOVED]: CloseCode.REMOVED,
  [ErrorCode.ROOM_ENDED]: CloseCode.ROOM_ENDED,
};

/** Malformed frames tolerated before the connection is closed. */
const MAX_BAD_FRAMES = 20;
/** Failed token checks tolerated on one connection. */
const MAX_TOKEN_FAILURES = 5;
const TOKEN_FAILURES: ReadonlySet<string> = new Set([
  ErrorCode.TOKEN_INVALID,
  ErrorCode.TOKEN_EXPIRED,
  ErrorCode.ISSUER_UNKNOWN,
]);

/** Requests refused for rate before the connection is closed. */
const MAX_RATE_LIMITED = 200;
/** A client that does not read its notifications is cut off past this. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

const KNOWN_METHODS: ReadonlySet<string> = new Set(METHODS);

/** Silent heartbeat intervals (10 s each) before a connection without live media is dropped. */
const SILENT_MISSES = 2;
/** The same while the participant's media is still connected: 40 s, still well inside the reconnect grace. */
const MEDIA_ALIVE_MISSES = 4;

export class Connection implements SinkOwner {
  readonly #ws: WebSocket;
  readonly #ctx: SignalingContext;
  #logger: Logger;
  readonly #limiter: RateLimiter;
  readonly #remoteIp: string | undefined;
  #session: Session | undefined;
  /** Cluster mode: a session in a room homed on another node, whose media is here (see cluster/relay). */
  #edge: EdgeSession | undefined;
  #edgeClient: EdgeConnection | undefined;
  #queue: Promise<void> = Promise.resolve();
  #badFrames = 0;
  #tokenFailures = 0;
  #rateLimited = 0;
  #joinTimer: NodeJS.Timeout | undefined;
  #afterResponse: (() => void) | undefined;
  #inFlight = false;
  #closeAfterResponse: { code: number; reason: string } | undefined;
  #closed = false;
  /** A pre-call check run on this connection instead of a room session. */
  #preflight: PreflightSession | undefined;
  /** Set by a pong or any frame from the peer; cleared by each heartbeat ping. */
  alive = true;
  /** Heartbeats in a row without a pong or any frame. */
  #missed = 0;

  constructor(ws: WebSocket, ctx: SignalingContext, remote: string, remoteIp: string | undefined) {
    this.#ws = ws;
    this.#remoteIp = remoteIp?.replace(/^::ffff:/, '');
    this.#ctx = ctx;
    this.#logger = ctx.logger.child({ remote });
    this.#limiter = new RateLimiter(ctx.config.signaling.rateLimitPerSec, ctx.config.signaling.rateLimitBurst);
    this.#armJoinTimer();
    ws.on('message', (data, isBinary) => {
      // Any frame proves the peer is there, just as a pong does.
      this.alive = true;
      this.#onFrame(data, isBinary);
    });
    ws.on('pong', () => {
      this.alive = true;
    });
    ws.on('close', () => this.#onClose());
    ws.on('error', (err) => this.#logger.warn('websocket error', { error: err }));
  }

  get session(): Session | undefined {
    return this.#session;
  }

  /** A connection must join within the time limit, including after a refused join. */
  #armJoinTimer(): void {
    if (this.#joinTimer) clearTimeout(this.#joinTimer);
    this.#joinTimer = setTimeout(() => {
      if (!this.#session && !this.#preflight) this.close(CloseCode.JOIN_TIMEOUT, 'join timeout');
    }, this.#ctx.config.rooms.joinTimeoutMs);
  }

  /** The session resumed on a newer connection: this one lets go and closes. */
  superseded(): void {
    this.#session = undefined;
    this.#edge = undefined;
    this.close(CloseCode.DUPLICATE_IDENTITY, 'session resumed on another connection');
  }

  /** Whether a session (here or relayed to its room's home) runs on this connection. */
  get inSession(): boolean {
    return this.#session !== undefined || this.#edge !== undefined;
  }

  /** Cluster drain: tells the client to reconnect through `url` and resume there. Returns whether there was a session. */
  move(url: string, reason: string): boolean {
    if (!this.inSession || this.#closed) return false;
    this.#send({ notification: 'moveNode', data: { url, reason } } as ServerMessage);
    return true;
  }

  /**
   * One heartbeat. A peer that sent nothing for one interval is usually just
   * slow; two intervals of silence end the connection, unless its media still
   * flows (ICE connected): on a weak mobile link the WebSocket can sit behind
   * seconds of queued packets while the call itself is fine, so the socket gets
   * MEDIA_ALIVE_MISSES intervals before it is given up.
   */
  ping(): void {
    this.#missed = this.alive ? 0 : this.#missed + 1;
    const limit = this.#mediaAlive() ? MEDIA_ALIVE_MISSES : SILENT_MISSES;
    if (this.#missed >= limit) {
      this.#logger.info('peer stopped answering pings', { missed: this.#missed });
      this.#ws.terminate();
      return;
    }
    this.alive = false;
    try {
      this.#ws.ping();
    } catch {
      // The socket is already closing.
    }
  }

  #mediaAlive(): boolean {
    const media = this.#session?.participant.media ?? this.#edge?.media;
    if (!media) return false;
    for (const t of media.transports()) {
      const state = (t.transport as { iceState?: string }).iceState;
      if (state === 'connected' || state === 'completed') return true;
    }
    return false;
  }

  close(code: number, reason: string): void {
    if (this.#closed) return;
    this.#ws.close(code, reason.slice(0, 120));
    // A peer that never completes the close handshake is dropped.
    setTimeout(() => this.#ws.terminate(), 2000).unref();
  }

  #onFrame(data: RawData, isBinary: boolean): void {
    if (this.#closed) return;
    if (!this.#limiter.take()) {
      this.#rateLimited++;
      if (this.#rateLimited > MAX_RATE_LIMITED) {
        this.#logger.warn('closing connection: request flood');
        this.close(CloseCode.RATE_LIMITED, 'too many requests');
        return;
      }
      this.#sendError(
        peekId(data, isBinary),
        new HuizhenError(ErrorCode.RATE_LIMITED, 'Too many requests; slow down.'),
      );
      return;
    }
    if (isBinary) {
      this.#badFrame(
        null,
        new HuizhenError(ErrorCode.MALFORMED_MESSAGE, 'Binary frames are not part of the protocol; send JSON text.'),
      );
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(rawToString(data));
    } catch {
      this.#badFrame(null, new HuizhenError(ErrorCode.MALFORMED_MESSAGE, 'The message is not valid JSON.'));
      return;
    }
    let envelope;
    try {
      envelope = parseEnvelope(parsed);
    } catch (err) {
      const id = typeof (parsed as { id?: unknown })?.id === 'number' ? (parsed as { id: number }).id : null;
      this.#badFrame(
        id,
        new HuizhenError(ErrorCode.INVALID_REQUEST, `The message envelope is invalid: ${(err as Error).message}.`),
      );
      return;
    }
    const { id, method } = envelope;
    if (!KNOWN_METHODS.has(method)) {
      this.#ctx.metrics.signalingRequests.inc({ method: 'unknown', outcome: ErrorCode.UNKNOWN_METHOD });
      this.#sendError(id, new HuizhenError(ErrorCode.UNKNOWN_METHOD, `Unknown method '${method.slice(0, 64)}'.`));
      return;
    }
    let payload: unknown;
    try {
      payload = parseRequest(method as Method, envelope.data ?? {});
    } catch (err) {
      if (!(err instanceof ProtocolValidationError)) throw err;
      this.#ctx.metrics.signalingRequests.inc({ method, outcome: ErrorCode.INVALID_REQUEST });
      this.#sendError(id, new HuizhenError(ErrorCode.INVALID_REQUEST, err.message));
      return;
    }
    // Requests of one connection run one after another: media setup steps
    // depend on each other, and it bounds the work one client can queue.
    this.#queue = this.#queue.then(() => this.#handle(id, method as Method, payload));
  }

  async #handle(id: number, method: Method, data: unknown): Promise<void> {
    if (this.#closed) return;
    this.#inFlight = true;
    try {
      await this.#run(id, method, data);
    } finally {
      this.#inFlight = false;
      const pending = this.#closeAfterResponse;
      this.#closeAfterResponse = undefined;
      if (pending) this.close(pending.code, pending.reason);
    }
  }

  async #run(id: number, method: Method, data: unknown): Promise<void> {
    const started = performance.now();
    let answered = false;
    const scope: HandlerScope = {
      ctx: this.#ctx,
      remoteIp: this.#remoteIp,
      session: this.#session,
      attach: (session, options) => {
        // The client was already told this request failed (timeout) or went away.
        if (answered || this.#closed)
          throw new HuizhenError(ErrorCode.TIMEOUT, 'The join took too long and was abandoned.');
        this.#attach(session, options);
      },
      detach: () => this.#detach(),
      // --- pre-call check
      preflight: this.#preflight,
      setPreflight: (preflight) => {
        if (preflight && (answered || this.#closed)) {
          preflight.end('closed');
          throw new HuizhenError(ErrorCode.TIMEOUT, 'The connection check took too long to start and was abandoned.');
        }
        this.#preflight = preflight;
        if (preflight && this.#joinTimer) clearTimeout(this.#joinTimer);
        if (!preflight && !this.#closed) this.#armJoinTimer();
      },
      attachEdge: (session) => {
        if (answered || this.#closed)
          throw new HuizhenError(ErrorCode.TIMEOUT, 'The join took too long and was abandoned.');
        return this.#attachEdge(session);
      },
      preflightHost: {
        ended: (data) => {
          this.#preflight = undefined;
          this.#send({ notification: 'preflightEnded', data } as ServerMessage);
          if (this.#inFlight) this.#closeAfterResponse = { code: CloseCode.NORMAL, reason: `preflight ${data.reason}` };
          else this.close(CloseCode.NORMAL, `preflight ${data.reason}`);
        },
      },
    };
    try {
      const handler = handlers[method] as (s: HandlerScope, d: unknown) => Promise<unknown>;
      const edge = this.#edge;
      const running = edge ? edge.handle(method, data) : handler(scope, data);
      const result = await withTimeout(running, this.#ctx.config.signaling.requestTimeoutMs, method).finally(() => {
        answered = true;
      });
      this.#send({ id, ok: true, data: result } as ServerMessage);
      const after = this.#afterResponse;
      this.#afterResponse = undefined;
      after?.();
      this.#ctx.metrics.signalingRequests.inc({ method, outcome: 'ok' });
      if (method === 'join')
        this.#ctx.metrics.joinDuration.observe({ outcome: 'ok' }, (performance.now() - started) / 1000);
    } catch (err) {
      const error = toHuizhenError(err);
      if (error.code === ErrorCode.INTERNAL) this.#logger.error('request failed', { method, error: err as Error });
      else this.#logger.info('request refused', { method, code: error.code });
      this.#ctx.metrics.signalingRequests.inc({ method, outcome: error.code });
      if (method === 'join')
        this.#ctx.metrics.joinDuration.observe({ outcome: 'error' }, (performance.now() - started) / 1000);
      this.#sendError(id, error);
      // Guessing tokens costs the guesser the connection (and keeps the audit log readable).
      if (
        (method === 'join' || method === 'startPreflight') &&
        TOKEN_FAILURES.has(error.code) &&
        ++this.#tokenFailures >= MAX_TOKEN_FAILURES
      ) {
        this.#logger.warn('closing connection: repeated token failures');
        this.close(CloseCode.BAD_MESSAGES, 'too many token failures');
      }
    }
  }

  #attach(session: Session, options: { resume?: boolean; fromSeq?: number } = {}): void {
    this.#session = session;
    // --- cluster: connected here now, so the participant's media is here (no longer on a relaying node)
    session.participant.remoteMedia = undefined;
    if (this.#joinTimer) clearTimeout(this.#joinTimer);
    this.#logger = this.#logger.child({ room: session.room.id, participant: session.participant.identity });
    const sink = this.#sink();
    if (options.resume) {
      // Notifications missed while away are replayed after the join response.
      this.#afterResponse = () => session.room.resume(session.participant, sink, this, options.fromSeq);
    } else {
      session.participant.setSink(sink, this);
    }
  }

  /** Where a session's notifications go: this socket (the session ends with a sessionClosed). */
  #sink(): NotificationSink {
    return <N extends Notification>(name: N, data: NotificationData[N], seq?: number) => {
      this.#send(
        (seq === undefined ? { notification: name, data } : { notification: name, data, seq }) as ServerMessage,
      );
      if (name === 'sessionClosed') {
        // The room has already let go of this session; the socket just closes.
        this.#session = undefined;
        this.#edge = undefined;
        const code = (data as NotificationData['sessionClosed']).code;
        const closeCode = SESSION_CLOSE_CODES[code] ?? CloseCode.ROOM_CLOSED;
        // Ended by this connection's own request (e.g. endRoom): answer it first.
        if (this.#inFlight) this.#closeAfterResponse = { code: closeCode, reason: code };
        else this.close(closeCode, code);
      }
    };
  }

  // --- cluster
  #attachEdge(session: EdgeSession): EdgeConnection {
    this.#edge = session;
    if (this.#joinTimer) clearTimeout(this.#joinTimer);
    this.#logger = this.#logger.child({ participant: session.identity, relayed: true });
    const client: EdgeConnection = {
      sink: this.#sink(),
      superseded: () => this.superseded(),
      // The room's home went away: a dropped socket makes the SDK reconnect and resume through a live node.
      drop: () => this.#ws.terminate(),
    };
    this.#edgeClient = client;
    return client;
  }

  #detach(): void {
    if (this.#session?.participant.ownedBy(this)) this.#session.participant.setSink(undefined);
    this.#session = undefined;
    if (!this.#closed) this.#armJoinTimer();
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#joinTimer) clearTimeout(this.#joinTimer);
    this.#preflight?.end('closed');
    this.#preflight = undefined;
    // --- cluster: the edge keeps the media for the reconnect grace; the home keeps the place
    const edge = this.#edge;
    this.#edge = undefined;
    if (edge && this.#edgeClient) edge.disconnected(this.#edgeClient, this.#ctx.config.rooms.reconnectGraceMs);
    const session = this.#session;
    this.#session = undefined;
    // Not a leave: the participant keeps their place for the reconnect grace period.
    if (session) session.room.disconnect(session.participant, this);
  }

  #badFrame(id: number | null, error: HuizhenError): void {
    this.#badFrames++;
    this.#ctx.metrics.signalingRequests.inc({ method: 'unknown', outcome: error.code });
    this.#sendError(id, error);
    if (this.#badFrames > MAX_BAD_FRAMES) {
      this.#logger.warn('closing connection: too many malformed messages');
      this.close(CloseCode.BAD_MESSAGES, 'too many malformed messages');
    }
  }

  #sendError(id: number | null, error: HuizhenError): void {
    this.#send({ id, ok: false, error: error.toWire() });
  }

  #send(message: ServerMessage): void {
    if (this.#closed || this.#ws.readyState !== this.#ws.OPEN) return;
    if (this.#ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.#logger.warn('closing connection: client is not reading');
      this.#ws.terminate();
      return;
    }
    this.#ws.send(JSON.stringify(message));
  }
}

function toHuizhenError(err: unknown): HuizhenError {
  if (err instanceof HuizhenError) return err;
  return new HuizhenError(ErrorCode.INTERNAL, 'The server failed to handle this request; it has been logged.');
}

async function withTimeout<T>(promise: Promise<T>, ms: number, method: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new HuizhenError(ErrorCode.TIMEOUT, `The server took too long to handle '${method}'.`)),
          ms,
        );
      }),
    ]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

function rawToString(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/** Best effort: the id of a rate-limited request, without parsing big frames. */
function peekId(data: RawData, isBinary: boolean): number | null {
  if (isBinary) return null;
  const head = rawToString(data).slice(0, 64);
  const match = /"id"\s*:\s*(\d{1,15})/.exec(head);
  return match ? Number(match[1]) : null;
}

export type { WireError };
