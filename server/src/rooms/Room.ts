/**
 * A room: one mediasoup router, its participants, and the rules for who
 * receives what. Every media action a participant asks for goes through here,
 * after the signaling layer has validated the message and the room checks
 * the participant's permission.
 */
import type { types } from 'mediasoup';
import {
  ErrorCode,
  TypedEmitter,
  type ChatMessage,
  type ConsultSummary,
  type MediaKind,
  type Notification,
  type NotificationData,
  type Opinion,
  type ResponseData,
  type RoomInfo,
  type RoomView,
  type TrackSource,
  type WaitingEntry,
} from '@huizhen/protocol';
import { actorOf, type AuditSink } from '../audit/AuditLog.js';
import type { Permission } from '../auth/permissions.js';
import { HuizhenError, invalidState, notFound, permissionDenied } from '../errors.js';
import type { MediaWorker, WorkerPool } from '../media/WorkerPool.js';
import type { Logger } from '../observability/logger.js';
import { RoomRecords } from '../records/RoomRecords.js';
import type { RecordStore } from '../records/RecordStore.js';
import type { UrlSigner } from '../records/signedUrls.js';
import { Chat } from './Chat.js';
import { Consult, type ConsultSettings } from './Consult.js';
import type { ConsultStore } from './ConsultStore.js';
import { type Participant, type NotificationSink, type PublishedTrack, type SinkOwner } from './Participant.js';
import { isClinician, waitsInLobby } from './policy.js';
import { chooseSpatialLayer } from './layers.js';

export interface RoomMediaOptions {
  maxIncomingBitrate: number;
  initialOutgoingBitrate: number;
}

export interface RoomOptions {
  id: string;
  pool: WorkerPool;
  logger: Logger;
  /** The node-wide ceiling; a room's own capacity may be lower. */
  maxParticipants: number;
  media: RoomMediaOptions;
  settings: ConsultSettings;
  store: ConsultStore;
  audit: AuditSink;
  /** How long a dropped participant keeps their place. */
  reconnectGraceMs: number;
  clockToleranceSec: number;
  records: RoomRecordsSettings;
}

export interface RoomRecordsSettings {
  store: RecordStore;
  signer: UrlSigner;
  maxBytes: number;
  urlTtlSec: number;
  retention: 'keep' | 'delete';
}

export type LeaveReason = 'left' | 'disconnected' | 'removed' | 'replaced' | 'denied' | 'expired';

export interface RoomEvents {
  /** The room closed; its participants have been told. */
  closed: (reason: string) => void;
  participantJoined: (participant: Participant) => void;
  participantLeft: (participant: Participant, reason: LeaveReason) => void;
}

const SOURCE_KIND: Record<TrackSource, MediaKind> = {
  camera: 'video',
  microphone: 'audio',
  screen: 'video',
  screenAudio: 'audio',
};

export class Room extends TypedEmitter<RoomEvents> {
  readonly id: string;
  readonly createdAt = Date.now();
  readonly router: types.Router;
  readonly worker: MediaWorker;
  /** Admitted participants, by identity. */
  readonly participants = new Map<string, Participant>();
  /** The waiting room, by identity, in arrival order. */
  readonly lobby = new Map<string, Participant>();
  readonly consult: Consult;
  readonly chat = new Chat();
  readonly records: RoomRecords;
  readonly #logger: Logger;
  readonly #options: RoomOptions;
  readonly #media: RoomMediaOptions;
  readonly #speakerObserver: types.ActiveSpeakerObserver;
  readonly #audit: AuditSink;
  /** People (issuer + identity) admitted once: they do not wait again after a reconnect or rejoin. */
  readonly #admittedBefore = new Set<string>();
  #closed = false;

