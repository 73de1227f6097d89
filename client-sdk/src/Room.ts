/**
 * A joined consult room: connection lifecycle (join, reconnect, token
 * refresh), the participants, the consult workflow (waiting room, host
 * controls, chat, opinions), and turning server notifications into tracks and
 * events. Shared records live in `room.records` (RoomRecords.ts).
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
  isHuizhenError,
} from './errors.js';
import type { Device } from 'mediasoup-client/types';
import { ChatLog } from './ChatLog.js';
import type { ConnectionState, Participant, RoomEventCallbacks } from './events.js';
import { LocalParticipant } from './LocalParticipant.js';
import { createLogger, errorFields, type Logger } from './logger.js';
import { MediaSession } from './MediaSession.js';
import type { ConnectOptions } from './options.js';
import {
  PROTOCOL_VERSION,
  type ChatMessage,
  type ConsultSummary,
  type Method,
  type NotificationData,
  type Opinion,
  type ParticipantInfo,
  type Permission,
  type RequestData,
  type ResponseData,
  type RoomInfo,
  type RoomKind,
  type RoomView,
  type TrackSource,
  type WaitingEntry,
} from '@huizhen/protocol';
import { DefaultReconnectPolicy, type ReconnectPolicy } from './ReconnectPolicy.js';
import { defaultFetch } from './recordsHttp.js';
import { RemoteParticipant } from './RemoteParticipant.js';
import { RoomRecords, isRecordNotification } from './RoomRecords.js';
import { SignalClient, type AnyNotification, type SignalCloseInfo } from './SignalClient.js';
import { TokenRefresher } from './TokenRefresher.js';
import { RemoteTrack } from './tracks.js';
import { TypedEmitter } from '@huizhen/protocol';
import { toHttpBase, toSignalUrl } from './url.js';

/** How long `disconnect()` waits for the server to acknowledge `leave`. */
const LEAVE_TIMEOUT_MS = 1500;
/** Opening a socket while reconnecting may take this long at most: the grace period is short. */
const RECONNECT_CONNECT_TIMEOUT_MS = 5000;
/** A reconnect asks the token provider for a new token when the current one has less left than this. */
const TOKEN_REUSE_MARGIN_MS = 30_000;

/** 'waiting': in the lobby until a clinician admits this participant. */
export type Admission = 'admitted' | 'waiting';

/** Permission names the server grants (see `room.permissions`); defined by the protocol. */
export type { Permission };

/** Join codes that another attempt may get past (the network, an overloaded or restarting server). */
const RETRYABLE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCode.CONNECTION_FAILED,
  ErrorCode.TIMEOUT,
  ErrorCode.RATE_LIMITED,
  ErrorCode.INTERNAL,
  ErrorCode.MEDIA_ERROR,
  ErrorCode.SERVER_SHUTTING_DOWN,
]);

