/**
 * A joined consult room: connection lifecycle, the participants, and turning
 * server notifications into tracks and events.
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
} from './errors.js';
import type { Device } from 'mediasoup-client/types';
import type { ConnectionState, Participant, RoomEventCallbacks } from './events.js';
import { LocalParticipant } from './LocalParticipant.js';
import { createLogger, errorFields, type Logger } from './logger.js';
import { MediaSession } from './MediaSession.js';
import type { ConnectOptions } from './options.js';
import {
  PROTOCOL_VERSION,
  type NotificationData,
  type ParticipantInfo,
  type ResponseData,
  type RoomInfo,
  type RoomView,
} from './protocol/messages.js';
import { RemoteParticipant } from './RemoteParticipant.js';
import { SignalClient, type AnyNotification, type SignalCloseInfo } from './SignalClient.js';
import { RemoteTrack } from './tracks.js';
import { TypedEmitter } from './TypedEmitter.js';
import { toSignalUrl } from './url.js';

/** How long `disconnect()` waits for the server to acknowledge `leave`. */
const LEAVE_TIMEOUT_MS = 1500;

/** 'waiting': in the lobby until a clinician admits this participant. */
export type Admission = 'admitted' | 'waiting';

/**
 * A consult room. Get one with `connect(serverUrl, token)`; or create it with
 * `new Room(options)`, register listeners, then call `room.connect(...)`.
 */
export class Room extends TypedEmitter<RoomEventCallbacks> {
  /** This client's participant. */
  readonly localParticipant: LocalParticipant;
  readonly #options: ConnectOptions;
  readonly #remote = new Map<string, RemoteParticipant>();
  #log: Logger;
  #state: ConnectionState = 'disconnected';
  #admission: Admission = 'waiting';
  #info: RoomInfo | undefined;
  #name = '';
  #sessionId = '';
  #tokenExpiresAt: number | undefined;
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
  /** Notifications are handled one at a time, in arrival order. */
  #queue: Promise<void> = Promise.resolve();
  readonly #ready: Promise<void>;
  #markReady!: () => void;