  private constructor(
    options: RoomOptions,
    router: types.Router,
    worker: MediaWorker,
    speakerObserver: types.ActiveSpeakerObserver,
  ) {
    // A listener's bug is logged with the room, never thrown into the room's own bookkeeping.
    super({
      onListenerError: (error, event) =>
        options.logger.error('room listener failed', { room: options.id, event, error: error as Error }),
    });
    this.id = options.id;
    this.router = router;
    this.worker = worker;
    this.#options = options;
    this.#logger = options.logger.child({ room: options.id });
    this.#media = options.media;
    this.#audit = options.audit;
    this.#speakerObserver = speakerObserver;
    this.consult = new Consult(options.id, options.settings, options.store);
    this.records = new RoomRecords({
      roomId: options.id,
      store: options.records.store,
      signer: options.records.signer,
      audit: options.audit,
      maxBytes: options.records.maxBytes,
      urlTtlSec: options.records.urlTtlSec,
      participants: () => this.participants.values(),
    });
    speakerObserver.on('dominantspeaker', ({ producer }) => {
      const identity = typeof producer.appData.identity === 'string' ? producer.appData.identity : null;
      this.#broadcast(null, 'activeSpeakerChanged', { identity });
    });
    router.observer.once('close', () => this.close('The media server for this room stopped.', ErrorCode.MEDIA_ERROR));
  }