function isRetryable(error: unknown): boolean {
  // Anything that is not a server answer (a token provider that could not reach its backend, say) may work next time.
  return !(error instanceof HuizhenError) || RETRYABLE_CODES.has(error.code);
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * A consult room. Get one with `connect(serverUrl, token)`; or create it with
 * `new Room(options)`, register listeners, then call `room.connect(...)`.
 */
export class Room extends TypedEmitter<RoomEventCallbacks> {
  /** This client's participant. */
  readonly localParticipant: LocalParticipant;
  /** The room's shared medical records: upload, share, synchronized view, annotations. */
  readonly records: RoomRecords;
  readonly #options: ConnectOptions;
  readonly #policy: ReconnectPolicy;
  readonly #remote = new Map<string, RemoteParticipant>();
  readonly #chat = new ChatLog();
  #log: Logger;
  #state: ConnectionState = 'disconnected';
  #admission: Admission = 'waiting';
  #info: RoomInfo | undefined;
  #kind: RoomKind | undefined;
  #name = '';
  #sessionId = '';
  #permissions: ReadonlySet<string> = new Set();
  #waitingRoom: WaitingEntry[] = [];
  #token = '';
  #httpBase = '';
  #tokenExpiresAt: number | undefined;
  #refresher: TokenRefresher | undefined;
  #signal: SignalClient | undefined;
  #device: Device | undefined;
  #media: MediaSession | undefined;
  #activeSpeaker: Participant | null = null;
  /** Set once connect() has been called: a Room is used for one session. */
  #started = false;
  #connecting: Promise<void> | undefined;
  #cancelled = false;
  #leaving = false;
  #leave: Promise<void> | undefined;
  /** Set when the session is over; queued notifications are then skipped. */
  #ended = false;
  #sessionClosed: NotificationData['sessionClosed'] | undefined;
  #endSummary: ConsultSummary | undefined;
  /** Notifications are handled one at a time, in arrival order. */
  #queue: Promise<void> = Promise.resolve();
  readonly #ready: Promise<void>;
  #markReady!: () => void;
  /** Closed while reconnecting: notifications (and replays) wait until the resumed state is in place. */
  #gate: Promise<void> = Promise.resolve();
  #openGate: (() => void) | undefined;
  /** Counts server sessions; notifications of an earlier one (before a fresh rejoin) are dropped. */
  #epoch = 0;
  /** Cuts the current wait between reconnect attempts short. */
  #wake: (() => void) | undefined;

  constructor(options: ConnectOptions = {}) {
    super();
    this.#options = { ...options };
    this.#policy = options.reconnectPolicy ?? new DefaultReconnectPolicy();
    this.#log = createLogger(options.logLevel ?? 'silent', {}, options.logSink);
    this.#ready = new Promise<void>((resolve) => {
      this.#markReady = resolve;
    });
    this.localParticipant = new LocalParticipant({
      session: () => {
        if (this.#state === 'reconnecting') {
          throw new ConnectionError(
            ConnectionErrorReason.ConnectionLost,
            'Reconnecting to the server; try again after the reconnected event',
          );
        }
        if (this.#state !== 'connected' || !this.#signal) {
          throw new HuizhenError(ErrorCode.NOT_JOINED, 'The room is not connected');
        }
        if (this.#admission !== 'admitted' || !this.#media) {
          throw new HuizhenError(
            ErrorCode.NOT_ADMITTED,
            'Waiting for a clinician to admit you; publish after the admitted event',
          );
        }
        return { media: this.#media, signal: this.#signal };
      },
      isReconnecting: () => this.#state === 'reconnecting',
      logger: () => this.#log,
      onTrackPublished: (track) => this.emit('localTrackPublished', track, this.localParticipant),
      onTrackUnpublished: (track) => this.emit('localTrackUnpublished', track, this.localParticipant),
    });
    this.records = new RoomRecords({
      request: (method, data) => this.#request(method, data),
      emit: (event, ...args) => void this.emit(event, ...args),
      identity: () => this.localParticipant.identity,
      http: () => {
        // Uploads and downloads do not need the socket, so they work while reconnecting too.
        if (this.#state !== 'connected' && this.#state !== 'reconnecting') {
          throw new HuizhenError(ErrorCode.NOT_JOINED, 'The room is not connected');
        }
        return {
          baseUrl: this.#httpBase,
          room: this.#name,
          token: this.#token,
          fetch: this.#options.fetch ?? defaultFetch(),
        };
      },
      logger: () => this.#log,
    });
  }

  // --- state ------------------------------------------------------------------

  /** The room's id on the server (empty until connected). */
  get name(): string {
    return this.#name;
  }

  /** consult, clinic or rounds; known once connected (also while waiting in the lobby). */
  get kind(): RoomKind | undefined {
    return this.#kind;
  }

  /**
   * The consult's lifecycle state (created, waiting, active, ended), lock and
   * host, once admitted; kept current by `roomUpdated`.
   */
  get info(): RoomInfo | undefined {
    return this.#info;
  }

  /**
   * 'waiting' while in the lobby of a consult: connected, but nobody is seen or
   * heard and nothing can be published until the `admitted` event. Meaningful
   * once connected.
   */
  get admission(): Admission {
    return this.#admission;
  }

  /** What the server lets this participant do (see `Permission`); empty until connected. */
  get permissions(): ReadonlySet<string> {
    return this.#permissions;
  }

  /** Whether the server grants this participant `permission` (e.g. 'admit', 'shareRecords'). */
  can(permission: Permission): boolean {
    return this.#permissions.has(permission);
  }

  /** This connection's session id on the server (empty until connected; kept across a resumed reconnect). */
  get sessionId(): string {
    return this.#sessionId;
  }

  /** The signaling connection: connecting, connected, reconnecting or disconnected. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** Everyone else in the room, by identity. */
  get remoteParticipants(): ReadonlyMap<string, RemoteParticipant> {
    return this.#remote;
  }

  /** The participant currently speaking loudest, if any. */
  get activeSpeaker(): Participant | null {
    return this.#activeSpeaker;
  }

  /** When the current token expires (ms since the epoch, local clock); without a refresh the server then ends the session. */
  get tokenExpiresAt(): number | undefined {
    return this.#tokenExpiresAt;
  }

  /** Who waits in the lobby; kept current for participants who may admit (`waitingRoomChanged`), empty for others. */
  get waitingRoom(): readonly WaitingEntry[] {
    return [...this.#waitingRoom];
  }

  /** The chat so far, in server order, including this client's own messages. */
  get chatHistory(): readonly ChatMessage[] {
    return [...this.#chat.messages];
  }

  /** The local or a remote participant with this identity. */
  getParticipant(identity: string): Participant | undefined {
    if (identity && identity === this.localParticipant.identity) return this.localParticipant;
    return this.#remote.get(identity);
  }

  // --- connecting and leaving ---------------------------------------------------

  /**
   * Connects to `serverUrl` (the server's http(s) origin) with a join token.
   * Resolves once joined and ready to publish; remote tracks then arrive as
   * `trackSubscribed` events. Rejects with a ConnectionError whose `code` says
   * why (TOKEN_EXPIRED, TOKEN_INVALID, ROOM_NOT_FOUND, CONNECTION_FAILED, ...).
   */
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

  /**
   * Leaves the room: tells the server, stops published tracks the SDK opened,
   * and emits `disconnected` with reason `clientInitiated`. While connecting,
   * cancels the attempt instead (connect() rejects with reason `cancelled`);
   * while reconnecting, stops trying.
   */
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

  /**
   * Starts playback of every attached remote track. Browsers may block
   * autoplay with sound until the user interacts with the page; call this from
   * a click handler after a `mediaPlaybackBlocked` event.
   */
  async startMedia(): Promise<void> {
    const tracks = [...this.#remote.values()].flatMap((p) => [...p.tracks.values()]);
    await Promise.all(tracks.map((t) => t.play()));
  }

  // --- waiting room and host controls ------------------------------------------------

  /**
   * Lets a waiting participant into the room (needs 'admit'). They get
   * `admitted`; everyone who may admit gets `waitingRoomChanged`.
   *
   * @throws HuizhenError PERMISSION_DENIED, NOT_FOUND (nobody of that identity waits), ...
   */
  async admit(identity: string): Promise<void> {
    await this.#request('admit', { identity });
  }

  /** Turns a waiting participant away (needs 'admit'); their session ends with `reason`. */
  async deny(identity: string, reason?: string): Promise<void> {
    await this.#request('deny', { identity, ...(reason ? { reason } : {}) });
  }

  /**
   * Pauses another participant's track (needs 'muteOthers'). They are told
   * (`mutedByHost`) and may unmute only if `allowUnmute`.
   *
   * @throws HuizhenError PERMISSION_DENIED, NOT_FOUND (no such participant or track), ...
   */
  async muteParticipant(identity: string, source: TrackSource, options: { allowUnmute?: boolean } = {}): Promise<void> {
    await this.#request('muteParticipant', { identity, source, allowUnmute: options.allowUnmute ?? false });
  }

  /**
   * Removes a participant (needs 'remove'): their session ends with `reason`
   * and the identity cannot rejoin this room, even with a new token.
   */
  async removeParticipant(identity: string, reason?: string): Promise<void> {
    await this.#request('removeParticipant', { identity, ...(reason ? { reason } : {}) });
  }

  /** Locks the room against new entries except clinicians of its hospitals (needs 'lock'). */
  lock(): Promise<RoomInfo> {
    return this.#setLocked(true);
  }

  /** Unlocks the room (needs 'lock'). */
  unlock(): Promise<RoomInfo> {
    return this.#setLocked(false);
  }

  async #setLocked(locked: boolean): Promise<RoomInfo> {
    const { room } = await this.#request('setLocked', { locked });
    // Everyone, this client included, also gets roomUpdated.
    this.#info = room;
    return room;
  }

  /**
   * Ends the consult for everyone (needs 'end') and resolves with its summary.
   * The server then closes every session: `disconnected` follows with reason `roomEnded`.
   */
  async end(reason?: string): Promise<ConsultSummary> {
    const { summary } = await this.#request('endRoom', reason ? { reason } : {});
    this.#endSummary = summary;
    return summary;
  }

  /**
   * Once the consult has ended: who took part, when, and for how long. Set for
   * clinicians (the one who ended it, and everyone on the clinical team the
   * server sent it to); undefined for others.
   */
  get endSummary(): ConsultSummary | undefined {
    return this.#endSummary;
  }

  /** Who took part and for how long (clinicians only). */
  async getSummary(): Promise<ConsultSummary> {
    return (await this.#request('getSummary', {})).summary;
  }

  // --- chat and opinions -------------------------------------------------------------

  /**
   * Sends a chat message (at most 2000 characters; the server limits the
   * rate). `to: 'clinicians'` hides it from patients and family (clinicians
   * only). Resolves with the message as the server ordered it; it is also
   * added to `chatHistory` and emitted as `chat`.
   *
   * @throws HuizhenError PERMISSION_DENIED, RATE_LIMITED, INVALID_REQUEST, NOT_ADMITTED, ...
   */
  async sendChat(text: string, options: { to?: 'everyone' | 'clinicians' } = {}): Promise<ChatMessage> {
    const { message } = await this.#request('sendChat', { text, ...(options.to ? { to: options.to } : {}) });
    this.#addChat(message);
    return message;
  }

  /** Writes or revises this clinician's consult opinion (needs 'writeOpinion'); every edit is a new version. */
  async setOpinion(text: string): Promise<Opinion> {
    const { opinion } = await this.#request('setOpinion', { text });
    // Other clinicians are notified; this client learns from the answer.
    this.emit('opinionUpdated', opinion);
    return opinion;
  }

  /** Every opinion version written in this consult (clinicians only). */
  async getOpinions(): Promise<Opinion[]> {
    return (await this.#request('getOpinions', {})).opinions;
  }

  /** A request on the live session, with a clear error while there is none. */
  #request<M extends Method>(method: M, data: RequestData<M>): Promise<ResponseData[M]> {
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

  #addChat(message: ChatMessage): void {
    if (this.#chat.add(message)) this.emit('chat', message);
  }

  // --- joining -----------------------------------------------------------------------

  async #connect(serverUrl: string, token: string): Promise<void> {
    this.#setState('connecting');
    try {
      this.#httpBase = toHttpBase(serverUrl);
      this.#token = token;
      const signal = new SignalClient(toSignalUrl(serverUrl), {
        webSocketFactory: this.#options.webSocketFactory,
        requestTimeoutMs: this.#options.requestTimeoutMs,
        connectTimeoutMs: this.#options.connectTimeoutMs,
        ...(this.#options.heartbeatIntervalMs !== undefined
          ? { heartbeatIntervalMs: this.#options.heartbeatIntervalMs }
          : {}),
        logger: this.#log,
      });
      this.#signal = signal;
      signal.on('notification', (message) => this.#onNotification(message));
      signal.on('close', (info) => this.#onSignalClose(info));

      try {
        this.#device = await MediaSession.createDevice(this.#options.mediasoupDevice);
      } catch (error) {
        throw this.#mediaSetupError(error);
      }
      this.#throwIfCancelled();
      await signal.connect();
      this.#throwIfCancelled();
      signal.resetNotificationSeq();
      const joined = await signal.request('join', { protocolVersion: PROTOCOL_VERSION, token });
      this.#throwIfCancelled();
      this.#applyJoin(joined);
      if (joined.admission === 'admitted') {
        await this.#enterRoom(joined, 'join');
        this.#throwIfCancelled();
      }
      if (signal.state !== 'open') {
        throw new ConnectionError(ConnectionErrorReason.ConnectionLost, 'The connection closed while setting up media');
      }
      this.#setState('connected');
      this.#startTokenRefresh(joined.tokenExpiresIn);
      this.#log.info('connected', { admission: this.#admission });
      // Hold back track events until the caller of connect() has had a turn to add listeners.
      setTimeout(() => this.#markReady(), 0);
    } catch (error) {
      const failure = this.#connectFailure(error);
      this.#log.warn('connect failed', errorFields(failure));
      this.#ended = true;
      this.#markReady();
      this.#releaseMedia();
      this.#remote.clear();
      this.#setState('disconnected');
      throw failure;
    }
  }

  #applyJoin(joined: ResponseData['join']): void {
    this.#sessionId = joined.sessionId;
    this.#name = joined.room.id;
    this.#kind = joined.room.kind;
    this.#permissions = new Set(joined.permissions);
    this.localParticipant._setInfo(joined.participant);
    this.#log = createLogger(this.#options.logLevel ?? 'silent', {}, this.#options.logSink).child({
      room: joined.room.id,
      participant: joined.participant.identity,
      session: joined.sessionId,
    });
    if (Number.isFinite(joined.tokenExpiresIn)) this.#tokenExpiresAt = Date.now() + joined.tokenExpiresIn * 1000;
  }

  /**
   * Takes in what an admitted participant sees (at join, when admitted from
   * the lobby, or after a fresh rejoin) and sets up media. Throws a
   * ConnectionError if media fails.
   */
  async #enterRoom(view: RoomView, mode: 'join' | 'admitted' | 'rejoin'): Promise<void> {
    const signal = this.#signal;
    if (!signal || !this.#device)
      throw new HuizhenError(ErrorCode.INVALID_STATE, 'Entering a room without a connection');
    this.#syncView(view, mode === 'rejoin');
    if (mode === 'rejoin') {
      this.#reconcileParticipants(view);
    } else {
      const self = this.localParticipant.identity;
      for (const info of view.participants) {
        if (info.identity !== self && !this.#remote.has(info.identity))
          this.#remote.set(info.identity, new RemoteParticipant(info));
      }
    }
    try {
      // A device is loaded once; a fresh session (perhaps on a restarted server) gets a new one.
      if (this.#device.loaded) this.#device = await MediaSession.createDevice(this.#options.mediasoupDevice);
      this.#media = await MediaSession.create({
        signal,
        device: this.#device,
        routerRtpCapabilities: view.routerRtpCapabilities,
        logger: this.#log,
        iceServers: this.#options.iceServers,
        onConnectionStateChange: (direction, state) => this.emit('mediaConnectionStateChanged', direction, state),
      });
    } catch (error) {
      throw this.#mediaSetupError(error);
    }
    this.#admission = 'admitted';
  }

  /**
   * Room info, waiting room, chat and the shared record from a room view. With
   * `emit` (after a reconnect) the application is told what changed; at join
   * and admission it reads the state instead.
   */
  #syncView(view: RoomView, emit: boolean): void {
    const before = this.#info;
    this.#info = view.room;
    this.#name = view.room.id;
    this.#kind = view.room.kind;
    if (emit && before && !sameJson(before, view.room)) this.emit('roomUpdated', view.room);
    const waiting = view.waitingRoom ?? [];
    const waitingChanged = !sameJson(this.#waitingRoom, waiting);
    this.#waitingRoom = waiting;
    if (emit && waitingChanged) this.emit('waitingRoomChanged', [...waiting]);
    const added = this.#chat.addAll(view.chatHistory);
    if (emit) for (const message of added) this.emit('chat', message);
    this.records._applyShare(view.share, emit);
  }

  /**
   * Makes the participants match a view the server sent after a reconnect.
   * Notifications replayed after it may repeat some of this; each handler
   * ignores what is already in place. The view also covers notifications lost
   * in the socket that died before the server noticed.
   */
  #reconcileParticipants(view: RoomView): void {
    const self = this.localParticipant.identity;
    const present = new Map(view.participants.filter((p) => p.identity !== self).map((p) => [p.identity, p]));
    for (const identity of [...this.#remote.keys()]) {
      if (!present.has(identity)) this.#onParticipantLeft(identity, 'disconnected');
    }
    for (const info of present.values()) {
      const participant = this.#remote.get(info.identity);
      if (!participant || participant.joinedAt !== info.joinedAt) {
        // New, or the same person on a new session (which replaced the old one).
        this.#onParticipantJoined(info);
        continue;
      }
      for (const gone of participant._syncPublished(info.tracks)) this.#unsubscribe(participant, gone, true);
      for (const track of info.tracks) this.#onTrackMuted(info.identity, track.trackId, track.muted);
    }
  }

  #throwIfCancelled(): void {
    if (this.#cancelled)
      throw new ConnectionError(ConnectionErrorReason.Cancelled, 'disconnect() was called while connecting');
  }

  /** One typed error for every way connecting can fail. */
  #connectFailure(error: unknown): ConnectionError {
    if (this.#cancelled)
      return new ConnectionError(ConnectionErrorReason.Cancelled, 'disconnect() was called while connecting');
    const closed = this.#sessionClosed;
    if (closed && isErrorCode(closed.code)) {
      return new ConnectionError(
        ConnectionErrorReason.Rejected,
        closed.reason || 'The server closed the session',
        closed.code,
      );
    }
    if (error instanceof ConnectionError) return error;
    if (error instanceof HuizhenError) {
      const reason = error.code === ErrorCode.TIMEOUT ? ConnectionErrorReason.Timeout : ConnectionErrorReason.Rejected;
      return new ConnectionError(reason, error.message, error.code, { cause: error });
    }
    const message = error instanceof Error ? error.message : String(error);
    return new ConnectionError(
      ConnectionErrorReason.MediaSetupFailed,
      `Could not connect: ${message}`,
      ErrorCode.CONNECTION_FAILED,
      {
        cause: error,
      },
    );
  }

  #mediaSetupError(error: unknown): ConnectionError {
    if (error instanceof ConnectionError) return error;
    if (error instanceof HuizhenError) {
      return new ConnectionError(ConnectionErrorReason.MediaSetupFailed, error.message, error.code, { cause: error });
    }
    if ((error as { name?: unknown })?.name === 'UnsupportedError') {
      return new ConnectionError(
        ConnectionErrorReason.UnsupportedBrowser,
        'This browser does not support the WebRTC features consults need',
        ErrorCode.CONNECTION_FAILED,
        { cause: error },
      );
    }
    const message = error instanceof Error ? error.message : String(error);
    return new ConnectionError(
      ConnectionErrorReason.MediaSetupFailed,
      `Media setup failed: ${message}`,
      ErrorCode.CONNECTION_FAILED,
      {
        cause: error,
      },
    );
  }

  #setState(state: ConnectionState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.emit('connectionStateChanged', state);
  }

  // --- tokens ---------------------------------------------------------------------

  #startTokenRefresh(expiresInSec: number): void {
    const provider = this.#options.tokenProvider;
    if (!provider || !Number.isFinite(expiresInSec)) return;
    this.#refresher ??= new TokenRefresher({
      provider,
      send: async (token) => (await this.#request('refreshToken', { token })).tokenExpiresIn,
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

  #finishClosedByServer(closed: NotificationData['sessionClosed']): void {
    const code = isErrorCode(closed.code) ? closed.code : ErrorCode.CONNECTION_FAILED;
    this.#finish(
      disconnectReasonForCode(code),
      new HuizhenError(code, closed.reason || 'The server ended the session'),
    );
  }

  /**
   * Retries as the policy says: each attempt opens a new socket and joins with
   * `resumeSessionId`. The server keeps the session for its grace period; past
   * that (SESSION_EXPIRED) the room joins afresh.
   */
  async #reconnect(lost: SignalCloseInfo, error: HuizhenError): Promise<void> {
    const startedAt = Date.now();
    this.#holdNotifications();
    this.#refresher?.pause();
    this.#log.info('connection lost; reconnecting', { code: lost.code });
    this.#setState('reconnecting');
    this.emit('reconnecting', error);
    let retryCount = 0;
    let newToken = false;
    for (;;) {
      const elapsedMs = Date.now() - startedAt;
      const delay = this.#policy.nextRetryDelayMs({
        retryCount,
        elapsedMs,
        closeCode: lost.code,
        closeReason: lost.reason,
      });
      if (delay === null) {
        this.#log.warn('giving up reconnecting', { attempts: retryCount, elapsedMs });
        this.#finish(
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
      if (this.#ended) return;
      retryCount++;
      try {
        await this.#attemptRejoin(newToken);
        return;
      } catch (failure) {
        if (this.#ended) return;
        // Drop a half-open attempt (e.g. join timed out) before the next one.
        this.#signal?.close(1000, 'reconnect attempt failed');
        const closed = this.#sessionClosed;
        if (closed) {
          this.#finishClosedByServer(closed);
          return;
        }
        if (isHuizhenError(failure, ErrorCode.TOKEN_EXPIRED) && this.#options.tokenProvider && !newToken) {
          newToken = true;
        } else if (!isRetryable(failure)) {
          const code = (failure as HuizhenError).code;
          this.#log.warn('reconnect refused', { code });
          this.#finish(disconnectReasonForCode(code), failure as HuizhenError);
          return;
        }
        this.#log.info('reconnect attempt failed', { attempt: retryCount, ...errorFields(failure) });
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

  async #attemptRejoin(forceNewToken: boolean): Promise<void> {
    const signal = this.#signal;
    if (!signal) throw new HuizhenError(ErrorCode.INVALID_STATE, 'No signaling client to reconnect');
    const token = await this.#tokenForReconnect(forceNewToken);
    if (this.#ended) return;
    await signal.connect({
      timeoutMs: Math.min(this.#options.connectTimeoutMs ?? RECONNECT_CONNECT_TIMEOUT_MS, RECONNECT_CONNECT_TIMEOUT_MS),
    });
    let joined: ResponseData['join'];
    try {
      joined = await signal.request('join', {
        protocolVersion: PROTOCOL_VERSION,
        token,
        resumeSessionId: this.#sessionId,
        // Only notifications after this one are replayed; nothing twice, nothing lost.
        resumeFromSeq: signal.lastNotificationSeq,
      });
    } catch (error) {
      if (!isHuizhenError(error, ErrorCode.SESSION_EXPIRED)) throw error;
      this.#log.info('the server no longer has this session; joining afresh');
      this.#token = token;
      await this.#joinAfresh(signal, token);
      return;
    }
    if (this.#ended) return;
    this.#token = token;
    if (!joined.resumed) {
      // Not resumed although asked: treat it as the fresh session it is.
      this.#epoch++;
      this.#teardownSession();
      await this.#startFreshSession(joined);
      return;
    }
    await this.#resumeSession(signal, joined);
  }

  /** The same session goes on: catch up on what changed and restart ICE. */
  async #resumeSession(signal: SignalClient, joined: ResponseData['join']): Promise<void> {
    const wasAdmitted = this.#admission === 'admitted';
    this.#applyJoin(joined);
    let admittedWhileAway = false;
    if (joined.admission === 'admitted') {
      const media = this.#media;
      if (!media && !wasAdmitted) {
        // Admitted while away: enter now, as the admitted notification would have.
        await this.#enterRoom(joined, 'admitted');
        admittedWhileAway = true;
      } else if (!media) {
        // A fresh join whose media setup was cut off by another drop: finish setting it up.
        await this.#enterRoom(joined, 'rejoin');
        if (this.#media) await this.localParticipant._republishAll(this.#media);
      } else {
        this.#syncView(joined, true);
        this.#reconcileParticipants(joined);
        // The network may have changed under the media too.
        await media.restartIce();
        await this.localParticipant._syncAfterResume(media, signal, joined.participant.tracks);
      }
    }
    if (this.#ended) return;
    this.#reconnected(true, joined.tokenExpiresIn);
    if (admittedWhileAway) this.emit('admitted');
  }

  /** The server forgot the session: join as new, then bring back what this client had. */
  async #joinAfresh(signal: SignalClient, token: string): Promise<void> {
    // Anything still queued from the old session no longer applies.
    this.#epoch++;
    this.#teardownSession();
    signal.resetNotificationSeq();
    const joined = await signal.request('join', { protocolVersion: PROTOCOL_VERSION, token });
    if (this.#ended) return;
    await this.#startFreshSession(joined);
  }

  async #startFreshSession(joined: ResponseData['join']): Promise<void> {
    const wasAdmitted = this.#admission === 'admitted';
    this.#applyJoin(joined);
    if (joined.admission === 'admitted') {
      await this.#enterRoom(joined, 'rejoin');
      if (this.#media) await this.localParticipant._republishAll(this.#media);
    } else {
      // Back in the lobby: nobody to see, nothing may be published until admitted again.
      this.#admission = 'waiting';
      for (const identity of [...this.#remote.keys()]) this.#onParticipantLeft(identity, 'disconnected');
      this.localParticipant._unpublishAll();
      this.records._applyShare(undefined, true);
      this.#info = undefined;
      if (this.#waitingRoom.length > 0) {
        this.#waitingRoom = [];
        this.emit('waitingRoomChanged', []);
      }
    }
    if (this.#ended) return;
    this.#log.info('joined afresh after reconnecting', { admission: joined.admission, wasAdmitted });
    this.#reconnected(false, joined.tokenExpiresIn);
  }

  /** Before a fresh session: what belonged to the old one on the server is gone. */
  #teardownSession(): void {
    for (const participant of this.#remote.values()) {
      for (const track of [...participant.tracks.values()]) this.#unsubscribe(participant, track, false);
    }
    this.#setActiveSpeaker(null, true);
    this.#media?.close();
    this.#media = undefined;
  }

  #reconnected(resumed: boolean, tokenExpiresIn: number): void {
    this.#setState('connected');
    this.#startTokenRefresh(tokenExpiresIn);
    this.#log.info('reconnected', { resumed });
    this.emit('reconnected', resumed);
    this.#releaseNotifications();
  }

  #holdNotifications(): void {
    if (this.#openGate) return;
    this.#gate = new Promise<void>((resolve) => {
      this.#openGate = resolve;
    });
  }

  #releaseNotifications(): void {
    const open = this.#openGate;
    this.#openGate = undefined;
    open?.();
  }

  /** Ends the session once: unsubscribes and unpublishes everything, then emits `disconnected`. */
  #finish(reason: DisconnectReason, error?: HuizhenError): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#markReady();
    this.#refresher?.stop();
    this.#wake?.();
    this.#log.info('disconnected', { reason, ...(error ? { code: error.code } : {}) });
    for (const participant of this.#remote.values()) {
      for (const track of [...participant.tracks.values()]) this.#unsubscribe(participant, track, false);
    }
    this.#remote.clear();
    this.localParticipant._unpublishAll();
    this.#setActiveSpeaker(null, false);
    this.records._reset();
    this.#releaseMedia();
    this.#setState('disconnected');
    // Let anything queued drain (it is skipped now that the room has ended).
    this.#releaseNotifications();
    this.emit('disconnected', reason, error);
  }

  #releaseMedia(): void {
    this.#media?.close();
    this.#signal?.close(1000, 'client left');
  }

  // --- notifications ------------------------------------------------------------------------

  #onNotification(message: AnyNotification): void {
    if (message.notification === 'sessionClosed') {
      // Recorded now, not queued: the socket closes right after and the close handler needs it.
      this.#sessionClosed = message.data;
      if (message.data.summary) this.#endSummary = message.data.summary;
      this.#log.info('session closed by server', { code: message.data.code });
      return;
    }
    const epoch = this.#epoch;
    this.#queue = this.#queue
      .then(() => this.#ready)
      // Read at each step: a reconnect that started meanwhile holds the rest back.
      .then(() => this.#gate)
      .then(async () => {
        if (!this.#ended && epoch === this.#epoch) await this.#handle(message);
      })
      .catch((error: unknown) =>
        this.#log.warn('notification handling failed', { notification: message.notification, ...errorFields(error) }),
      );
  }

  async #handle(message: AnyNotification): Promise<void> {
    if (isRecordNotification(message)) {
      this.records._handle(message);
      return;
    }
    switch (message.notification) {
      case 'participantJoined':
        return this.#onParticipantJoined(message.data.participant);
      case 'participantLeft':
        return this.#onParticipantLeft(message.data.identity, message.data.reason);
      case 'participantReconnecting':
        return this.#onParticipantReconnecting(message.data.identity, true);
      case 'participantReconnected':
        return this.#onParticipantReconnecting(message.data.identity, false);
      case 'consumerCreated':
        return this.#onConsumerCreated(message.data);
      case 'consumerClosed':
        return this.#onConsumerClosed(message.data);
      case 'trackMuted':
        return this.#onTrackMuted(message.data.participantIdentity, message.data.trackId, true);
      case 'trackUnmuted':
        return this.#onTrackMuted(message.data.participantIdentity, message.data.trackId, false);
      case 'consumerLayersChanged':
        return this.#onLayersChanged(message.data);
      case 'admitted':
        return this.#onAdmitted(message.data);
      case 'roomUpdated':
        this.#info = message.data.room;
        this.#kind = message.data.room.kind;
        this.emit('roomUpdated', message.data.room);
        return;
      case 'waitingRoomChanged':
        this.#waitingRoom = message.data.waiting;
        this.emit('waitingRoomChanged', [...message.data.waiting]);
        return;
      case 'chat':
        return this.#addChat(message.data.message);
      case 'opinionUpdated':
        this.emit('opinionUpdated', message.data.opinion);
        return;
      case 'mutedByHost':
        return this.#onMutedByHost(message.data);
      case 'activeSpeakerChanged': {
        const identity = message.data.identity;
        return this.#setActiveSpeaker(identity === null ? null : (this.getParticipant(identity) ?? null), true);
      }
      default:
        this.#log.debug('ignoring notification', { notification: (message as { notification: string }).notification });
    }
  }

  async #onAdmitted(view: RoomView): Promise<void> {
    if (this.#admission === 'admitted') return;
    try {
      await this.#enterRoom(view, 'admitted');
    } catch (error) {
      const failure = error instanceof HuizhenError ? error : this.#mediaSetupError(error);
      this.#log.warn('could not enter the room after admission', errorFields(failure));
      // Tell the server, so clinicians do not wait for someone who cannot take part.
      await this.#signal?.request('leave', {}, { timeoutMs: LEAVE_TIMEOUT_MS }).catch(() => undefined);
      this.#finish(DisconnectReason.MediaSetupFailed, failure);
      return;
    }
    this.#log.info('admitted');
    this.emit('admitted');
  }

  #onMutedByHost(data: NotificationData['mutedByHost']): void {
    const track = this.localParticipant.tracks.get(data.trackId);
    if (!track) return;
    track._mutedByHost({ by: data.by, allowUnmute: data.allowUnmute });
    this.emit('mutedByHost', track, data.by, data.allowUnmute);
  }

  #onParticipantJoined(info: ParticipantInfo): void {
    if (info.identity === this.localParticipant.identity) return;
    const existing = this.#remote.get(info.identity);
    // Already known from a reconnect's room view, and this is the replay of the same join.
    if (existing && existing.joinedAt === info.joinedAt) return;
    // The same identity rejoining (e.g. from a new device) replaces the old entry.
    if (existing) this.#onParticipantLeft(info.identity, 'disconnected');
    const participant = new RemoteParticipant(info);
    this.#remote.set(info.identity, participant);
    this.#log.debug('participant joined', { identity: info.identity });
    this.emit('participantJoined', participant);
  }

  #onParticipantLeft(identity: string, reason: NotificationData['participantLeft']['reason']): void {
    const participant = this.#remote.get(identity);
    if (!participant) return;
    for (const track of [...participant.tracks.values()]) this.#unsubscribe(participant, track, true);
    this.#remote.delete(identity);
    if (this.#activeSpeaker === participant) this.#setActiveSpeaker(null, true);
    this.#log.debug('participant left', { identity, reason });
    this.emit('participantLeft', participant, reason);
  }

  #onParticipantReconnecting(identity: string, reconnecting: boolean): void {
    const participant = this.#remote.get(identity);
    if (!participant?._setReconnecting(reconnecting)) return;
    this.emit(reconnecting ? 'participantReconnecting' : 'participantReconnected', participant);
  }

  async #onConsumerCreated(data: NotificationData['consumerCreated']): Promise<void> {
    const epoch = this.#epoch;
    const participant = this.#remote.get(data.participantIdentity);
    const media = this.#media;
    const signal = this.#signal;
    if (!participant || !media || !signal) {
      this.#log.warn('track offered for an unknown participant', {
        identity: data.participantIdentity,
        trackId: data.trackId,
      });
      return;
    }
    // Replayed after a reconnect, for a track already received.
    if (participant.getTrackByConsumerId(data.consumerId)) return;
    const log = this.#log.child({
      identity: data.participantIdentity,
      trackId: data.trackId,
      consumerId: data.consumerId,
    });
    let consumer;
    try {
      consumer = await media.consume({
        consumerId: data.consumerId,
        trackId: data.trackId,
        kind: data.kind,
        rtpParameters: data.rtpParameters,
      });
    } catch (error) {
      log.warn('could not receive track', errorFields(error));
      this.emit(
        'trackSubscriptionFailed',
        data.trackId,
        participant,
        error instanceof Error ? error : new Error(String(error)),
      );
      return;
    }
    const autoSubscribe = this.#options.autoSubscribe !== false;
    if (autoSubscribe) {
      for (let attempt = 0; ; attempt++) {
        try {
          await signal.request('resumeConsumer', { consumerId: data.consumerId });
          break;
        } catch (error) {
          // The connection dropped mid-way; the server keeps the consumer, so try again once resumed.
          if (attempt === 0 && error instanceof ConnectionError && this.#state === 'reconnecting') {
            await this.#gate;
            if (!this.#ended && epoch === this.#epoch) continue;
          }
          consumer.close();
          if (this.#ended || epoch !== this.#epoch) return;
          log.warn('could not resume track', errorFields(error));
          this.emit('trackSubscriptionFailed', data.trackId, participant, error as Error);
          return;
        }
      }
    } else {
      consumer.pause();
    }
    if (this.#ended || epoch !== this.#epoch || this.#remote.get(participant.identity) !== participant) {
      consumer.close();
      return;
    }
    const previous = participant.tracks.get(data.trackId);
    if (previous) this.#unsubscribe(participant, previous, false);

    const track = new RemoteTrack({
      consumer,
      trackId: data.trackId,
      source: data.source,
      participantIdentity: participant.identity,
      muted: data.producerPaused,
      signal,
      logger: log,
      resumed: autoSubscribe,
      videoSize:
        this.#options.videoSizeDebounceMs === undefined ? undefined : { debounceMs: this.#options.videoSizeDebounceMs },
    });
    track.on('playbackBlocked', (element) => this.emit('mediaPlaybackBlocked', track, element));
    participant._addTrack(track);
    log.debug('track subscribed', { kind: track.kind, source: track.source });
    this.emit('trackSubscribed', track, participant);
  }

  #onConsumerClosed(data: NotificationData['consumerClosed']): void {
    const participant = this.#remote.get(data.participantIdentity);
    const track = participant?.getTrackByConsumerId(data.consumerId);
    if (!participant || !track) return;
    this.#unsubscribe(participant, track, true);
  }

  #unsubscribe(participant: RemoteParticipant, track: RemoteTrack, unpublished: boolean): void {
    participant._removeTrack(track, unpublished);
    this.emit('trackUnsubscribed', track, participant);
    track._end();
  }

  #onTrackMuted(identity: string, trackId: string, muted: boolean): void {
    const participant = this.#remote.get(identity);
    if (!participant) return;
    const track = participant._setTrackMuted(trackId, muted);
    if (track) this.emit(muted ? 'trackMuted' : 'trackUnmuted', track, participant);
  }

  #onLayersChanged(data: NotificationData['consumerLayersChanged']): void {
    for (const participant of this.#remote.values()) {
      const track = participant.getTrackByConsumerId(data.consumerId);
      if (track) {
        track._setLayers({ spatialLayer: data.spatialLayer, temporalLayer: data.temporalLayer });
        return;
      }
    }
  }

  #setActiveSpeaker(speaker: Participant | null, emit: boolean): void {
    if (this.#activeSpeaker === speaker) return;
    this.#activeSpeaker?._setSpeaking(false);
    this.#activeSpeaker = speaker;
    speaker?._setSpeaking(true);
    if (emit) this.emit('activeSpeakerChanged', speaker);
  }
}