  constructor(options: ConnectOptions = {}) {
    super();
    this.#options = { ...options };
    this.#log = createLogger(options.logLevel ?? 'silent', {}, options.logSink);
    this.#ready = new Promise<void>((resolve) => {
      this.#markReady = resolve;
    });
    this.localParticipant = new LocalParticipant({
      session: () => {
        if (this.#state !== 'connected' || !this.#signal) {
          throw new HuizhenError(ErrorCode.NOT_JOINED, 'The room is not connected');
        }
        if (this.#admission !== 'admitted' || !this.#media) {
          throw new HuizhenError(ErrorCode.NOT_ADMITTED, 'Waiting for a clinician to admit you; publish after the admitted event');
        }
        return { media: this.#media, signal: this.#signal };
      },
      logger: () => this.#log,
      onTrackPublished: (track) => this.emit('localTrackPublished', track, this.localParticipant),
      onTrackUnpublished: (track) => this.emit('localTrackUnpublished', track, this.localParticipant),
    });
  }

  /** The room's id on the server (empty until connected). */
  get name(): string {
    return this.#name;
  }

  /** The room's kind, state, lock and host, once admitted; kept current by `roomUpdated`. */
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

  /** This connection's session id on the server (empty until connected). */
  get sessionId(): string {
    return this.#sessionId;
  }

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

  /** When the join token expires (ms since the epoch, local clock); the server then ends the session. */
  get tokenExpiresAt(): number | undefined {
    return this.#tokenExpiresAt;
  }

  /** The local or a remote participant with this identity. */
  getParticipant(identity: string): Participant | undefined {
    if (identity && identity === this.localParticipant.identity) return this.localParticipant;
    return this.#remote.get(identity);
  }

  /**
   * Connects to `serverUrl` (the server's http(s) origin) with a join token.
   * Resolves once joined and ready to publish; remote tracks then arrive as
   * `trackSubscribed` events. Rejects with a ConnectionError whose `code` says
   * why (TOKEN_EXPIRED, TOKEN_INVALID, ROOM_NOT_FOUND, CONNECTION_FAILED, ...).
   */
  connect(serverUrl: string, token: string): Promise<void> {
    if (this.#started) {
      return Promise.reject(new HuizhenError(ErrorCode.INVALID_STATE, 'This Room was already connected once; create a new one to join again'));
    }
    this.#started = true;
    this.#connecting = this.#connect(serverUrl, token);
    return this.#connecting;
  }

  /**
   * Leaves the room: tells the server, stops published tracks the SDK opened,
   * and emits `disconnected` with reason `clientInitiated`. While connecting,
   * cancels the attempt instead (connect() rejects with reason `cancelled`).
   */
  disconnect(): Promise<void> {
    if (this.#ended || !this.#started) return Promise.resolve();
    if (this.#state === 'connecting') {
      this.#cancelled = true;
      this.#signal?.close(1000, 'cancelled');
      return this.#connecting?.then(
        () => undefined,
        () => undefined,
      ) ?? Promise.resolve();
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

  async #connect(serverUrl: string, token: string): Promise<void> {
    this.#setState('connecting');
    try {
      const signal = new SignalClient(toSignalUrl(serverUrl), {
        webSocketFactory: this.#options.webSocketFactory,
        requestTimeoutMs: this.#options.requestTimeoutMs,
        connectTimeoutMs: this.#options.connectTimeoutMs,
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
      const joined = await signal.request('join', { protocolVersion: PROTOCOL_VERSION, token });
      this.#throwIfCancelled();
      this.#applyJoin(joined);
      if (joined.admission === 'admitted') {
        await this.#enterRoom(joined);
        this.#throwIfCancelled();
      } else {
        this.#name = joined.room.id;
      }
      if (signal.state !== 'open') {
        throw new ConnectionError(ConnectionErrorReason.ConnectionLost, 'The connection closed while setting up media');
      }
      this.#setState('connected');
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
    this.localParticipant._setInfo(joined.participant);
    this.#log = this.#log.child({ room: joined.room.id, participant: joined.participant.identity, session: joined.sessionId });
    if (Number.isFinite(joined.tokenExpiresIn)) this.#tokenExpiresAt = Date.now() + joined.tokenExpiresIn * 1000;
  }

  /**
   * Takes in what an admitted participant sees (at join, or when admitted from
   * the lobby) and sets up media. Throws a ConnectionError if media fails.
   */
  async #enterRoom(view: RoomView): Promise<void> {
    const signal = this.#signal;
    const device = this.#device;
    if (!signal || !device) throw new HuizhenError(ErrorCode.INVALID_STATE, 'Entering a room without a connection');
    this.#info = view.room;
    this.#name = view.room.id;
    const self = this.localParticipant.identity;
    for (const info of view.participants) {
      if (info.identity !== self && !this.#remote.has(info.identity)) this.#remote.set(info.identity, new RemoteParticipant(info));
    }
    try {
      this.#media = await MediaSession.create({
        signal,
        device,
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

  #throwIfCancelled(): void {
    if (this.#cancelled) throw new ConnectionError(ConnectionErrorReason.Cancelled, 'disconnect() was called while connecting');
  }

  /** One typed error for every way connecting can fail. */
  #connectFailure(error: unknown): ConnectionError {
    if (this.#cancelled) return new ConnectionError(ConnectionErrorReason.Cancelled, 'disconnect() was called while connecting');
    const closed = this.#sessionClosed;
    if (closed && isErrorCode(closed.code)) {
      return new ConnectionError(ConnectionErrorReason.Rejected, closed.reason || 'The server closed the session', closed.code);
    }
    if (error instanceof ConnectionError) return error;
    if (error instanceof HuizhenError) {
      const reason = error.code === ErrorCode.TIMEOUT ? ConnectionErrorReason.Timeout : ConnectionErrorReason.Rejected;
      return new ConnectionError(reason, error.message, error.code, { cause: error });
    }
    const message = error instanceof Error ? error.message : String(error);
    return new ConnectionError(ConnectionErrorReason.MediaSetupFailed, `Could not connect: ${message}`, ErrorCode.CONNECTION_FAILED, {
      cause: error,
    });
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
    return new ConnectionError(ConnectionErrorReason.MediaSetupFailed, `Media setup failed: ${message}`, ErrorCode.CONNECTION_FAILED, {
      cause: error,
    });
  }

  #setState(state: ConnectionState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.emit('connectionStateChanged', state);
  }

  #onSignalClose(info: SignalCloseInfo): void {
    // While connecting, the pending request fails and connect() reports it.
    if (this.#state !== 'connected') return;
    if (this.#leaving || info.initiatedLocally) {
      this.#finish(DisconnectReason.ClientInitiated);
      return;
    }
    const closed = this.#sessionClosed;
    if (closed) {
      const code = isErrorCode(closed.code) ? closed.code : ErrorCode.CONNECTION_FAILED;
      this.#finish(disconnectReasonForCode(code), new HuizhenError(code, closed.reason || 'The server ended the session'));
      return;
    }
    const { reason, error } = disconnectFromCloseCode(info.code, info.reason);
    this.#finish(reason, error);
  }

  /** Ends the session once: unsubscribes and unpublishes everything, then emits `disconnected`. */
  #finish(reason: DisconnectReason, error?: HuizhenError): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#markReady();
    this.#log.info('disconnected', { reason, ...(error ? { code: error.code } : {}) });
    for (const participant of this.#remote.values()) {
      for (const track of [...participant.tracks.values()]) this.#unsubscribe(participant, track, false);
    }
    this.#remote.clear();
    this.localParticipant._unpublishAll();
    this.#setActiveSpeaker(null, false);
    this.#releaseMedia();
    this.#setState('disconnected');
    this.emit('disconnected', reason, error);
  }

  #releaseMedia(): void {
    this.#media?.close();
    this.#signal?.close(1000, 'client left');
  }

  #onNotification(message: AnyNotification): void {
    if (message.notification === 'sessionClosed') {
      // Recorded now, not queued: the socket closes right after and the close handler needs it.
      this.#sessionClosed = message.data;
      this.#log.info('session closed by server', { code: message.data.code });
      return;
    }
    this.#queue = this.#queue
      .then(() => this.#ready)
      .then(async () => {
        if (!this.#ended) await this.#handle(message);
      })
      .catch((error: unknown) => this.#log.warn('notification handling failed', { notification: message.notification, ...errorFields(error) }));
  }

  async #handle(message: AnyNotification): Promise<void> {
    switch (message.notification) {
      case 'participantJoined':
        return this.#onParticipantJoined(message.data.participant);
      case 'participantLeft':
        return this.#onParticipantLeft(message.data.identity, message.data.reason);
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
        this.emit('roomUpdated', message.data.room);
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
      await this.#enterRoom(view);
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
    track._mutedByHost();
    this.emit('mutedByHost', track, data.by, data.allowUnmute);
  }

  #onParticipantJoined(info: ParticipantInfo): void {
    if (info.identity === this.localParticipant.identity) return;
    // The same identity rejoining (e.g. from a new device) replaces the old entry.
    if (this.#remote.has(info.identity)) this.#onParticipantLeft(info.identity, 'disconnected');
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

  async #onConsumerCreated(data: NotificationData['consumerCreated']): Promise<void> {
    const participant = this.#remote.get(data.participantIdentity);
    const media = this.#media;
    const signal = this.#signal;
    if (!participant || !media || !signal) {
      this.#log.warn('track offered for an unknown participant', { identity: data.participantIdentity, trackId: data.trackId });
      return;
    }
    const log = this.#log.child({ identity: data.participantIdentity, trackId: data.trackId, consumerId: data.consumerId });
    let consumer;
    try {
      consumer = await media.consume({ consumerId: data.consumerId, trackId: data.trackId, kind: data.kind, rtpParameters: data.rtpParameters });
    } catch (error) {
      log.warn('could not receive track', errorFields(error));
      this.emit('trackSubscriptionFailed', data.trackId, participant, error instanceof Error ? error : new Error(String(error)));
      return;
    }
    const autoSubscribe = this.#options.autoSubscribe !== false;
    if (autoSubscribe) {
      try {
        await signal.request('resumeConsumer', { consumerId: data.consumerId });
      } catch (error) {
        consumer.close();
        log.warn('could not resume track', errorFields(error));
        if (!this.#ended) this.emit('trackSubscriptionFailed', data.trackId, participant, error as Error);
        return;
      }
    } else {
      consumer.pause();
    }
    if (this.#ended || this.#remote.get(participant.identity) !== participant) {
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
      videoSize: this.#options.videoSizeDebounceMs === undefined ? undefined : { debounceMs: this.#options.videoSizeDebounceMs },
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
