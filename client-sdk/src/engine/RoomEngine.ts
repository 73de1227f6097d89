/**
 * The connection engine under a Room (LiveKit's RTCEngine): it owns the
 * SignalClient, joins, reconnects as the ReconnectPolicy says (resuming the
 * session with `resumeFromSeq`, or joining afresh once the server forgot it),
 * refreshes the token, and orders notifications around all of that. It knows
 * nothing of participants, tracks or the consult workflow: it tells the Room
 * through `EngineEvents` and waits where the Room must finish first.
 *
 * Slightly over 400 lines on purpose: one session's lifecycle reads best in one place (the loop is in Reconnector).
 */
import {
  ConnectionError,
  ConnectionErrorReason,
  DisconnectReason,
  ErrorCode,
  HuizhenError,
  disconnectFromCloseCode,
  disconnectReasonForCode,
  isErrorCode,
} from '../errors.js';
import type { ConnectionState } from '../events.js';
import { createLogger, errorFields, type Logger } from '../logger.js';
import type { ConnectOptions } from '../options.js';
import {
  PROTOCOL_VERSION,
  type Method,
  type NotificationData,
  type RequestData,
  type ResponseData,
} from '@huizhen/protocol';
import { DefaultReconnectPolicy } from '../ReconnectPolicy.js';
import { SignalClient, type AnyNotification, type SignalCloseInfo } from '../SignalClient.js';
import { TokenRefresher } from '../TokenRefresher.js';
import { toHttpBase, toSignalUrl } from '../url.js';
import { cancelledError, connectFailure } from './failures.js';
import { NotificationGate } from './NotificationGate.js';
import type { EngineEvents, JoinResponse } from './EngineEvents.js';
import { ServerCandidates } from './ServerCandidates.js';
import { Reconnector } from './Reconnector.js';

/** How long leaving waits for the server to acknowledge `leave`. */
const LEAVE_TIMEOUT_MS = 1500;
/** A reconnect asks the token provider for a new token when the current one has less left than this. */
const TOKEN_REUSE_MARGIN_MS = 30_000;

export class RoomEngine {
  readonly #options: ConnectOptions;
  readonly #room: EngineEvents;
  readonly #notifications = new NotificationGate();
  #log: Logger;
  #state: ConnectionState = 'disconnected';
  #signal: SignalClient | undefined;
  #sessionId = '';
  #token = '';
  #httpBase = '';
  /** The servers to reconnect to (the first one, and the cluster's other nodes once joined). */
  #servers: ServerCandidates | undefined;
  #tokenExpiresAt: number | undefined;
  #refresher: TokenRefresher | undefined;
  /** Set once connect() has been called: an engine serves one session. */
  #started = false;
  #connecting: Promise<void> | undefined;
  #cancelled = false;
  #leaving = false;
  #leave: Promise<void> | undefined;
  /** Set when the session is over; queued notifications are then skipped. */
  #ended = false;
  #sessionClosed: NotificationData['sessionClosed'] | undefined;
  readonly #reconnector: Reconnector;

  constructor(options: ConnectOptions, room: EngineEvents) {
    this.#options = options;
    this.#room = room;
    this.#log = createLogger(options.logLevel ?? 'silent', {}, options.logSink);
    this.#reconnector = new Reconnector({
      policy: options.reconnectPolicy ?? new DefaultReconnectPolicy(),
      canGetNewToken: options.tokenProvider !== undefined,
      connectTimeoutMs: options.connectTimeoutMs,
      log: () => this.#log,
      signal: () => this.#signal,
      sessionId: () => this.#sessionId,
      tokenFor: (forceNew) => this.#tokenForReconnect(forceNew),
      setToken: (token) => (this.#token = token),
      ended: () => this.#ended,
      sessionClosed: () => this.#sessionClosed,
      resume: (joined) => this.#resume(joined),
      replaceSession: () => {
        this.#notifications.newEpoch();
        this.#room.sessionReplaced();
      },
      startFresh: (joined) => this.#startFreshSession(joined),
      finish: (reason, error) => this.#finish(reason, error),
      finishClosedByServer: (closed) => this.#finishClosedByServer(closed),
      nextServer: () => this.#nextServer(),
    });
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** The live signaling client (undefined before connect()). */
  get signal(): SignalClient | undefined {
    return this.#signal;
  }

  get sessionId(): string {
    return this.#sessionId;
  }

  /** The token currently in use (refreshed ones included), for HTTP requests beside the socket. */
  get token(): string {
    return this.#token;
  }

  /** The server's http(s) origin. */
  get httpBase(): string {
    return this.#httpBase;
  }

  get tokenExpiresAt(): number | undefined {
    return this.#tokenExpiresAt;
  }

