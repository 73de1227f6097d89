/**
 * Over 400 lines on purpose: this is the app-facing facade (every public getter and method, with its docs);
 * the connection lives in engine/, remote participants and tracks in ParticipantRoster.ts.
 *
 * A joined consult room, the model the application sees: the participants,
 * the consult workflow (waiting room, host controls, chat, opinions), and
 * turning server notifications into tracks and events. The connection itself
 * (join, reconnect, token refresh, notification order) is the RoomEngine's
 * (engine/RoomEngine.ts); shared records live in `room.records` (RoomRecords.ts).
 */
import { ConnectionError, ConnectionErrorReason, DisconnectReason, ErrorCode, HuizhenError } from './errors.js';
import type { Device } from 'mediasoup-client/types';
import { ChatLog } from './ChatLog.js';
import { RoomData } from './data/RoomData.js';
import type { EngineEvents } from './engine/EngineEvents.js';
import { RoomEngine } from './engine/RoomEngine.js';
import { mediaSetupError } from './engine/failures.js';
import type { ConnectionState, Participant, RoomEventCallbacks } from './events.js';
import { LocalParticipant } from './LocalParticipant.js';
import { errorFields, type Logger } from './logger.js';
import { IceServerManager } from './IceServerManager.js';
import { MediaSession } from './MediaSession.js';
import type { ConnectOptions } from './options.js';
import type {
  ChatMessage,
  ConsultSummary,
  Method,
  NotificationData,
  Opinion,
  Permission,
  RequestData,
  ResponseData,
  RoomInfo,
  RoomKind,
  RoomView,
  TrackSource,
  WaitingEntry,
} from '@huizhen/protocol';
import { defaultFetch } from './recordsHttp.js';
import type { RemoteParticipant } from './RemoteParticipant.js';
import { ParticipantRoster } from './ParticipantRoster.js';
import { RoomRecords, isRecordNotification } from './RoomRecords.js';
import type { AnyNotification } from './SignalClient.js';
import { TypedEmitter, VITALS_TOPIC } from '@huizhen/protocol';
import { QualityReporter } from './QualityReporter.js';
import { RoomVitals } from './vitals/RoomVitals.js';
import { RoomRecording } from './recording/RoomRecording.js';
// --- evaluation
import type { EvaluationInput, StoredEvaluation } from '@huizhen/protocol';
import { submitEvaluation } from './evaluation/submitEvaluation.js';
// --- subscribe with replay
import { replay, type ListenOptions } from './replay.js';

/** 'waiting': in the lobby until a clinician admits this participant. */
export type Admission = 'admitted' | 'waiting';