  static async create(options: RoomOptions): Promise<Room> {
    const { router, worker } = await options.pool.createRouter({ room: options.id });
    try {
      const speakerObserver = await router.createActiveSpeakerObserver({ interval: 300 });
      return new Room(options, router, worker, speakerObserver);
    } catch (err) {
      router.close();
      throw err;
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  get logger(): Logger {
    return this.#logger;
  }

  get capacity(): number {
    return Math.min(this.consult.info.capacity, this.#options.maxParticipants);
  }

  // --- entering, the waiting room and leaving -------------------------------

  /**
   * Brings a new session in: straight into the room, or into the waiting room
   * for roles that wait in this kind of room. An older session of the same
   * identity is replaced.
   */
  enter(p: Participant): 'admitted' | 'waiting' {
    if (this.#closed)
      throw new HuizhenError(ErrorCode.ROOM_NOT_FOUND, 'This room has closed; join again to reopen it.');
    if (this.consult.ended) throw new HuizhenError(ErrorCode.ROOM_ENDED, 'This consult has ended.');
    if (this.consult.isBanned(p.identity, p.issuer))
      throw new HuizhenError(ErrorCode.REMOVED, 'You were removed from this room and cannot rejoin it.');
    const previous = this.participants.get(p.identity) ?? this.lobby.get(p.identity);
    // A person is their issuer and subject together: another hospital's token
    // with the same `sub` is someone else and must not take this place over.
    if (previous && previous.issuer !== p.issuer) {
      throw new HuizhenError(
        ErrorCode.DUPLICATE_IDENTITY,
        'Someone from another organisation with the same identity is already in this room.',
      );
    }
    const returning = this.#admittedBefore.has(personKey(p)) || previous !== undefined;
    if (this.consult.locked && !returning && !(isClinician(p.role) && this.consult.issuers.has(p.issuer))) {
      throw new HuizhenError(ErrorCode.ROOM_LOCKED, 'This room is locked; ask the doctor to unlock it.');
    }
    if (!previous && this.participants.size + this.lobby.size >= this.capacity) {
      throw new HuizhenError(
        ErrorCode.ROOM_FULL,
        `This room already holds its maximum of ${this.capacity} participants.`,
      );
    }
    if (previous) {
      previous.notify('sessionClosed', {
        code: ErrorCode.DUPLICATE_IDENTITY,
        reason: 'You joined this room from another device or tab.',
      });
      this.leave(previous, 'replaced');
    }
    this.#armTokenTimer(p);
    if (waitsInLobby(this.consult.kind, p.role) && !this.#admittedBefore.has(personKey(p))) {
      p.admission = 'waiting';
      p.waitingSince = Date.now();
      this.lobby.set(p.identity, p);
      this.#audit.append({ event: 'waiting', room: this.id, actor: actorOf(p) });
      this.#logger.info('participant waiting', { participant: p.identity, role: p.role, waiting: this.lobby.size });
      this.#waitingRoomChanged();
      this.#updateState();
      return 'waiting';
    }
    this.#admit(p);
    return 'admitted';
  }

  #admit(p: Participant): void {
    p.admission = 'admitted';
    this.participants.set(p.identity, p);
    this.#admittedBefore.add(personKey(p));
    this.consult.admitted(p);
    this.#broadcast(p, 'participantJoined', { participant: p.info() });
    this.#audit.append({ event: 'join', room: this.id, actor: actorOf(p) });
    this.#logger.info('participant joined', {
      participant: p.identity,
      role: p.role,
      participants: this.participants.size,
    });
    this.emit('participantJoined', p);
    this.#updateState();
  }

  /** What an admitted participant sees of the room. */
  view(p: Participant): RoomView {
    const share = this.records.currentShareFor(p);
    return {
      room: this.consult.info,
      participants: this.others(p).map((o) => o.info()),
      routerRtpCapabilities: this.router.rtpCapabilities as unknown as Record<string, unknown>,
      chatHistory: this.chat.historyFor(p.role),
      ...(p.can('admit') ? { waitingRoom: this.waitingList() } : {}),
      ...(share ? { share } : {}),
    };
  }

  waitingList(): WaitingEntry[] {
    return [...this.lobby.values()].map((w) => ({
      identity: w.identity,
      name: w.name,
      role: w.role,
      since: w.waitingSince,
    }));
  }

  admit(actor: Participant, identity: string): void {
    this.#require(actor, 'admit', 'admit people from the waiting room');
    const target = this.lobby.get(identity);
    if (!target) throw notFound('waiting participant', identity);
    this.lobby.delete(identity);
    this.#admit(target);
    this.#audit.append({ event: 'admit', room: this.id, actor: actorOf(actor), target: identity });
    target.notify('admitted', this.view(target));
    this.#waitingRoomChanged();
  }

  deny(actor: Participant, identity: string, reason?: string): void {
    this.#require(actor, 'admit', 'turn people away from the waiting room');
    const target = this.lobby.get(identity);
    if (!target) throw notFound('waiting participant', identity);
    target.notify('sessionClosed', {
      code: ErrorCode.ADMISSION_DENIED,
      reason: reason ?? 'The clinician could not admit you to this consult.',
    });
    this.#audit.append({ event: 'deny', room: this.id, actor: actorOf(actor), target: identity });
    this.leave(target, 'denied');
  }

  /** Whoever is admitted or waiting with this identity and session id. */
  findSession(identity: string, sessionId: string): Participant | undefined {
    const p = this.participants.get(identity) ?? this.lobby.get(identity);
    return p && p.sessionId === sessionId ? p : undefined;
  }

  leave(p: Participant, reason: LeaveReason): void {
    if (this.lobby.get(p.identity) === p) {
      this.lobby.delete(p.identity);
      p.close();
      this.#logger.info('participant left the waiting room', { participant: p.identity, reason });
      this.#waitingRoomChanged();
      this.emit('participantLeft', p, reason);
      return;
    }
    if (this.participants.get(p.identity) !== p) return;
    this.participants.delete(p.identity);
    p.close();
    // A replaced session is the same person: others see no leave, only new tracks.
    if (reason !== 'replaced') {
      this.records.presenterLeft(p.identity);
      this.#broadcast(null, 'participantLeft', {
        identity: p.identity,
        reason: reason === 'removed' ? 'removed' : reason === 'left' ? 'left' : 'disconnected',
      });
      this.consult.left(p.identity);
      this.#audit.append({ event: 'leave', room: this.id, actor: actorOf(p), details: { reason } });
    }
    this.#logger.info('participant left', { participant: p.identity, reason, participants: this.participants.size });
    this.emit('participantLeft', p, reason);
  }

  // --- reconnection -----------------------------------------------------------

  /**
   * The connection dropped: keep the place (and media) for the grace period.
   * `owner` is the connection that dropped; if the session has already moved
   * to a newer connection, nothing happens.
   */
  disconnect(p: Participant, owner: SinkOwner): void {
    if (p.closed || !p.connected || !p.ownedBy(owner)) return;
    p.disconnect();
    if (p.admission === 'admitted') this.#broadcast(p, 'participantReconnecting', { identity: p.identity });
    this.#logger.info('participant connection lost', {
      participant: p.identity,
      graceMs: this.#options.reconnectGraceMs,
    });
    p.graceTimer = setTimeout(() => {
      p.graceTimer = undefined;
      if (!p.connected) this.leave(p, 'disconnected');
    }, this.#options.reconnectGraceMs);
    p.graceTimer.unref();
  }

  /** A new connection took the session over; replay what it missed. */
  resume(p: Participant, sink: NotificationSink, owner: SinkOwner, fromSeq?: number): void {
    if (p.graceTimer) clearTimeout(p.graceTimer);
    p.graceTimer = undefined;
    // Others saw "reconnecting" only if the server noticed the drop first.
    const wasAway = !p.connected;
    p.resume(sink, owner, fromSeq);
    if (wasAway && p.admission === 'admitted') this.#broadcast(p, 'participantReconnected', { identity: p.identity });
    this.#logger.info('participant resumed', { participant: p.identity });
  }

  /** A fresh token for the same person and room extends the session. */
  refreshToken(p: Participant, expiresAt: number): void {
    p.tokenExpiresAt = expiresAt;
    this.#armTokenTimer(p);
  }

  #armTokenTimer(p: Participant): void {
    if (p.tokenTimer) clearTimeout(p.tokenTimer);
    const ms = (p.tokenExpiresAt + this.#options.clockToleranceSec) * 1000 - Date.now();
    // setTimeout cannot wait longer than ~24.8 days; tokens never live that long.
    p.tokenTimer = setTimeout(
      () => {
        p.notify('sessionClosed', {
          code: ErrorCode.TOKEN_EXPIRED,
          reason: 'Your access token expired and was not renewed.',
        });
        this.leave(p, 'expired');
      },
      Math.max(0, Math.min(ms, 2 ** 31 - 1)),
    );
    p.tokenTimer.unref();
  }

  // --- host controls ----------------------------------------------------------

  async muteParticipant(
    actor: Participant,
    identity: string,
    source: TrackSource,
    allowUnmute: boolean,
  ): Promise<void> {
    this.#require(actor, 'muteOthers', 'mute other participants');
    const target = this.participants.get(identity);
    if (!target) throw notFound('participant', identity);
    const track = target.trackBySource(source);
    if (!track) throw new HuizhenError(ErrorCode.NOT_FOUND, `${target.name} has no ${source} track.`);
    track.hostMuted = { allowUnmute };
    if (!track.producer.paused) {
      await mediaCall(() => track.producer.pause());
      this.#broadcast(target, 'trackMuted', { participantIdentity: target.identity, trackId: track.producer.id });
    }
    target.notify('mutedByHost', { trackId: track.producer.id, source, by: actor.ref(), allowUnmute });
    this.#audit.append({
      event: 'mute_by_host',
      room: this.id,
      actor: actorOf(actor),
      target: identity,
      details: { source, allowUnmute },
    });
  }

  removeParticipant(actor: Participant, identity: string, reason?: string): void {
    this.#require(actor, 'remove', 'remove participants');
    if (identity === actor.identity) throw invalidState('Use leave to leave the room yourself.');
    const target = this.participants.get(identity) ?? this.lobby.get(identity);
    if (!target) throw notFound('participant', identity);
    this.consult.ban(identity, target.issuer);
    target.notify('sessionClosed', {
      code: ErrorCode.REMOVED,
      reason: reason ?? 'A host removed you from this consult.',
    });
    this.#audit.append({ event: 'remove', room: this.id, actor: actorOf(actor), target: identity });
    this.leave(target, 'removed');
  }

  setLocked(actor: Participant, locked: boolean): RoomInfo {
    this.#require(actor, 'lock', locked ? 'lock the room' : 'unlock the room');
    if (this.consult.locked !== locked) {
      this.consult.setLocked(locked);
      this.#audit.append({ event: locked ? 'lock' : 'unlock', room: this.id, actor: actorOf(actor) });
      this.#broadcast(null, 'roomUpdated', { room: this.consult.info });
    }
    return this.consult.info;
  }

  end(actor: Participant, reason?: string): ConsultSummary {
    this.#require(actor, 'end', 'end the consult');
    const summary = this.consult.end();
    if (this.#options.records.retention === 'delete') this.records.deleteAll();
    this.#audit.append({
      event: 'end',
      room: this.id,
      actor: actorOf(actor),
      details: {
        durationSec: summary.durationSec,
        participants: summary.participants.length,
        // Who took part (identities, no names): the summary as the audit trail keeps it.
        who: summary.participants
          .slice(0, 100)
          .map((e) => `${e.role}:${e.identity}`)
          .join(','),
      },
    });
    this.close(reason ?? `${actor.name} ended the consult.`, ErrorCode.ROOM_ENDED, summary);
    return summary;
  }

  /** Summaries and opinions are for the clinical team only. */
  summary(p: Participant): ConsultSummary {
    if (!isClinician(p.role)) throw permissionDenied('see the consult summary');
    return this.consult.summary();
  }

  // --- chat and opinions ------------------------------------------------------

  sendChat(p: Participant, text: string, to: 'everyone' | 'clinicians'): ChatMessage {
    this.#require(p, 'chat', 'chat');
    if (to === 'clinicians' && !isClinician(p.role)) throw permissionDenied('send clinicians-only messages');
    const message = this.chat.post(p.ref(), text, to);
    for (const other of this.others(p)) if (Chat.visibleTo(message, other.role)) other.notify('chat', { message });
    return message;
  }

  setOpinion(p: Participant, text: string): Opinion {
    this.#require(p, 'writeOpinion', 'write a consult opinion');
    const opinion = this.consult.writeOpinion(p, text);
    this.#audit.append({
      event: 'opinion_written',
      room: this.id,
      actor: actorOf(p),
      details: { version: opinion.version, length: text.length },
    });
    for (const other of this.others(p)) if (isClinician(other.role)) other.notify('opinionUpdated', { opinion });
    return opinion;
  }

  opinions(p: Participant): Opinion[] {
    if (!isClinician(p.role)) throw permissionDenied('read consult opinions');
    return this.consult.opinions();
  }

  others(participant: Participant): Participant[] {
    return [...this.participants.values()].filter((p) => p !== participant);
  }

  #require(p: Participant, permission: Permission, action: string): void {
    this.#assertMember(p);
    if (!p.can(permission)) throw permissionDenied(action);
  }

  #waitingRoomChanged(): void {
    const waiting = this.waitingList();
    for (const p of this.participants.values()) if (p.can('admit')) p.notify('waitingRoomChanged', { waiting });
  }

  #updateState(): void {
    if (this.consult.updateState([...this.participants.values()], this.lobby.size)) {
      this.#broadcast(null, 'roomUpdated', { room: this.consult.info });
    }
  }

  // --- transports ---------------------------------------------------------

  async createTransport(p: Participant, direction: 'send' | 'recv'): Promise<ResponseData['createTransport']> {
    this.#assertMember(p);
    if (direction === 'send' && !(p.can('publishAudio') || p.can('publishVideo') || p.can('publishScreen'))) {
      throw permissionDenied('publish media');
    }
    if (direction === 'recv' && !p.can('subscribe')) throw permissionDenied('receive media');
    // One transport per direction: a new one (e.g. after ICE failed for good) replaces the old.
    p.transport(direction)?.close();
    const transport = await this.router.createWebRtcTransport({
      webRtcServer: this.worker.webRtcServer,
      enableUdp: true,
      enableTcp: true,
      preferUdp: true,
      initialAvailableOutgoingBitrate: this.#media.initialOutgoingBitrate,
      appData: { direction, identity: p.identity },
    });
    if (p.closed) {
      transport.close();
      throw invalidState('The session closed while the transport was being created.');
    }
    p.transports.set(transport.id, transport);
    transport.observer.once('close', () => p.transports.delete(transport.id));
    transport.on('dtlsstatechange', (state) => {
      if (state === 'failed' || state === 'closed')
        this.#logger.warn('transport DTLS state', { participant: p.identity, transport: transport.id, state });
    });
    if (direction === 'send') {
      await transport.setMaxIncomingBitrate(this.#media.maxIncomingBitrate).catch(() => undefined);
    }
    return {
      id: transport.id,
      iceParameters: transport.iceParameters as unknown as Record<string, unknown>,
      iceCandidates: transport.iceCandidates as unknown as Record<string, unknown>[],
      dtlsParameters: transport.dtlsParameters as unknown as Record<string, unknown>,
    };
  }

  /** Load generator only: plain RTP (optionally SDES-keyed SRTP), rtcp-mux, comedia for senders. */
  async createPlainTransport(
    p: Participant,
    direction: 'send' | 'recv',
    srtp: boolean,
  ): Promise<ResponseData['createPlainTransport']> {
    this.#assertMember(p);
    if (!p.loadTest) throw permissionDenied('use load-test transports');
    p.transport(direction)?.close();
    const transport = await this.router.createPlainTransport({
      listenInfo: {
        protocol: 'udp',
        ip: this.worker.listenIp,
        ...(this.worker.announcedAddress ? { announcedAddress: this.worker.announcedAddress } : {}),
      },
      rtcpMux: true,
      // A sending generator is learned from its first packet.
      comedia: direction === 'send',
      enableSrtp: srtp,
      srtpCryptoSuite: 'AES_CM_128_HMAC_SHA1_80',
      appData: { direction, identity: p.identity, plain: true },
    });
    if (p.closed) {
      transport.close();
      throw invalidState('The session closed while the transport was being created.');
    }
    p.transports.set(transport.id, transport);
    transport.observer.once('close', () => p.transports.delete(transport.id));
    return {
      id: transport.id,
      ip: transport.tuple.localAddress,
      port: transport.tuple.localPort,
      ...(transport.srtpParameters ? { srtpParameters: transport.srtpParameters } : {}),
    };
  }

  async connectPlainTransport(
    p: Participant,
    transportId: string,
    ip: string,
    port: number,
    srtpParameters?: { cryptoSuite: string; keyBase64: string },
  ): Promise<void> {
    const transport = this.#transport(p, transportId);
    if (transport.appData.plain !== true) throw invalidState('This is not a plain transport.');
    // The server must never become a traffic reflector: it sends load RTP only
    // back to the generator's own address (or loopback).
    if (transport.appData.direction === 'recv' && !isLoopbackIp(ip) && ip !== p.remoteIp) {
      throw permissionDenied(`send load-test media to ${ip}`);
    }
    await mediaCall(() =>
      (transport as types.PlainTransport).connect({
        ...(transport.appData.direction === 'recv' ? { ip, port } : {}),
        ...(srtpParameters ? { srtpParameters: srtpParameters as types.SrtpParameters } : {}),
      }),
    );
  }

  async connectTransport(p: Participant, transportId: string, dtlsParameters: types.DtlsParameters): Promise<void> {
    const transport = this.#webRtcTransport(p, transportId);
    // Not dtlsState: ICE may complete (and DTLS start) before this request arrives.
    if (transport.appData.connectCalled === true) throw invalidState('This transport is already connected.');
    transport.appData.connectCalled = true;
    await mediaCall(() => transport.connect({ dtlsParameters }));
  }

  async restartIce(p: Participant, transportId: string): Promise<ResponseData['restartIce']> {
    const transport = this.#webRtcTransport(p, transportId);
    const iceParameters = await mediaCall(() => transport.restartIce());
    return { iceParameters: iceParameters as unknown as Record<string, unknown> };
  }

  // --- publishing ---------------------------------------------------------

  async produce(
    p: Participant,
    request: {
      transportId: string;
      kind: MediaKind;
      source: TrackSource;
      rtpParameters: types.RtpParameters;
      paused?: boolean;
    },
  ): Promise<string> {
    const { kind, source } = request;
    if (SOURCE_KIND[source] !== kind)
      throw new HuizhenError(
        ErrorCode.INVALID_REQUEST,
        `A ${source} track must be ${SOURCE_KIND[source]}, not ${kind}.`,
      );
    const needed = source === 'camera' ? 'publishVideo' : source === 'microphone' ? 'publishAudio' : 'publishScreen';
    if (!p.can(needed)) throw permissionDenied(`publish ${source}`);
    const transport = this.#transport(p, request.transportId);
    if (transport.appData.direction !== 'send') throw invalidState('Tracks are published on the send transport.');
    if (p.trackBySource(source)) throw invalidState(`A ${source} track is already published; close it first.`);

    const producer = await mediaCall(() =>
      transport.produce({
        kind,
        rtpParameters: request.rtpParameters,
        paused: request.paused ?? false,
        appData: { identity: p.identity, source },
      }),
    );
    if (p.closed || this.#closed) {
      producer.close();
      throw invalidState('The session closed while the track was being published.');
    }
    const track: PublishedTrack = { producer, source };
    p.tracks.set(producer.id, track);
    producer.observer.once('close', () => {
      p.tracks.delete(producer.id);
    });
    if (kind === 'audio') await this.#speakerObserver.addProducer({ producerId: producer.id }).catch(() => undefined);
    this.#logger.info('track published', { participant: p.identity, track: producer.id, source, kind });
    for (const other of this.others(p)) await this.#consume(other, p, track);
    return producer.id;
  }

  closeProducer(p: Participant, producerId: string): void {
    const track = this.#track(p, producerId);
    track.producer.close();
    p.tracks.delete(producerId);
    this.#logger.info('track unpublished', { participant: p.identity, track: producerId });
  }

  async setProducerPaused(p: Participant, producerId: string, paused: boolean): Promise<void> {
    const track = this.#track(p, producerId);
    if (!paused && track.hostMuted) {
      if (!track.hostMuted.allowUnmute)
        throw new HuizhenError(ErrorCode.PERMISSION_DENIED, 'A host muted this track; only they can let you unmute.');
      track.hostMuted = undefined;
    }
    if (track.producer.paused === paused) return;
    await mediaCall(() => (paused ? track.producer.pause() : track.producer.resume()));
    this.#broadcast(p, paused ? 'trackMuted' : 'trackUnmuted', {
      participantIdentity: p.identity,
      trackId: producerId,
    });
  }

  // --- subscribing --------------------------------------------------------

  /** Stores the device capabilities and subscribes to everything already published. */
  async setRtpCapabilities(p: Participant, rtpCapabilities: types.RtpCapabilities): Promise<void> {
    this.#assertMember(p);
    if (!p.can('subscribe')) throw permissionDenied('receive media');
    const first = p.rtpCapabilities === undefined;
    p.rtpCapabilities = rtpCapabilities;
    if (!first) return;
    for (const other of this.others(p)) {
      for (const track of other.tracks.values()) await this.#consume(p, other, track);
    }
  }

  async resumeConsumer(p: Participant, consumerId: string): Promise<void> {
    const consumer = this.#consumer(p, consumerId);
    // The client paused it on purpose (tile hidden): keep it paused.
    if (consumer.appData.clientPaused === true) return;
    await mediaCall(() => consumer.resume());
  }

  async setConsumerPaused(p: Participant, consumerId: string, paused: boolean): Promise<void> {
    const consumer = this.#consumer(p, consumerId);
    consumer.appData.clientPaused = paused;
    await mediaCall(() => (paused ? consumer.pause() : consumer.resume()));
  }

  /** Picks the simulcast layer that fits the size the subscriber renders at. */
  async setConsumerVideoSize(
    p: Participant,
    consumerId: string,
    width: number,
    height: number,
  ): Promise<number | null> {
    const consumer = this.#consumer(p, consumerId);
    if (consumer.kind !== 'video' || consumer.type !== 'simulcast') return null;
    const producerEncodings = (consumer.appData.producerScales as number[] | undefined) ?? [];
    const spatialLayer = chooseSpatialLayer(width, height, producerEncodings);
    await mediaCall(() => consumer.setPreferredLayers({ spatialLayer, temporalLayer: 2 }));
    return spatialLayer;
  }

  async requestKeyFrame(p: Participant, consumerId: string): Promise<void> {
    const consumer = this.#consumer(p, consumerId);
    await mediaCall(() => consumer.requestKeyFrame());
  }

  async getStats(p: Participant): Promise<ResponseData['getStats']> {
    const transports = await Promise.all(
      [...p.transports.values()].map(async (t) => {
        const [stats] = await t.getStats();
        return { transportId: t.id, direction: t.appData.direction, ...(stats as unknown as Record<string, unknown>) };
      }),
    );
    return { transports };
  }

  async #consume(subscriber: Participant, publisher: Participant, track: PublishedTrack): Promise<void> {
    const { producer } = track;
    const transport = subscriber.transport('recv');
    const caps = subscriber.rtpCapabilities;
    if (!transport || !caps || subscriber.closed || producer.closed) return;
    if (!subscriber.can('subscribe') || (producer.kind === 'video' && !subscriber.can('subscribeVideo'))) return;
    if (!this.router.canConsume({ producerId: producer.id, rtpCapabilities: caps })) {
      this.#logger.warn('subscriber cannot decode track', { participant: subscriber.identity, track: producer.id });
      return;
    }
    let consumer: types.Consumer;
    try {
      // Created paused: the client resumes it once its local consumer exists,
      // so the first packets (and the key frame) are not lost.
      consumer = await transport.consume({
        producerId: producer.id,
        rtpCapabilities: caps,
        paused: true,
        appData: {
          identity: subscriber.identity,
          // The SDK sends scaleResolutionDownBy with each simulcast encoding.
          producerScales:
            producer.rtpParameters.encodings?.map(
              (e) => (e as { scaleResolutionDownBy?: number }).scaleResolutionDownBy ?? 1,
            ) ?? [],
        },
      });
    } catch (err) {
      this.#logger.warn('consume failed', {
        participant: subscriber.identity,
        track: producer.id,
        error: err as Error,
      });
      return;
    }
    if (subscriber.closed) {
      consumer.close();
      return;
    }
    subscriber.consumers.set(consumer.id, consumer);
    const closed = () => {
      if (!subscriber.consumers.delete(consumer.id)) return;
      subscriber.notify('consumerClosed', {
        consumerId: consumer.id,
        trackId: producer.id,
        participantIdentity: publisher.identity,
      });
    };
    consumer.on('transportclose', () => subscriber.consumers.delete(consumer.id));
    consumer.on('producerclose', closed);
    consumer.on('layerschange', (layers) => {
      subscriber.notify('consumerLayersChanged', {
        consumerId: consumer.id,
        spatialLayer: layers?.spatialLayer ?? null,
        temporalLayer: layers?.temporalLayer ?? null,
      });
    });
    subscriber.notify('consumerCreated', {
      consumerId: consumer.id,
      trackId: producer.id,
      participantIdentity: publisher.identity,
      kind: consumer.kind,
      source: track.source,
      rtpParameters: consumer.rtpParameters as unknown as Record<string, unknown>,
      producerPaused: consumer.producerPaused,
    });
  }

  // --- lookup helpers -------------------------------------------------------

  #assertMember(p: Participant): void {
    if (!this.#closed && this.lobby.get(p.identity) === p) {
      throw new HuizhenError(ErrorCode.NOT_ADMITTED, 'You are in the waiting room; a clinician will admit you.');
    }
    if (this.#closed || this.participants.get(p.identity) !== p) throw invalidState('You are not in this room.');
  }

  #transport(p: Participant, id: string): types.WebRtcTransport | types.PlainTransport {
    this.#assertMember(p);
    const t = p.transports.get(id);
    if (!t) throw notFound('transport', id);
    return t;
  }

  #webRtcTransport(p: Participant, id: string): types.WebRtcTransport {
    const t = this.#transport(p, id);
    if (t.appData.plain === true) throw invalidState('This is a plain RTP transport.');
    return t as types.WebRtcTransport;
  }

  #track(p: Participant, id: string): PublishedTrack {
    this.#assertMember(p);
    const t = p.tracks.get(id);
    if (!t) throw notFound('track', id);
    return t;
  }

  #consumer(p: Participant, id: string): types.Consumer {
    this.#assertMember(p);
    const c = p.consumers.get(id);
    if (!c) throw notFound('consumer', id);
    return c;
  }

  #broadcast<N extends Notification>(except: Participant | null, name: N, data: NotificationData[N]): void {
    for (const p of this.participants.values()) if (p !== except) p.notify(name, data);
  }

  /** Snapshot of the media objects, for metrics. */
  counts(): { participants: number; producers: number; consumers: number } {
    let producers = 0;
    let consumers = 0;
    for (const p of this.participants.values()) {
      producers += p.tracks.size;
      consumers += p.consumers.size;
    }
    return { participants: this.participants.size, producers, consumers };
  }

  /**
   * @param code what the participants are told (e.g. SERVER_SHUTTING_DOWN, MEDIA_ERROR).
   * @param summary for an ended consult: sent along to its clinicians.
   */
  close(reason: string, code: ErrorCode = ErrorCode.ROOM_NOT_FOUND, summary?: ConsultSummary): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of [...this.participants.values(), ...this.lobby.values()]) {
      // The clinical team leaves an ended consult with its summary in hand.
      const forClinicians = summary && isClinician(p.role) && p.admission === 'admitted' ? { summary } : {};
      p.notify('sessionClosed', { code, reason, ...forClinicians });
      p.close();
    }
    this.participants.clear();
    this.lobby.clear();
    this.records.flush();
    this.router.close();
    this.#logger.info('room closed', { reason });
    this.emit('closed', reason);
  }
}

function isLoopbackIp(ip: string): boolean {
  return ip.startsWith('127.') || ip === '::1';
}

function personKey(p: Participant): string {
  return `${p.issuer}\n${p.identity}`;
}

/** mediasoup rejects bad parameters with TypeError; those are the client's fault. */
async function mediaCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof HuizhenError) throw err;
    if (err instanceof TypeError || (err as Error).name === 'UnsupportedError') {
      throw new HuizhenError(
        ErrorCode.INVALID_REQUEST,
        `The media parameters were rejected: ${(err as Error).message}`,
      );
    }
    if ((err as Error).name === 'InvalidStateError') throw invalidState((err as Error).message);
    throw new HuizhenError(ErrorCode.MEDIA_ERROR, `The media server could not do that: ${(err as Error).message}`);
  }
}