  /** The logger, with room, participant and session fields once joined. */
  get log(): Logger {
    return this.#log;
  }

  get started(): boolean {
    return this.#started;
  }

  /** True once the session is over; nothing more is done for it. */
  get ended(): boolean {
    return this.#ended;
  }

  /** The current server session's number: a fresh rejoin moves it on (see `isCurrent`). */
  get epoch(): number {
    return this.#notifications.epoch;
  }

  /** Whether work started in `epoch` still applies: the room is live and no fresh session replaced that one. */
  isCurrent(epoch: number): boolean {
    return !this.#ended && epoch === this.#notifications.epoch;
  }

  /** Resolves at once, or once a reconnect in progress has put the resumed state in place (or given up). */
  whenReconnected(): Promise<void> {
    return this.#notifications.whenOpen();
  }

  // --- connecting and leaving ---------------------------------------------------

  connect(serverUrl: string, token: string): Promise<void> {
    if (this.#started) {
      return Promise.reject(
        new HuizhenError(
          ErrorCode.INVALID_STATE,
          'This Room was already connected once; create a new one to join again',
        ),
      );
    }
    this.#started = true;
    this.#connecting = this.#connect(serverUrl, token);
    return this.#connecting;
  }

  /** See Room.disconnect(). */
  disconnect(): Promise<void> {
    if (this.#ended || !this.#started) return Promise.resolve();
    if (this.#state === 'connecting') {
      this.#cancelled = true;
      this.#signal?.close(1000, 'cancelled');
      return (
        this.#connecting?.then(
          () => undefined,
          () => undefined,
        ) ?? Promise.resolve()
      );
    }
    if (this.#state === 'reconnecting') {
      // No session to say leave on; the server lets the place go after its grace period.
      this.#leaving = true;
      this.#finish(DisconnectReason.ClientInitiated);
      return Promise.resolve();
    }
    // A second call while leaving waits for the first instead of leaving twice.
    this.#leave ??= this.#leaveRoom();
    return this.#leave;
  }

