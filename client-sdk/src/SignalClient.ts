// Over 400 lines on purpose: one socket's whole life (connect, requests, heartbeat, inbound checks) in one class.
/**
 * Request/response and notifications over one signaling WebSocket, typed with
 * the shared protocol and checked against it on the way in. Knows nothing about
 * rooms or media.
 */
import {
  ConnectionError,
  ConnectionErrorReason,
  ErrorCode,
  HuizhenError,
  fromWireError,
  isHuizhenError,
} from './errors.js';
import { createLogger, type Logger } from './logger.js';
import type { Method, NotificationData, Notification, RequestData, ResponseData } from '@huizhen/protocol';
import {
  ProtocolValidationError,
  TypedEmitter,
  isNotification,
  parseNotification,
  parseResponse,
} from '@huizhen/protocol';

/**
 * The part of the WebSocket API the SDK uses. The browser's `WebSocket` and the
 * `ws` package's client both satisfy it. Handler parameters are loosely typed
 * because the two implementations declare different event classes.
 */
// Browser and `ws` sockets type their event arguments differently; `any` lets both fit.
/* eslint-disable @typescript-eslint/no-explicit-any */
export interface WebSocketLike {
  /** WebSocket ready state (1 = open). */
  readonly readyState: number;
  /** Called when the socket opened. */
  onopen: ((event: any) => void) | null;
  /** Called with each message (`event.data`). */
  onmessage: ((event: any) => void) | null;
  /** Called when the socket closed (`event.code`, `event.reason`). */
  onclose: ((event: any) => void) | null;
  /** Called when the socket failed. */
  onerror: ((event: any) => void) | null;
  /** Sends one text frame. */
  send(data: string): void;
  /** Closes the socket with a close code and reason. */
  close(code?: number, reason?: string): void;
  /* eslint-enable @typescript-eslint/no-explicit-any */
}

/** Opens a WebSocket to `url`; lets tests and non-browser runtimes supply their own. */
export type WebSocketFactory = (url: string) => WebSocketLike;

/** A notification from the server, discriminated by its name. */
export type AnyNotification = {
  [N in Notification]: {
    /** The notification's name. */
    notification: N;
    /** Its payload, checked against the protocol. */
    data: NotificationData[N];
  };
}[Notification];

/** How a signaling connection ended. */
export interface SignalCloseInfo {
  /** WebSocket close code (1006 when the connection dropped without one). */
  code: number;
  /** WebSocket close reason, possibly empty. */
  reason: string;
  /** True when `close()` was called on this side. */
  initiatedLocally: boolean;
}

export type SignalClientEvents = {
  /** A server notification arrived. */
  notification: (message: AnyNotification) => void;
  /** The open connection ended; every pending request has been rejected. Emitted once. */
  close: (info: SignalCloseInfo) => void;
};

export type SignalState = 'idle' | 'connecting' | 'open' | 'closed';

/** Options of `SignalClient`. */
export interface SignalClientOptions {
  /** Defaults to the global `WebSocket`. */
  webSocketFactory?: WebSocketFactory;
  /** How long a request may wait for its response; 10 000 ms by default. */
  requestTimeoutMs?: number;
  /** How long opening the socket may take; 10 000 ms by default. */
  connectTimeoutMs?: number;
  /**
   * How often to check that the server still answers (a `ping` request), in
   * ms; 0 turns it off. A socket whose ping goes unanswered for
   * `heartbeatTimeoutMs` is treated as lost, so a silently dead network is
   * noticed in seconds rather than minutes. 5 000 / 8 000 ms by default.
   */
  heartbeatIntervalMs?: number;
  /** How long a ping may go unanswered before the socket counts as lost; 8 000 ms by default. */
  heartbeatTimeoutMs?: number;
  /**
   * Whether the media transports are still connected (ICE). A late pong on a
   * weak link whose media still flows is a slow socket, not a dead one: the
   * connection is then given up only after `heartbeatMediaAliveMs` without
   * any frame from the server (30 000 ms by default).
   */
  isMediaAlive?: () => boolean;
  /** While media is alive (see `isMediaAlive`), how long without any frame from the server before giving up; 30 000 ms by default. */
  heartbeatMediaAliveMs?: number;
  /** Where the client logs (silent by default). */
  logger?: Logger;
}

/**
 * How long a ping may go unanswered. 8 s: on a 64–96 kbit/s mobile link a pong
 * can queue behind a few seconds of media; a dead network is still noticed in
 * well under 15 s (and the media's ICE notices sooner).
 */
export const DEFAULT_HEARTBEAT_TIMEOUT_MS = 8000;