/** Permission names the server grants (see `room.permissions`); defined by the protocol. */
export type { Permission };

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
  /** App data over the room's data channels: `publish(topic, payload)` and the `dataReceived` event. */
  readonly data: RoomData;
  /** Wearable vitals: connect a device and publish (patients), live readings and alerts (clinicians). */
  readonly vitals: RoomVitals<RemoteParticipant>;
  // --- recording
  /** Recording the consult with everyone's consent: `request()`, `consent(agree)`, `stop()`, `state`. */
  readonly recording: RoomRecording;
  readonly #options: ConnectOptions;
  readonly #engine: RoomEngine;
  readonly #roster: ParticipantRoster;
  readonly #chat = new ChatLog();
  #admission: Admission = 'waiting';
  #info: RoomInfo | undefined;
  #kind: RoomKind | undefined;
  #name = '';
  #permissions: ReadonlySet<Permission> = new Set();
  #waitingRoom: WaitingEntry[] = [];
  #device: Device | undefined;
  #media: MediaSession | undefined;
  #endSummary: ConsultSummary | undefined;
  /** Admitted while the connection was down: `admitted` follows `reconnected`. */
  #admittedWhileAway = false;
  // --- evaluation: set when the server ended the session because the consult ended
  #consultEnded = false;
  // --- TURN
  readonly #iceServers: IceServerManager;
  /** This browser's stats summary for the server's quality verdict (connection quality). */
  readonly #qualityReporter = new QualityReporter({
    media: () => (this.#engine.state === 'connected' ? this.#media : undefined),
    send: (report) => this.#engine.request('reportQuality', report),
    log: () => this.#log,
  });

  constructor(options: ConnectOptions = {}) {
    super();
    this.#options = { ...options };
    this.#engine = new RoomEngine(this.#options, this.#engineEvents());
    this.#iceServers = new IceServerManager({
      ...(this.#options.iceServers ? { appServers: this.#options.iceServers } : {}),
      fetch: () => this.#request('getIceServers', {}),
      onChange: (servers) => void this.#media?.updateIceServers(servers),
      logger: () => this.#log,
    });
    this.#roster = new ParticipantRoster({
      engine: this.#engine,
      options: this.#options,
      emit: (event, ...args) => void this.emit(event, ...args),
      localIdentity: () => this.localParticipant.identity,
      local: (identity) =>
        identity && identity === this.localParticipant.identity ? this.localParticipant : undefined,
      media: () => this.#media,
      log: () => this.#log,
    });
    this.localParticipant = new LocalParticipant({
      session: () => this.#liveSession(),
      isReconnecting: () => this.#engine.state === 'reconnecting',
      logger: () => this.#log,
      onTrackPublished: (track) => this.emit('localTrackPublished', track, this.localParticipant),
      onTrackUnpublished: (track) => this.emit('localTrackUnpublished', track, this.localParticipant),
    });
    // --- data channels
    this.data = new RoomData({
      session: () => this.#liveSession(),
      request: (method, data) => this.#request(method, data),
      can: (permission) => this.can(permission),
      localIdentity: () => this.localParticipant.identity,
      participant: (identity) => this.#roster.remote.get(identity),
      emitReceived: (m) => void this.emit('dataReceived', m.payload, m.participant, m.topic, m),
      emitRefused: (topic, error) => void this.emit('dataRefused', topic, error),
      logger: () => this.#log,
    });
    this.records = new RoomRecords({
      request: (method, data) => this.#request(method, data),
      emit: (event, ...args) => void this.emit(event, ...args),
      identity: () => this.localParticipant.identity,
      http: () => {
        // Uploads and downloads do not need the socket, so they work while reconnecting too.
        const state = this.#engine.state;
        if (state !== 'connected' && state !== 'reconnecting') {
          throw new HuizhenError(ErrorCode.NOT_JOINED, 'The room is not connected');
        }
        return {
          baseUrl: this.#engine.httpBase,
          room: this.#name,
          token: this.#engine.token,
          fetch: this.#options.fetch ?? defaultFetch(),
        };
      },
      logger: () => this.#log,
    });
    // --- vitals: on room.data (topic `vitals`), whose inbound messages go to vitals.handleData only
    this.vitals = new RoomVitals<RemoteParticipant>({
      data: () => this.data,
      localIdentity: () => this.localParticipant.identity,
      participant: (identity) => this.#roster.remote.get(identity),
      emit: (event, ...args) => void this.emit(event, ...args),
      logger: () => this.#log,
    });
    this.data.handleTopic(VITALS_TOPIC, (m) => {
      if (m.participant) this.vitals.handleData(m.payload, m.participant);
    });
    // --- recording
    this.recording = new RoomRecording({
      request: (method, data) => this.#request(method, data),
      emitChanged: (status, consentRequested) => void this.emit('recordingStateChanged', status, consentRequested),
      identity: () => this.localParticipant.identity,
    });
  }

  get #log(): Logger {
    return this.#engine.log;
  }

  /** The live, admitted session (media and signaling), or the typed error that says why there is none. */
  #liveSession(): { media: MediaSession; signal: NonNullable<RoomEngine['signal']> } {
    const state = this.#engine.state;
    const signal = this.#engine.signal;
    if (state === 'reconnecting') {
      throw new ConnectionError(
        ConnectionErrorReason.ConnectionLost,
        'Reconnecting to the server; try again after the reconnected event',
      );
    }
    if (state !== 'connected' || !signal) {
      throw new HuizhenError(ErrorCode.NOT_JOINED, 'The room is not connected');
    }
    if (this.#admission !== 'admitted' || !this.#media) {
      throw new HuizhenError(
        ErrorCode.NOT_ADMITTED,
        'Waiting for a clinician to admit you; publish after the admitted event',
      );
    }
    return { media: this.#media, signal };
  }

  // --- subscribe with replay

  /**
   * Calls `listener` every time `event` is emitted. With `{ replay: true }` it
   * is also called at once with what already holds (`trackSubscribed` for each
   * track received, `participantJoined` for each participant, the lobby), so a
   * listener added after `connect()` resolved misses nothing.
   */
  override on<E extends keyof RoomEventCallbacks>(
    event: E,
    listener: RoomEventCallbacks[E],
    options?: ListenOptions,
  ): this {
    super.on(event, listener);
    if (options?.replay === true) replay(this, event, listener);
    return this;
  }

  /**
   * Like `on`, but returns the function that removes the listener again, the
   * shape `useSyncExternalStore` and other store subscriptions expect. With
   * `{ replay: true }` the listener is first called, synchronously and before
   * `subscribe` returns, for the state that already holds (see `ListenOptions`),
   * then for every later event; nothing can fall between the two.
   *
   * ```ts
   * const stop = room.subscribe(RoomEvent.TrackSubscribed, (track, who) => show(track, who), { replay: true });
   * // later
   * stop();
   * ```
   */
  subscribe<E extends keyof RoomEventCallbacks>(
    event: E,
    listener: RoomEventCallbacks[E],
    options?: ListenOptions,
  ): () => void {
    // A wrapper of its own: the same function subscribed twice is removed once per call.
    const registered = ((...args: Parameters<RoomEventCallbacks[E]>) =>
      (listener as (...a: Parameters<RoomEventCallbacks[E]>) => void)(...args)) as RoomEventCallbacks[E];
    try {
      this.on(event, registered, options);
    } catch (error) {
      // A listener that throws while replaying must not stay attached with no way to remove it.
      this.off(event, registered);
      throw error;
    }
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      this.off(event, registered);
    };
  }

  /**
   * Calls `listener` for every remote track this client receives: first, at
   * once, for each track already received, then for each new one. Returns the
   * function that stops it. Shorthand for
   * `subscribe('trackSubscribed', listener, { replay: true })`.
   */
  onTrack(listener: RoomEventCallbacks['trackSubscribed']): () => void {
    return this.subscribe('trackSubscribed', listener, { replay: true });
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
  get permissions(): ReadonlySet<Permission> {
    return this.#permissions;
  }

  /** Whether the server grants this participant `permission` (e.g. 'admit', 'shareRecords'). */
  can(permission: Permission): boolean {
    return this.#permissions.has(permission);
  }

  /** This connection's session id on the server (empty until connected; kept across a resumed reconnect). */
  get sessionId(): string {
    return this.#engine.sessionId;
  }

  /** The signaling connection: connecting, connected, reconnecting or disconnected. */
  get state(): ConnectionState {
    return this.#engine.state;
  }

  /** Everyone else in the room, by identity. */
  get remoteParticipants(): ReadonlyMap<string, RemoteParticipant> {
    return this.#roster.remote;
  }

  /**
   * A snapshot of everyone in the room, this client first, then the others in
   * the order they were seen. A new array on every read; for a live view,
   * combine it with `subscribe(..., { replay: true })`.
   */
  get participants(): Participant[] {
    return [this.localParticipant, ...this.#roster.remote.values()];
  }

  /** The participant currently speaking loudest, if any. */
  get activeSpeaker(): Participant | null {
    return this.#roster.activeSpeaker;
  }

  /** When the current token expires (ms since the epoch, local clock); without a refresh the server then ends the session. */
  get tokenExpiresAt(): number | undefined {
    return this.#engine.tokenExpiresAt;
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
    return this.#roster.get(identity);
  }

  // --- connecting and leaving ---------------------------------------------------

  /**
   * Connects to `serverUrl` (the server's http(s) origin) with a join token.
   * Resolves once joined and ready to publish; remote tracks then arrive as
   * `trackSubscribed` events. Rejects with a ConnectionError whose `code` says
   * why (TOKEN_EXPIRED, TOKEN_INVALID, ROOM_NOT_FOUND, CONNECTION_FAILED, ...).
   */
  connect(serverUrl: string, token: string): Promise<void> {
    return this.#engine.connect(serverUrl, token);
  }

  /**
   * Leaves the room: tells the server, stops published tracks the SDK opened,
   * and emits `disconnected` with reason `clientInitiated`. While connecting,
   * cancels the attempt instead (connect() rejects with reason `cancelled`);
   * while reconnecting, stops trying.
   */
  disconnect(): Promise<void> {
    return this.#engine.disconnect();
  }

  /**
   * Starts playback of every attached remote track. Browsers may block
   * autoplay with sound until the user interacts with the page; call this from
   * a click handler after a `mediaPlaybackBlocked` event.
   */
  async startMedia(): Promise<void> {
    await Promise.all(this.#roster.tracks().map((t) => t.play()));
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

  // --- evaluation --------------------------------------------------------------------

  /**
   * Rates the consult once it has ended (after `disconnected` with reason
   * `roomEnded`): patients and family, once each, within the server's
   * window. Sent over HTTP to this room's server with the current token (a
   * fresh one from `tokenProvider` if it has expired). See `submitEvaluation`.
   *
   * @throws HuizhenError INVALID_STATE (the consult has not ended), INVALID_REQUEST,
   *   ALREADY_EVALUATED, EVALUATION_CLOSED, PERMISSION_DENIED, ...
   */
  async submitEvaluation(evaluation: EvaluationInput): Promise<StoredEvaluation> {
    if (!this.#name) throw new HuizhenError(ErrorCode.NOT_JOINED, 'This room never joined a consult');
    if (!this.#consultEnded && this.#info?.state !== 'ended')
      throw new HuizhenError(ErrorCode.INVALID_STATE, 'The consult has not ended yet; evaluate it once it has');
    const provider = this.#options.tokenProvider;
    const expired = (this.#engine.tokenExpiresAt ?? Infinity) <= Date.now() + 5000;
    const token = expired && provider ? await provider() : this.#engine.token;
    return submitEvaluation(this.#engine.httpBase, token, this.#name, evaluation, {
      ...(this.#options.fetch ? { fetch: this.#options.fetch } : {}),
    });
  }

  /** A request on the live session, with a clear error while there is none. */
  #request<M extends Method>(method: M, data: RequestData<M>): Promise<ResponseData[M]> {
    return this.#engine.request(method, data);
  }

  #addChat(message: ChatMessage): void {
    if (this.#chat.add(message)) this.emit('chat', message);
  }

  // --- what the engine tells the room ---------------------------------------------------

  #engineEvents(): EngineEvents {
    return {
      prepare: async () => {
        try {
          this.#device = await MediaSession.createDevice(this.#options.mediasoupDevice);
        } catch (error) {
          throw mediaSetupError(error);
        }
      },
      joined: async (joined) => {
        this.#applyJoin(joined);
        this.#iceServers.apply(joined);
        if (joined.admission === 'admitted') await this.#enterRoom(joined, 'join');
      },
      resumed: (joined) => {
        this.#iceServers.apply(joined);
        return this.#resumeSession(joined);
      },
      sessionReplaced: () => this.#teardownSession(),
      rejoined: (joined) => {
        this.#iceServers.apply(joined);
        return this.#startFreshSession(joined);
      },
      iceServersRefreshed: (refreshed) => this.#iceServers.apply(refreshed),
      notification: (message) => this.#handle(message),
      sessionClosed: (data) => {
        if (data.summary) this.#endSummary = data.summary;
      },
      stateChanged: (state) => void this.emit('connectionStateChanged', state),
      reconnecting: (error) => {
        this.#iceServers.pause();
        this.emit('reconnecting', error);
      },
      reconnected: (resumed) => {
        this.emit('reconnected', resumed);
        if (this.#admittedWhileAway) {
          this.#admittedWhileAway = false;
          this.emit('admitted');
        }
      },
      teardown: (connectFailed) => (connectFailed ? this.#dropAfterFailedConnect() : this.#dropEverything()),
      disconnected: (reason, error) => {
        // --- evaluation
        if (reason === DisconnectReason.RoomEnded) this.#consultEnded = true;
        this.#iceServers.stop();
        this.emit('disconnected', reason, error);
      },
      mediaAlive: () => this.#media?.connected ?? false,
    };
  }

  // --- joining -----------------------------------------------------------------------

  /** The room's part of a join answer (the engine keeps the session id and token expiry). */
  #applyJoin(joined: ResponseData['join']): void {
    this.#name = joined.room.id;
    this.#kind = joined.room.kind;
    this.#permissions = new Set(joined.permissions);
    this.localParticipant._setInfo(joined.participant);
  }

  /**
   * Takes in what an admitted participant sees (at join, when admitted from
   * the lobby, or after a fresh rejoin) and sets up media. Throws a
   * ConnectionError if media fails.
   */
  async #enterRoom(view: RoomView, mode: 'join' | 'admitted' | 'rejoin'): Promise<void> {
    const signal = this.#engine.signal;
    if (!signal || !this.#device)
      throw new HuizhenError(ErrorCode.INVALID_STATE, 'Entering a room without a connection');
    this.#syncView(view, mode === 'rejoin');
    if (mode === 'rejoin') {
      this.#roster.reconcile(view);
    } else {
      this.#roster.addFromView(view);
    }
    try {
      // A device is loaded once; a fresh session (perhaps on a restarted server) gets a new one.
      if (this.#device.loaded) this.#device = await MediaSession.createDevice(this.#options.mediasoupDevice);
      this.#media = await MediaSession.create({
        signal,
        device: this.#device,
        routerRtpCapabilities: view.routerRtpCapabilities,
        logger: this.#log,
        iceServers: this.#iceServers.servers,
        ...(this.#options.iceTransportPolicy ? { iceTransportPolicy: this.#options.iceTransportPolicy } : {}),
        onIceServerError: (error) => void this.emit('iceServerError', error),
        onConnectionStateChange: (direction, state) => this.emit('mediaConnectionStateChanged', direction, state),
      });
    } catch (error) {
      throw mediaSetupError(error);
    }
    // --- data channels (never fails the join: without them room.data only receives nothing)
    await this.data._attach(this.#media, signal);
    this.#admission = 'admitted';
    this.#qualityReporter.start();
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
    // --- recording
    this.recording._applyView(view.recording, emit);
  }

  // --- after a reconnect ---------------------------------------------------------------

  /** The same session goes on: catch up on what changed and restart ICE. */
  async #resumeSession(joined: ResponseData['join']): Promise<void> {
    const wasAdmitted = this.#admission === 'admitted';
    this.#applyJoin(joined);
    if (joined.admission !== 'admitted') return;
    const media = this.#media;
    if (media && joined.mediaMoved) {
      // Resumed at a node of the cluster that does not hold this session's media (its node died, or the
      // room was rebuilt on a new home): the same session, nobody saw a leave, but the media starts over.
      this.#teardownSession();
      await this.#enterRoom(joined, 'rejoin');
      if (this.#media) await this.localParticipant._republishAll(this.#media);
    } else if (!media && !wasAdmitted) {
      // Admitted while away: enter now, as the admitted notification would have.
      await this.#enterRoom(joined, 'admitted');
      this.#admittedWhileAway = true;
    } else if (!media) {
      // A fresh join whose media setup was cut off by another drop: finish setting it up.
      await this.#enterRoom(joined, 'rejoin');
      if (this.#media) await this.localParticipant._republishAll(this.#media);
    } else {
      this.#syncView(joined, true);
      this.#roster.reconcile(joined);
      // The network may have changed under the media too.
      await media.restartIce();
      const signal = this.#engine.signal;
      if (signal) await this.localParticipant._syncAfterResume(media, signal, joined.participant.tracks);
    }
  }

  /** A fresh session after a drop: bring back what this client had, or go back to the lobby. */
  async #startFreshSession(joined: ResponseData['join']): Promise<void> {
    const wasAdmitted = this.#admission === 'admitted';
    this.#applyJoin(joined);
    if (joined.admission === 'admitted') {
      await this.#enterRoom(joined, 'rejoin');
      if (this.#media) await this.localParticipant._republishAll(this.#media);
    } else {
      // Back in the lobby: nobody to see, nothing may be published until admitted again.
      this.#admission = 'waiting';
      this.#roster.leaveAll();
      this.localParticipant._unpublishAll();
      this.records._applyShare(undefined, true);
      // --- recording: the lobby is told nothing of the room
      this.recording._applyView(undefined, true);
      this.#info = undefined;
      if (this.#waitingRoom.length > 0) {
        this.#waitingRoom = [];
        this.emit('waitingRoomChanged', []);
      }
    }
    this.#log.debug('fresh session after reconnecting', { admission: joined.admission, wasAdmitted });
  }

  /** Before a fresh session: what belonged to the old one on the server is gone. */
  #teardownSession(): void {
    this.#roster.unsubscribeAll();
    this.#roster.setActiveSpeaker(null, true);
    this.data._detach();
    this.#media?.close();
    this.#media = undefined;
  }

  /** The session is over: unsubscribe and unpublish everything, close media. */
  #dropEverything(): void {
    this.#qualityReporter.stop();
    this.#roster.unsubscribeAll();
    this.#roster.clear();
    this.localParticipant._unpublishAll();
    this.#roster.setActiveSpeaker(null, false);
    this.records._reset();
    this.data._reset();
    this.vitals.reset();
    // --- recording
    this.recording._reset();
    this.#media?.close();
  }

  /** connect() failed: nothing was published or subscribed yet. */
  #dropAfterFailedConnect(): void {
    this.data._reset();
    this.#qualityReporter.stop();
    this.#media?.close();
    this.#roster.clear();
  }

  // --- notifications ------------------------------------------------------------------------

  async #handle(message: AnyNotification): Promise<void> {
    if (isRecordNotification(message)) {
      this.records._handle(message);
      return;
    }
    switch (message.notification) {
      // --- vitals
      case 'vitalsAlert':
        return this.vitals.handleAlert(message.data);
      case 'participantJoined':
        return this.#roster.joined(message.data.participant);
      case 'participantLeft':
        return this.#roster.left(message.data.identity, message.data.reason);
      case 'participantReconnecting':
        return this.#roster.reconnecting(message.data.identity, true);
      case 'participantReconnected':
        return this.#roster.reconnecting(message.data.identity, false);
      case 'consumerCreated':
        return this.#roster.consumerCreated(message.data);
      case 'consumerClosed':
        return this.#roster.consumerClosed(message.data);
      case 'trackMuted':
        return this.#roster.trackMuted(message.data.participantIdentity, message.data.trackId, true);
      case 'trackUnmuted':
        return this.#roster.trackMuted(message.data.participantIdentity, message.data.trackId, false);
      case 'consumerLayersChanged':
        return this.#roster.layersChanged(message.data);
      case 'admitted':
        this.#iceServers.apply(message.data);
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
      // --- data channels
      case 'dataRefused':
        return this.data._refused(message.data);
      case 'dataConsumerClosed':
        return this.data._consumerClosed(message.data.dataConsumerId);
      case 'activeSpeakerChanged': {
        const identity = message.data.identity;
        return this.#roster.setActiveSpeaker(identity === null ? null : (this.getParticipant(identity) ?? null), true);
      }
      // --- recording
      case 'recordingStateChanged':
        return this.recording._handle(message.data);
      // --- connection quality
      case 'connectionQualityChanged':
        return this.#onConnectionQuality(message.data);
      case 'audioOnlyChanged':
        return this.#onAudioOnly(message.data);
      default:
        this.#log.debug('ignoring notification', { notification: (message as { notification: string }).notification });
    }
  }

  async #onAdmitted(view: RoomView): Promise<void> {
    if (this.#admission === 'admitted') return;
    try {
      await this.#enterRoom(view, 'admitted');
    } catch (error) {
      const failure = error instanceof HuizhenError ? error : mediaSetupError(error);
      this.#log.warn('could not enter the room after admission', errorFields(failure));
      await this.#engine.abandon(DisconnectReason.MediaSetupFailed, failure);
      return;
    }
    this.#log.info('admitted');
    this.emit('admitted');
  }

  // --- connection quality ---------------------------------------------------------------

  #onConnectionQuality(data: NotificationData['connectionQualityChanged']): void {
    const participant = this.getParticipant(data.identity);
    if (participant?._setConnectionQuality(data.quality))
      this.emit('connectionQualityChanged', data.quality, participant);
  }

  #onAudioOnly(data: NotificationData['audioOnlyChanged']): void {
    const participant = this.getParticipant(data.identity);
    const direction = data.direction ?? 'downlink';
    if (participant?._setAudioOnly(direction, data.audioOnly))
      this.emit('audioOnlyChanged', participant, data.audioOnly, direction);
  }

  #onMutedByHost(data: NotificationData['mutedByHost']): void {
    const track = this.localParticipant.tracks.get(data.trackId);
    if (!track) return;
    track._mutedByHost({ by: data.by, allowUnmute: data.allowUnmute });
    this.emit('mutedByHost', track, data.by, data.allowUnmute);
  }
}