  async #leaveRoom(): Promise<void> {
    this.#leaving = true;
    const signal = this.#signal;
    if (signal?.state === 'open') {
      try {
        await signal.request('leave', {}, { timeoutMs: LEAVE_TIMEOUT_MS });
      } catch (error) {
        this.#log.debug('leave was not acknowledged', errorFields(error));
      }
    }
    this.#finish(DisconnectReason.ClientInitiated);
  }

  /** Gives up on the session for a reason of the Room's own (media failed): tells the server, then ends. */
  async abandon(reason: DisconnectReason, error: HuizhenError): Promise<void> {
    // Tell the server, so clinicians do not wait for someone who cannot take part.
    await this.#signal?.request('leave', {}, { timeoutMs: LEAVE_TIMEOUT_MS }).catch(() => undefined);
    this.#finish(reason, error);
  }

  /** A request on the live session, with a clear error while there is none. */
  request<M extends Method>(method: M, data: RequestData<M>): Promise<ResponseData[M]> {
    const signal = this.#signal;
    if (this.#state === 'reconnecting') {
      return Promise.reject(
        new ConnectionError(
          ConnectionErrorReason.ConnectionLost,
          `Cannot send '${method}' while reconnecting; try again after the reconnected event`,
        ),
      );
    }
    if (this.#state !== 'connected' || !signal) {
      return Promise.reject(new HuizhenError(ErrorCode.NOT_JOINED, 'The room is not connected'));
    }
    return signal.request(method, data);
  }

  /** Throws the `cancelled` ConnectionError if disconnect() was called while connecting. */
  throwIfCancelled(): void {
    if (this.#cancelled) throw cancelledError();
  }

  async #connect(serverUrl: string, token: string): Promise<void> {
    this.#setState('connecting');
    try {
      this.#httpBase = toHttpBase(serverUrl);
      this.#servers = new ServerCandidates(serverUrl);
      this.#token = token;
      const signal = new SignalClient(toSignalUrl(serverUrl), {
        webSocketFactory: this.#options.webSocketFactory,
        requestTimeoutMs: this.#options.requestTimeoutMs,
        connectTimeoutMs: this.#options.connectTimeoutMs,
        ...(this.#options.heartbeatIntervalMs !== undefined
          ? { heartbeatIntervalMs: this.#options.heartbeatIntervalMs }
          : {}),
        isMediaAlive: () => this.#room.mediaAlive(),
        logger: this.#log,
      });
      this.#signal = signal;
      signal.on('notification', (message) => this.#onNotification(message));
      signal.on('close', (info) => this.#onSignalClose(info));

      await this.#room.prepare();
      this.throwIfCancelled();
      await signal.connect();
      this.throwIfCancelled();
      signal.resetNotificationSeq();
      const joined = await signal.request('join', { protocolVersion: PROTOCOL_VERSION, token });
      this.throwIfCancelled();
      this.#applyJoin(joined);
      await this.#room.joined(joined);
      this.throwIfCancelled();
      if (signal.state !== 'open') {
        throw new ConnectionError(ConnectionErrorReason.ConnectionLost, 'The connection closed while setting up media');
      }
      this.#setState('connected');
      this.#startTokenRefresh(joined.tokenExpiresIn);
      this.#log.info('connected', { admission: joined.admission });
      // Hold back track events until the caller of connect() has had a turn to add listeners.
      setTimeout(() => this.#notifications.markReady(), 0);
    } catch (error) {
      const failure = connectFailure(error, { cancelled: this.#cancelled, sessionClosed: this.#sessionClosed });
      this.#log.warn('connect failed', errorFields(failure));
      this.#ended = true;
      this.#notifications.markReady();
      this.#room.teardown(true);
      this.#signal?.close(1000, 'client left');
      this.#setState('disconnected');
      throw failure;
    }
  }

  /** The engine's part of a join answer: session id, token expiry, a logger that names the session. */
  #nextServer(): boolean {
    const url = this.#servers?.advance();
    if (url === undefined || !this.#signal) return false;
    this.#signal.retarget(toSignalUrl(url));
    this.#httpBase = toHttpBase(url);
    this.#log.info('reconnecting to another node of the cluster', { url: this.#signal.url });
    return true;
  }

  /** Leaves this node for `url` and resumes there (a drain: planned, so no waiting for the socket to die). */
  #moveTo(url: string): void {
    const signal = this.#signal;
    if (this.#state !== 'connected' || !signal || !this.#servers?.prefer(url)) {
      this.#log.warn('move to another node ignored', { url });
      return;
    }
    this.#log.info('moving to another node of the cluster', { url });
    void this.#reconnect(
      { code: 1012, reason: 'moving to another node', initiatedLocally: false },
      new HuizhenError(ErrorCode.SERVER_SHUTTING_DOWN, 'The server is moving this session to another node'),
    );
    // Closed after the state left 'connected', so this close is not taken for the end of the session.
    signal.close(1000, 'moving to another node');
    signal.retarget(toSignalUrl(url));
    this.#httpBase = toHttpBase(url);
  }

  #applyJoin(joined: JoinResponse): void {
    this.#sessionId = joined.sessionId;
    this.#servers?.learn(joined.clusterNodes);
    this.#log = createLogger(this.#options.logLevel ?? 'silent', {}, this.#options.logSink).child({
      room: joined.room.id,
      participant: joined.participant.identity,
      session: joined.sessionId,
    });
    if (Number.isFinite(joined.tokenExpiresIn)) this.#tokenExpiresAt = Date.now() + joined.tokenExpiresIn * 1000;
  }

  #setState(state: ConnectionState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#room.stateChanged(state);
  }

  // --- tokens ---------------------------------------------------------------------

  #startTokenRefresh(expiresInSec: number): void {
    const provider = this.#options.tokenProvider;
    if (!provider || !Number.isFinite(expiresInSec)) return;
    this.#refresher ??= new TokenRefresher({
      provider,
      send: async (token) => {
        const refreshed = await this.request('refreshToken', { token });
        this.#room.iceServersRefreshed(refreshed);
        return refreshed.tokenExpiresIn;
      },
      onRefreshed: (token, expiresIn) => {
        this.#token = token;
        this.#tokenExpiresAt = Date.now() + expiresIn * 1000;
      },
      logger: () => this.#log,
    });
    this.#refresher.schedule(expiresInSec);
  }

  /** The token to rejoin with: the current one while it has time left, else a fresh one from the provider. */
  async #tokenForReconnect(forceNew: boolean): Promise<string> {
    const provider = this.#options.tokenProvider;
    if (!provider) return this.#token;
    const left = (this.#tokenExpiresAt ?? 0) - Date.now();
    if (!forceNew && left > TOKEN_REUSE_MARGIN_MS) return this.#token;
    return provider();
  }

  // --- losing the connection, and reconnecting ------------------------------------------

  #onSignalClose(info: SignalCloseInfo): void {
    // While connecting, the pending request fails and connect() reports it; while reconnecting, the attempt does.
    if (this.#state !== 'connected') return;
    if (this.#leaving || info.initiatedLocally) {
      this.#finish(DisconnectReason.ClientInitiated);
      return;
    }
    // The server ended the session on purpose (denied, removed, ended, expired, replaced): no coming back.
    const closed = this.#sessionClosed;
    if (closed && this.#rejoinsElsewhere(closed)) {
      // --- cluster: the room moved to another node, or this node is going away: not the end of the consult
      this.#sessionClosed = undefined;
      void this.#reconnect(info, new HuizhenError(closed.code as ErrorCode, closed.reason || 'The room moved'));
      return;
    }
    if (closed) {
      this.#finishClosedByServer(closed);
      return;
    }
    const { reason, error } = disconnectFromCloseCode(info.code, info.reason);
    if (reason !== DisconnectReason.ConnectionLost) {
      this.#finish(reason, error);
      return;
    }
    void this.#reconnect(info, error);
  }

  /**
   * A session the server closed that goes on elsewhere in a cluster: the room
   * is homed on another node now (ROOM_ON_OTHER_NODE), or this node shuts down
   * and the join named other nodes (SERVER_SHUTTING_DOWN). One server alone
   * shutting down ends the session as before.
   */
  #rejoinsElsewhere(closed: NotificationData['sessionClosed']): boolean {
    if (closed.code === ErrorCode.ROOM_ON_OTHER_NODE) return true;
    return closed.code === ErrorCode.SERVER_SHUTTING_DOWN && (this.#servers?.all.length ?? 0) > 1;
  }

  #finishClosedByServer(closed: NotificationData['sessionClosed']): void {
    const code = isErrorCode(closed.code) ? closed.code : ErrorCode.CONNECTION_FAILED;
    this.#finish(
      disconnectReasonForCode(code),
      new HuizhenError(code, closed.reason || 'The server ended the session'),
    );
  }

  /** Holds notifications back and hands over to the Reconnector. */
  async #reconnect(lost: SignalCloseInfo, error: HuizhenError): Promise<void> {
    this.#notifications.close();
    this.#refresher?.pause();
    this.#log.info('connection lost; reconnecting', { code: lost.code });
    this.#setState('reconnecting');
    this.#room.reconnecting(error);
    await this.#reconnector.run(lost, error);
  }

  async #resume(joined: JoinResponse): Promise<void> {
    this.#applyJoin(joined);
    await this.#room.resumed(joined);
    if (this.#ended) return;
    this.#reconnected(true, joined.tokenExpiresIn);
  }

  async #startFreshSession(joined: JoinResponse): Promise<void> {
    this.#applyJoin(joined);
    await this.#room.rejoined(joined);
    if (this.#ended) return;
    this.#log.info('joined afresh after reconnecting', { admission: joined.admission });
    this.#reconnected(false, joined.tokenExpiresIn);
  }

  #reconnected(resumed: boolean, tokenExpiresIn: number): void {
    this.#setState('connected');
    this.#startTokenRefresh(tokenExpiresIn);
    this.#log.info('reconnected', { resumed });
    this.#room.reconnected(resumed);
    this.#notifications.open();
    // The socket may have dropped while the session was being set up again (its close was not ours to act on then).
    const signal = this.#signal;
    if (signal && signal.state === 'closed' && !this.#ended)
      void this.#reconnect(
        { code: 1006, reason: 'connection lost while reconnecting', initiatedLocally: false },
        new HuizhenError(ErrorCode.CONNECTION_FAILED, 'The connection dropped again while reconnecting'),
      );
  }

  /** Ends the session once: the Room drops what it holds, then `disconnected`. */
  #finish(reason: DisconnectReason, error?: HuizhenError): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#notifications.markReady();
    this.#refresher?.stop();
    this.#reconnector.wake();
    this.#log.info('disconnected', { reason, ...(error ? { code: error.code } : {}) });
    this.#room.teardown(false);
    this.#signal?.close(1000, 'client left');
    this.#setState('disconnected');
    // Let anything queued drain (it is skipped now that the room has ended).
    this.#notifications.open();
    this.#room.disconnected(reason, error);
  }

  // --- notifications ------------------------------------------------------------------------

  #onNotification(message: AnyNotification): void {
    // --- cluster: the node is draining; the session moves on as a resume through the node it names
    if (message.notification === 'moveNode') {
      this.#moveTo(message.data.url);
      return;
    }
    if (message.notification === 'sessionClosed') {
      // Recorded now, not queued: the socket closes right after and the close handler needs it.
      this.#sessionClosed = message.data;
      this.#room.sessionClosed(message.data);
      this.#log.info('session closed by server', { code: message.data.code });
      return;
    }
    this.#notifications.enqueue(
      () => this.#room.notification(message),
      () => this.#ended,
      (error: unknown) =>
        this.#log.warn('notification handling failed', { notification: message.notification, ...errorFields(error) }),
    );
  }
}