/** Close code used locally when the server stopped answering pings. */
export const CLOSE_HEARTBEAT_TIMEOUT = 4100;

/** Options of one `SignalClient.request`. */
export interface RequestOptions {
  /** Overrides the client's request timeout for this request. */
  timeoutMs?: number;
}

export interface SignalConnectOptions {
  /** Overrides the client's connect timeout for this attempt (reconnects use a shorter one). */
  timeoutMs?: number;
}

interface PendingRequest {
  method: Method;
  resolve: (data: unknown) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

const WS_OPEN = 1;
const CLOSE_ABNORMAL = 1006;
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

function defaultWebSocketFactory(url: string): WebSocketLike {
  const Ctor = (globalThis as { WebSocket?: new (url: string) => WebSocketLike }).WebSocket;
  if (!Ctor) throw new Error('No global WebSocket in this environment; pass webSocketFactory');
  return new Ctor(url);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One signaling WebSocket to a Huizhen server: typed requests with timeouts, validated notifications, heartbeat. `Room` uses it; apps normally need not. */
export class SignalClient extends TypedEmitter<SignalClientEvents> {
  #url: string;
  readonly #factory: WebSocketFactory;
  readonly #requestTimeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #log: Logger;
  readonly #pending = new Map<number, PendingRequest>();
  #socket: WebSocketLike | undefined;
  #state: SignalState = 'idle';
  #nextId = 1;
  readonly #heartbeatIntervalMs: number;
  readonly #heartbeatTimeoutMs: number;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  readonly #isMediaAlive: (() => boolean) | undefined;
  readonly #heartbeatMediaAliveMs: number;
  /** When the last frame of any kind arrived from the server. */
  #lastInboundAt = 0;
  /** The highest notification `seq` received in the current session (0: none yet). */
  #lastSeq = 0;

  constructor(url: string, options: SignalClientOptions = {}) {
    super();
    this.#url = url;
    this.#factory = options.webSocketFactory ?? defaultWebSocketFactory;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.#heartbeatIntervalMs = options.heartbeatIntervalMs ?? 5000;
    this.#heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? DEFAULT_HEARTBEAT_TIMEOUT_MS;
    this.#isMediaAlive = options.isMediaAlive;
    this.#heartbeatMediaAliveMs = options.heartbeatMediaAliveMs ?? 30_000;
    this.#log = options.logger ?? createLogger();
  }

  /** The WebSocket URL it connects to. */
  get url(): string {
    return this.#url;
  }

  /** Connects to another server from the next `connect()` on (reconnecting to another cluster node). */
  retarget(url: string): void {
    if (this.#state !== 'idle' && this.#state !== 'closed')
      throw new HuizhenError(
        ErrorCode.INVALID_STATE,
        `Cannot move a ${this.#state} signaling client to another server`,
      );
    this.#url = url;
  }

  /** idle, connecting, open or closed. */
  get state(): SignalState {
    return this.#state;
  }

  /** Sent as `resumeFromSeq` when resuming, so the server replays only what was missed. */
  get lastNotificationSeq(): number {
    return this.#lastSeq;
  }

  /** A new session numbers its notifications from 1 again. */
  resetNotificationSeq(): void {
    this.#lastSeq = 0;
  }

  /** Number of requests still waiting for a response. */
  get pendingRequestCount(): number {
    return this.#pending.size;
  }

  /**
   * Opens the socket. Rejects with a ConnectionError (`serverUnreachable` or
   * `timeout`) if it does not open. A closed client may connect again with a
   * new socket (that is how a room reconnects); request ids keep counting up.
   */
  connect(options: SignalConnectOptions = {}): Promise<void> {
    if (this.#state !== 'idle' && this.#state !== 'closed') {
      return Promise.reject(
        new HuizhenError(ErrorCode.INVALID_STATE, `Cannot connect a signal client that is ${this.#state}`),
      );
    }
    const timeoutMs = options.timeoutMs ?? this.#connectTimeoutMs;
    this.#state = 'connecting';
    return new Promise<void>((resolve, reject) => {
      let socket: WebSocketLike;
      try {
        socket = this.#factory(this.url);
      } catch (cause) {
        this.#state = 'closed';
        reject(
          new ConnectionError(
            ConnectionErrorReason.ServerUnreachable,
            `Could not open a WebSocket to ${this.url}`,
            undefined,
            { cause },
          ),
        );
        return;
      }
      this.#socket = socket;

      const fail = (error: ConnectionError): void => {
        clearTimeout(timer);
        this.#detach(socket);
        this.#state = 'closed';
        try {
          socket.close();
        } catch {
          // Closing a socket that never opened may throw in some implementations; nothing to do.
        }
        reject(error);
      };
      const timer = setTimeout(() => {
        fail(new ConnectionError(ConnectionErrorReason.Timeout, `Timed out after ${timeoutMs} ms opening ${this.url}`));
      }, timeoutMs);

      socket.onopen = () => {
        clearTimeout(timer);
        if (this.#state !== 'connecting') return;
        this.#state = 'open';
        this.#log.debug('signal connected', { url: this.url });
        this.#attach(socket);
        this.#startHeartbeat(socket);
        resolve();
      };
      // Browsers report only a bare 'error' before 'close'; the close carries the code.
      socket.onerror = () => {};
      socket.onclose = (event: { code?: number; reason?: string }) => {
        const code = typeof event?.code === 'number' ? event.code : CLOSE_ABNORMAL;
        const reason = typeof event?.reason === 'string' && event.reason ? `: ${event.reason}` : '';
        fail(
          new ConnectionError(
            ConnectionErrorReason.ServerUnreachable,
            `Could not connect to ${this.url} (close code ${code}${reason})`,
          ),
        );
      };
    });
  }

  /**
   * Sends `method` with `data` and resolves with the response data. Rejects with
   * a HuizhenError carrying the server's code, TIMEOUT when no answer comes in
   * time, or CONNECTION_FAILED when the socket is not open or closes first.
   */
  request<M extends Method>(method: M, data: RequestData<M>, options: RequestOptions = {}): Promise<ResponseData[M]> {
    const socket = this.#socket;
    if (this.#state !== 'open' || !socket || socket.readyState !== WS_OPEN) {
      return Promise.reject(
        new ConnectionError(
          ConnectionErrorReason.ConnectionLost,
          `Cannot send '${method}': the connection to the server is not open`,
        ),
      );
    }
    const id = this.#nextId++;
    const timeoutMs = options.timeoutMs ?? this.#requestTimeoutMs;
    return new Promise<ResponseData[M]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new HuizhenError(ErrorCode.TIMEOUT, `The server did not answer '${method}' within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { method, resolve: resolve as (data: unknown) => void, reject, timer });
      try {
        socket.send(JSON.stringify({ id, method, data }));
      } catch (cause) {
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(
          new ConnectionError(ConnectionErrorReason.ConnectionLost, `Could not send '${method}'`, undefined, { cause }),
        );
      }
    });
  }

  /** Closes the socket, rejecting pending requests; emits `close` if it was open. */
  close(code = 1000, reason = 'client closed'): void {
    const socket = this.#socket;
    if (this.#state === 'closed' || this.#state === 'idle') {
      this.#state = 'closed';
      return;
    }
    if (this.#state === 'connecting') {
      // connect() is still waiting; let its close handler reject it.
      socket?.close(code, reason);
      return;
    }
    if (socket) {
      this.#detach(socket);
      try {
        socket.close(code, reason);
      } catch (error) {
        this.#log.debug('socket close threw', { error: String(error) });
      }
    }
    this.#onSocketClosed({ code, reason, initiatedLocally: true });
  }

  #attach(socket: WebSocketLike): void {
    this.#lastInboundAt = Date.now();
    socket.onmessage = (event: { data?: unknown }) => {
      this.#lastInboundAt = Date.now();
      this.#onMessage(event?.data);
    };
    socket.onerror = () => this.#log.debug('signal socket error');
    socket.onclose = (event: { code?: number; reason?: string }) => {
      this.#detach(socket);
      this.#onSocketClosed({
        code: typeof event?.code === 'number' ? event.code : CLOSE_ABNORMAL,
        reason: typeof event?.reason === 'string' ? event.reason : '',
        initiatedLocally: false,
      });
    };
  }

  #startHeartbeat(socket: WebSocketLike): void {
    if (this.#heartbeatIntervalMs <= 0) return;
    this.#heartbeat = setInterval(() => {
      if (this.#socket !== socket || this.#state !== 'open') return;
      this.request('ping', {}, { timeoutMs: this.#heartbeatTimeoutMs }).catch((error: unknown) => {
        if (this.#socket !== socket || !isHuizhenError(error, ErrorCode.TIMEOUT)) return;
        // Frames still arrive (the pong is just queued behind them), or the media is up and the
        // silence is not yet long: the socket is slow, not dead. A weak link must not cost the call.
        const silentMs = Date.now() - this.#lastInboundAt;
        if (silentMs < this.#heartbeatTimeoutMs) return;
        if (silentMs < this.#heartbeatMediaAliveMs && this.#isMediaAlive?.()) {
          this.#log.info('server answers late; media still flows, keeping the connection', { silentMs });
          return;
        }
        this.#log.warn('server stopped answering; treating the connection as lost');
        this.#detach(socket);
        try {
          socket.close(1000, 'heartbeat timeout');
        } catch {
          // Already closing.
        }
        this.#onSocketClosed({
          code: CLOSE_HEARTBEAT_TIMEOUT,
          reason: 'no answer from the server',
          initiatedLocally: false,
        });
      });
    }, this.#heartbeatIntervalMs);
  }

  #detach(socket: WebSocketLike): void {
    socket.onopen = null;
    socket.onmessage = null;
    socket.onerror = null;
    socket.onclose = null;
  }

  /**
   * The single place where a socket's end is handled: pending requests fail
   * (none is replayed: the server may have acted on it) and `close` tells the
   * Room, which decides whether to reconnect.
   */
  #onSocketClosed(info: SignalCloseInfo): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
    this.#socket = undefined;
    this.#log.debug('signal closed', { code: info.code, reason: info.reason, local: info.initiatedLocally });
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const request of pending) {
      clearTimeout(request.timer);
      request.reject(
        new ConnectionError(
          ConnectionErrorReason.ConnectionLost,
          `The connection to the server closed before '${request.method}' was answered (code ${info.code})`,
        ),
      );
    }
    this.emit('close', info);
  }

  #onMessage(raw: unknown): void {
    if (typeof raw !== 'string') {
      this.#log.warn('ignoring non-text signaling frame');
      return;
    }
    let message: unknown;
    try {
      message = JSON.parse(raw);
    } catch {
      this.#log.warn('ignoring signaling frame that is not JSON');
      return;
    }
    if (!isRecord(message)) {
      this.#log.warn('ignoring signaling frame that is not an object');
      return;
    }
    if (typeof message.id === 'number' && typeof message.ok === 'boolean') {
      this.#onResponse(message.id, message);
    } else if (message.id === null && message.ok === false) {
      // The server could not read a frame's id, so no request can be failed; it is a client bug.
      const error = fromWireError(message.error);
      this.#log.warn('server rejected an unreadable frame', { code: error.code, error: error.message });
    } else if (typeof message.notification === 'string') {
      this.#onNotification(message.notification, message.data, message.seq);
    } else {
      this.#log.warn('ignoring signaling frame of unknown shape');
    }
  }

  #onResponse(id: number, message: Record<string, unknown>): void {
    const request = this.#pending.get(id);
    if (!request) {
      // Late answer to a request that already timed out.
      this.#log.debug('response for unknown request', { id });
      return;
    }
    this.#pending.delete(id);
    clearTimeout(request.timer);
    if (message.ok !== true) {
      request.reject(fromWireError(message.error));
      return;
    }
    let data: unknown;
    try {
      data = parseResponse(request.method, message.data ?? {});
    } catch (error) {
      if (!(error instanceof ProtocolValidationError)) throw error;
      // Only the field path goes to the log: payloads may carry names and clinical text.
      this.#log.warn('rejecting a response that does not match the protocol', {
        code: ErrorCode.PROTOCOL_ERROR,
        method: request.method,
        path: error.path,
      });
      request.reject(
        new HuizhenError(
          ErrorCode.PROTOCOL_ERROR,
          `The server's answer to '${request.method}' is malformed: ${error.message}`,
        ),
      );
      return;
    }
    request.resolve(data);
  }

  /**
   * A notification reaches listeners only once it matches its schema; a
   * malformed or unknown one is dropped and logged (name and field path only),
   * and the connection goes on.
   */
  #onNotification(name: string, rawData: unknown, seq: unknown): void {
    // Counted even when dropped: it was delivered, and a replay on resume would be just as bad.
    if (typeof seq === 'number' && seq > this.#lastSeq) this.#lastSeq = seq;
    if (!isNotification(name)) {
      this.#log.warn('dropping an unknown notification', {
        code: ErrorCode.PROTOCOL_ERROR,
        notification: name.slice(0, 64),
      });
      return;
    }
    let data: NotificationData[Notification];
    try {
      data = parseNotification(name, rawData);
    } catch (error) {
      if (!(error instanceof ProtocolValidationError)) throw error;
      this.#log.warn('dropping a notification that does not match the protocol', {
        code: ErrorCode.PROTOCOL_ERROR,
        notification: name,
        path: error.path,
      });
      return;
    }
    this.emit('notification', { notification: name, data } as AnyNotification);
  }
}
