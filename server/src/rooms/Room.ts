/**
 * A room: the coordinator that holds one consult's parts together and keeps
 * them consistent: who is admitted or waiting (Lobby), what hosts may do
 * (HostControls), chat and opinions (Conversation), shared records
 * (RoomRecords), the consult's lifecycle (Consult) and its media (MediaRoom).
 *
 * The signaling layer authorizes every request through `authorize` (one
 * point, see access.ts), then calls a part. The workflow parts and the media
 * meet only through MediaRoom's narrow interface (see there), so the two can
 * live on different nodes later.
 */
import type { types } from 'mediasoup';
import {
  ErrorCode,
  TypedEmitter,
  type ConsultSummary,
  type Notification,
  type NotificationData,
  type RoomView,
  type WaitingEntry,
  type ParticipantInfo,
  type LinkDirection,
} from '@huizhen/protocol';
import { actorOf, type AuditSink } from '../audit/AuditLog.js';
import type { Permission } from '../auth/permissions.js';
import { HuizhenError, notFound, permissionDenied } from '../errors.js';
import type { MediaWorker } from '../media/WorkerPool.js';
import type { Logger } from '../observability/logger.js';
import { RoomRecords } from '../records/RoomRecords.js';
import { authorize } from './access.js';
import { personKey } from '../auth/person.js';
import { Consult } from './Consult.js';
import { DataRelay } from './data/DataRelay.js';
import { Conversation } from './Conversation.js';
import { HostControls } from './HostControls.js';
import { Lobby } from './Lobby.js';
import { MediaRoom, type ProduceRequest } from './media/MediaRoom.js';
import { RemotePublishers } from './media/RemotePublishers.js';
import { trackInfo } from './media/PeerMedia.js';
import type { QualityUpdate } from './media/LinkMonitor.js';
import type { NotificationSink, Participant, SinkOwner } from './Participant.js';
import { isClinician, waitsInLobby } from './policy.js';
import type { LeaveReason, RoomContext } from './RoomContext.js';
import { LocalRoomState, type DurableRoomSnapshot, type RoomStateWriter } from './RoomStateWriter.js';
import { participantOf, sessionOf } from './durableSessions.js';
import type { RoomEvents, RoomOptions } from './RoomOptions.js';
import type { DataTopicPolicy } from './data/DataTopic.js';
import { RoomVitals } from '../vitals/RoomVitals.js';
import { vitalsTopic } from '../vitals/vitalsTopic.js';
import { RecordingConsent } from '../recording/RecordingConsent.js';

export type { LeaveReason };
export type {
  RoomEvents,
  RoomMediaOptions,
  RoomOptions,
  RoomRecordsSettings,
  RoomRecordingSettings,
  RoomVitalsSettings,
} from './RoomOptions.js';
export class Room extends TypedEmitter<RoomEvents> implements RoomContext {
  readonly id: string;
  readonly createdAt = Date.now();
  readonly media: MediaRoom;
  readonly lobby = new Lobby();
  readonly consult: Consult;
  readonly records: RoomRecords;
  readonly host: HostControls;
  readonly conversation: Conversation;
  readonly audit: AuditSink;
  readonly durable: RoomStateWriter;
  /** Data channels: topics (register restricted topics' policies here), checks, relay. */
  readonly data: DataRelay;
  // --- vitals
  /** Wearable vitals: ingest, latest readings, storage as FHIR, alerts. */
  readonly vitals: RoomVitals;
  /** The data relay's policy for topic `vitals` (publish: patients, family; receive: the clinical team). */
  readonly vitalsTopic: DataTopicPolicy;
  // --- recording
  /** Recording with everyone's consent: who asked, who agreed, and so whether the capture runs. */
  readonly recording: RecordingConsent<MediaRoom>;
  // --- cluster
  /** Tracks of participants whose media is on other nodes, piped to this node's router. */
  readonly remote = new RemotePublishers();
  /** Admitted participants, by identity. */
  readonly #participants = new Map<string, Participant>();
  readonly #logger: Logger;
  readonly #options: RoomOptions;
  #closed = false;

  private constructor(options: RoomOptions, media: MediaRoom, data: DataRelay) {
    // A listener's bug is logged with the room, never thrown into the room's own bookkeeping.
    super({
      onListenerError: (error, event) =>
        options.logger.error('room listener failed', { room: options.id, event, error: error as Error }),
    });
    this.id = options.id;
    this.media = media;
    this.data = data;
    this.#options = options;
    this.#logger = options.logger.child({ room: options.id });
    this.audit = options.audit;
    this.durable = options.durable ?? new LocalRoomState();
    this.consult = new Consult(options.id, options.settings, options.store);
    this.records = new RoomRecords({
      roomId: options.id,
      store: options.records.store,
      signer: options.records.signer,
      audit: options.audit,
      maxBytes: options.records.maxBytes,
      urlTtlSec: options.records.urlTtlSec,
      participants: () => this.#participants.values(),
      writeShare: (share) => this.durable.setShare(share),
    });
    this.host = new HostControls(this, media, () => {
      if (options.records.retention === 'delete') void this.records.deleteAll();
    });
    this.conversation = new Conversation(this);
    // --- vitals
    this.vitals = new RoomVitals({
      roomId: options.id,
      config: options.vitals.config,
      store: options.vitals.store,
      ...(options.vitals.counters ? { counters: options.vitals.counters } : {}),
      audit: options.audit,
      logger: this.#logger,
      participants: () => this.#participants.values(),
    });
    this.vitalsTopic = vitalsTopic(this.vitals);
    data.topics.register(this.vitalsTopic);
    // --- recording
    this.recording = new RecordingConsent({
      roomId: options.id,
      media,
      capture: options.recording?.capture,
      audit: options.audit,
      logger: this.#logger,
      present: () => this.#participants.values(),
    });
    media.on('activeSpeaker', (identity) => this.broadcast(null, 'activeSpeakerChanged', { identity }));
    media.on('closed', () => this.close('The media server for this room stopped.', ErrorCode.MEDIA_ERROR));
    this.#watchLinks(media);
  }

  static async create(options: RoomOptions): Promise<Room> {
    const logger = options.logger.child({ room: options.id });
    const media = await MediaRoom.create(options.id, options.pool, options.media, logger);
    // --- data channels: the relay receives from and sends to the admitted participants
    const room: { ref?: Room } = {};
    let data: DataRelay;
    try {
      data = await DataRelay.create(media.router, options.data, logger, () => room.ref?.participants.values() ?? []);
    } catch (err) {
      media.close();
      throw err;
    }
    room.ref = new Room(options, media, data);
    return room.ref;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get logger(): Logger {
    return this.#logger;
  }

  get router(): types.Router {
    return this.media.router;
  }

  get worker(): MediaWorker {
    return this.media.worker;
  }

  /** Admitted participants, by identity. */
  get participants(): ReadonlyMap<string, Participant> {
    return this.#participants;
  }

  get capacity(): number {
    return Math.min(this.consult.info.capacity, this.#options.maxParticipants);
  }

  // --- authorization (the one point; see access.ts) ---------------------------

  isAdmitted(p: Participant): boolean {
    return this.#participants.get(p.identity) === p;
  }

  isWaiting(p: Participant): boolean {
    return this.lobby.has(p);
  }

  /** Throws unless `p` is admitted here (and holds `permission`, when given). */
  authorize(p: Participant, permission?: Permission, action?: string): void {
    authorize(this, p, permission, action);
  }

  /** The admitted participant these claims belong to (same issuer), if they are in the room now. */
  admittedMember(claims: { identity: string; issuer: string }): Participant | undefined {
    const p = this.#participants.get(claims.identity);
    return p && !p.closed && !this.#closed && p.issuer === claims.issuer ? p : undefined;
  }

  // --- entering, the waiting room and leaving -------------------------------

  /**
   * Brings a new session in: straight into the room, or into the waiting room
   * for roles that wait in this kind of room. An older session of the same
   * identity is replaced.
   */
  async enter(p: Participant): Promise<'admitted' | 'waiting'> {
    this.#checkEntry(p);
    // --- durable state: someone let straight in is admitted for good (a rebuilt room lets them back in,
    // a locked one too); written before they are in. Lobby admissions are written by `admit`.
    // Their role lets them in anyway, so a Redis outage does not keep them out of a room open here
    // (only a locked room rebuilt after a failover would then not know them).
    // --- durable sessions: their session too (admitted or waiting), so a new home lets them resume it.
    const unreachable = (what: string) => (error: unknown) => {
      if (!(error instanceof HuizhenError && error.code === ErrorCode.CLUSTER_UNAVAILABLE)) throw error;
      this.#logger.warn(`${what} not made durable: the cluster is unreachable`, { participant: p.identity });
    };
    const waits = waitsInLobby(this.consult.kind, p.role) && !this.lobby.wasAdmitted(p);
    // The lobby keeps the place the durable session says (a waiter restored elsewhere keeps it too).
    const since = Date.now();
    await Promise.all([
      !this.lobby.wasAdmitted(p) && !waitsInLobby(this.consult.kind, p.role)
        ? this.durable.admit(personKey(p.issuer, p.identity)).catch(unreachable('admission'))
        : undefined,
      this.durable.saveSession(sessionOf(p, waits ? 'waiting' : 'admitted', since)).catch(unreachable('session')),
    ]);
    try {
      return this.#enterNow(p, since);
    } catch (err) {
      // Refused after all (the room changed during the write): the session written must not come back.
      this.#forgetSession(p);
      throw err;
    }
  }

  /** The refusals of `enter`, checked again after its write (the room may have changed meanwhile). */
  #checkEntry(p: Participant): Participant | undefined {
    if (this.#closed)
      throw new HuizhenError(ErrorCode.ROOM_NOT_FOUND, 'This room has closed; join again to reopen it.');
    if (this.consult.ended) throw new HuizhenError(ErrorCode.ROOM_ENDED, 'This consult has ended.');
    if (this.consult.isBanned(p.identity, p.issuer))
      throw new HuizhenError(ErrorCode.REMOVED, 'You were removed from this room and cannot rejoin it.');
    const previous = this.find(p.identity);
    // A person is their issuer and subject together: another hospital's token
    // with the same `sub` is someone else and must not take this place over.
    if (previous && previous.issuer !== p.issuer) {
      throw new HuizhenError(
        ErrorCode.DUPLICATE_IDENTITY,
        'Someone from another organisation with the same identity is already in this room.',
      );
    }
    const returning = this.lobby.wasAdmitted(p) || previous !== undefined;
    if (this.consult.locked && !returning && !(isClinician(p.role) && this.consult.issuers.has(p.issuer))) {
      throw new HuizhenError(ErrorCode.ROOM_LOCKED, 'This room is locked; ask the doctor to unlock it.');
    }
    if (!previous && this.#participants.size + this.lobby.size >= this.capacity) {
      throw new HuizhenError(
        ErrorCode.ROOM_FULL,
        `This room already holds its maximum of ${this.capacity} participants.`,
      );
    }
    return previous;
  }

  #enterNow(p: Participant, since: number): 'admitted' | 'waiting' {
    const previous = this.#checkEntry(p);
    if (previous) {
      previous.notify('sessionClosed', {
        code: ErrorCode.DUPLICATE_IDENTITY,
        reason: 'You joined this room from another device or tab.',
      });
      this.leave(previous, 'replaced');
    }
    this.#armTokenExpiry(p);
    if (waitsInLobby(this.consult.kind, p.role) && !this.lobby.wasAdmitted(p)) {
      this.lobby.wait(p, since);
      this.audit.append({ event: 'waiting', room: this.id, actor: actorOf(p) });
      this.#logger.info('participant waiting', { participant: p.identity, role: p.role, waiting: this.lobby.size });
      this.#waitingRoomChanged();
      this.#updateState();
      return 'waiting';
    }
    this.#admit(p);
    return 'admitted';
  }

  #admit(p: Participant): void {
    p.markAdmitted();
    this.#participants.set(p.identity, p);
    this.lobby.recordAdmitted(p);
    this.consult.admitted(p);
    this.broadcast(p, 'participantJoined', { participant: p.info() });
    this.audit.append({ event: 'join', room: this.id, actor: actorOf(p) });
    this.#logger.info('participant joined', {
      participant: p.identity,
      role: p.role,
      participants: this.#participants.size,
    });
    // --- recording: a newcomer who has not answered pauses it until they agree
    this.recording.joined(p);
    this.emit('participantJoined', p);
    this.#updateState();
    this.#sendLinkStates(p);
  }

  /** What an admitted participant sees of the room. */
  view(p: Participant): RoomView {
    const share = this.records.currentShareFor(p);
    const vitals = this.vitals.latestFor(p);
    const recording = this.recording.view();
    return {
      room: this.consult.info,
      participants: this.others(p).map((o) => this.#infoOf(o)),
      routerRtpCapabilities: this.media.rtpCapabilities,
      chatHistory: this.conversation.chatHistoryFor(p.role),
      ...(p.can('admit') ? { waitingRoom: this.waitingList() } : {}),
      ...(share ? { share } : {}),
      ...(vitals.length > 0 ? { vitals } : {}),
      // --- recording
      ...(recording ? { recording } : {}),
    };
  }

  /** A participant as others see them; the tracks of one whose media is on another node are those piped here. */
  #infoOf(o: Participant): ParticipantInfo {
    const info = o.info();
    if (!o.remoteMedia || info.tracks.length > 0) return info;
    return { ...info, tracks: this.remote.tracksOf(o.identity).map(trackInfo) };
  }

  waitingList(): WaitingEntry[] {
    return this.lobby.list();
  }

  /**
   * Takes up what the room's durable state holds (a room rebuilt on a new home
   * after its old home died): admitted people skip the lobby, bans and the
   * lock hold, the chat history is served to joiners.
   */
  restore(state: DurableRoomSnapshot): void {
    this.lobby.restoreAdmitted(state.admitted);
    this.consult.restore(state);
    this.conversation.restoreChat(state.chat);
    this.consult.restoreOpinions(state.opinions);
    this.#restoreSessions(state);
    // After the sessions: a share whose presenter did not come back with them is not restored.
    if (state.share && this.#participants.has(state.share.presenter)) this.records.restoreShare(state.share);
  }

  /**
   * --- durable sessions: the people of the old home come back as away, within
   * their reconnect grace from now. Admitted ones are in the room view and
   * nobody is told they left; a resume with their session id takes the session
   * up (Participant.resume) and the others see participantReconnected. Waiters
   * are back in the lobby list with their original place (`since`): the
   * clinician still sees who waits and may admit them while they reconnect
   * (their resume then answers `admitted`). Whoever does not come back within
   * the grace leaves as any dropped session does.
   */
  #restoreSessions(state: DurableRoomSnapshot): void {
    const graceMs = this.#options.reconnectGraceMs;
    for (const session of state.sessions) {
      if (this.consult.isBanned(session.identity, session.issuer) || this.find(session.identity)) continue;
      const p = participantOf(session);
      if (session.admission === 'waiting') this.lobby.wait(p, p.waitingSince);
      else {
        this.#participants.set(p.identity, p);
        this.lobby.recordAdmitted(p);
        this.consult.admitted(p);
      }
      p.disconnect(graceMs, () => this.leave(p, 'disconnected'));
      this.#armTokenExpiry(p);
    }
    if (state.sessions.length > 0) {
      this.#logger.info('sessions restored', {
        participants: this.#participants.size,
        waiting: this.lobby.size,
        graceMs,
      });
      this.#updateState();
    }
  }

  /** The session is over: a new home must not bring it back. In the background (nobody waits on a leave). */
  #forgetSession(p: Participant): void {
    this.durable.dropSession(p.identity).catch((error: unknown) =>
      this.#logger.warn('ended session not removed from the durable state', {
        participant: p.identity,
        error: error as Error,
      }),
    );
  }

  /** The admission is durable before the person is let in. */
  async admit(actor: Participant, identity: string): Promise<void> {
    const waiting = this.lobby.get(identity);
    if (!waiting) throw notFound('waiting participant', identity);
    await Promise.all([
      this.durable.admit(personKey(waiting.issuer, waiting.identity)),
      this.durable.saveSession(sessionOf(waiting, 'admitted')),
    ]);
    const target = this.lobby.take(identity);
    // Audited before the join it causes, so the trail (and its webhooks) read admitted → joined → started.
    this.audit.append({ event: 'admit', room: this.id, actor: actorOf(actor), target: identity });
    this.#admit(target);
    target.notify('admitted', { ...this.view(target), ...this.media.iceServersFor(target) });
    this.#waitingRoomChanged();
  }

  deny(actor: Participant, identity: string, reason?: string): void {
    const target = this.lobby.get(identity);
    if (!target) throw notFound('waiting participant', identity);
    target.notify('sessionClosed', {
      code: ErrorCode.ADMISSION_DENIED,
      reason: reason ?? 'The clinician could not admit you to this consult.',
    });
    this.audit.append({ event: 'deny', room: this.id, actor: actorOf(actor), target: identity });
    this.leave(target, 'denied');
  }

  /** Admitted or waiting, by identity. */
  find(identity: string): Participant | undefined {
    return this.#participants.get(identity) ?? this.lobby.get(identity);
  }

  /** An admitted participant named in a request (a host's target, say). */
  admittedTarget(identity: string): Participant {
    const p = this.#participants.get(identity);
    if (!p) throw notFound('participant', identity);
    return p;
  }

  /** Whoever is admitted or waiting with this identity and session id. */
  findSession(identity: string, sessionId: string): Participant | undefined {
    const p = this.find(identity);
    return p && p.sessionId === sessionId ? p : undefined;
  }

  leave(p: Participant, reason: LeaveReason): void {
    if (this.lobby.remove(p)) {
      p.close();
      if (reason !== 'replaced') this.#forgetSession(p);
      this.#logger.info('participant left the waiting room', { participant: p.identity, reason });
      this.#waitingRoomChanged();
      this.emit('participantLeft', p, reason);
      return;
    }
    if (this.#participants.get(p.identity) !== p) return;
    this.#participants.delete(p.identity);
    this.data.forget(p);
    p.close();
    // A replaced session is the same person: others see no leave, only new tracks.
    if (reason !== 'replaced') {
      this.#forgetSession(p);
      this.records.presenterLeft(p.identity);
      this.broadcast(null, 'participantLeft', {
        identity: p.identity,
        reason: reason === 'removed' ? 'removed' : reason === 'left' ? 'left' : 'disconnected',
      });
      this.consult.left(p.identity);
      this.vitals.participantLeft(p.identity);
      this.audit.append({ event: 'leave', room: this.id, actor: actorOf(p), details: { reason } });
      // --- recording: their answer leaves with them (everyone left may now have agreed)
      this.recording.left(p);
    }
    this.#logger.info('participant left', { participant: p.identity, reason, participants: this.#participants.size });
    this.emit('participantLeft', p, reason);
  }

  // --- reconnection and token expiry -----------------------------------------

  /**
   * The connection dropped: keep the place (and media) for the grace period.
   * `owner` is the connection that dropped; if the session has already moved
   * to a newer connection, nothing happens.
   */
  disconnect(p: Participant, owner: SinkOwner): void {
    if (p.closed || !p.connected || !p.ownedBy(owner)) return;
    const graceMs = this.#options.reconnectGraceMs;
    p.disconnect(graceMs, () => this.leave(p, 'disconnected'));
    if (p.admission === 'admitted') this.broadcast(p, 'participantReconnecting', { identity: p.identity });
    this.#logger.info('participant connection lost', { participant: p.identity, graceMs });
  }

  /** A new connection took the session over; replay what it missed. */
  resume(p: Participant, sink: NotificationSink, owner: SinkOwner, fromSeq?: number): void {
    // Others saw "reconnecting" only if the server noticed the drop first.
    const wasAway = !p.connected;
    p.resume(sink, owner, fromSeq, (name, data) =>
      name === 'admitted' ? { ...data, ...this.media.iceServersFor(p) } : data,
    );
    if (wasAway && p.admission === 'admitted') this.broadcast(p, 'participantReconnected', { identity: p.identity });
    this.#logger.info('participant resumed', { participant: p.identity });
  }

  /** A fresh token for the same person and room extends the session. */
  refreshToken(p: Participant, expiresAt: number): void {
    p.tokenExpiresAt = expiresAt;
    this.#armTokenExpiry(p);
    // --- durable sessions: a new home arms the same expiry (in the background: the old one is only earlier)
    if (this.find(p.identity) === p)
      this.durable
        .saveSession(sessionOf(p, p.admission))
        .catch((error: unknown) =>
          this.#logger.warn('token expiry not made durable', { participant: p.identity, error: error as Error }),
        );
  }

  #armTokenExpiry(p: Participant): void {
    p.armTokenExpiry(this.#options.clockToleranceSec, () => {
      p.notify('sessionClosed', {
        code: ErrorCode.TOKEN_EXPIRED,
        reason: 'Your access token expired and was not renewed.',
      });
      this.leave(p, 'expired');
    });
  }

  // --- workflow calls that need the room's people ------------------------------

  /** Summaries are for the clinical team only. */
  summary(p: Participant): ConsultSummary {
    if (!isClinician(p.role)) throw permissionDenied('see the consult summary');
    return this.consult.summary();
  }

  // --- media calls that need the room's people ---------------------------------

  /** Publishes a track; everyone else in the room receives it. */
  produce(p: Participant, request: ProduceRequest): Promise<string> {
    return this.media.produce(p, request, () => this.others(p));
  }

  async setProducerPaused(p: Participant, producerId: string, paused: boolean): Promise<void> {
    if (await this.media.setProducerPaused(p, producerId, paused)) {
      this.broadcast(p, paused ? 'trackMuted' : 'trackUnmuted', {
        participantIdentity: p.identity,
        trackId: producerId,
      });
    }
  }

  /** Stores the device capabilities and subscribes to everything already published. */
  setRtpCapabilities(p: Participant, rtpCapabilities: types.RtpCapabilities): Promise<void> {
    return this.media.setRtpCapabilities(p, rtpCapabilities, [...this.others(p), ...this.remote.peers()]);
  }

  // --- cluster
  /** A track of a participant on another node arrived through a pipe: everyone here receives it. */
  adoptRemoteTrack(producer: types.Producer): void {
    const added = this.#closed ? undefined : this.remote.add(producer);
    if (!added) {
      producer.close();
      return;
    }
    this.media.adoptImported(added.track, added.peer.identity);
    void this.media.subscriptions.fanOut(added.peer, added.track, this.#participants.values());
  }

  // --- connection quality ---------------------------------------------------

  /** Participants whose media went silent while their signaling still looked connected. */
  readonly #mediaLost = new WeakSet<Participant>();

  /** Quality and audio-only go to clinicians and to the participant themselves, never to other patients. */
  #tellAboutLink<N extends 'connectionQualityChanged' | 'audioOnlyChanged'>(
    about: Participant,
    name: N,
    data: NotificationData[N],
  ): void {
    for (const p of this.#participants.values()) if (p === about || isClinician(p.role)) p.notify(name, data);
  }

  #watchLinks(media: MediaRoom): void {
    media.links.start(() => this.#participants.values());
    const admitted = (identity: string) => this.#participants.get(identity);
    media.links.on('quality', (peer, update) => {
      const p = admitted(peer.identity);
      if (p && p === peer) this.linkQuality(p, update);
    });
    media.links.on('audioOnly', (peer, audioOnly, direction) => {
      const p = admitted(peer.identity);
      if (p && p === peer) this.linkAudioOnly(p, audioOnly, direction);
    });
    // A trial of the camera is between the server and the participant's SDK; others hear the outcome.
    media.links.on('uplinkTrial', (peer, audioOnly) => {
      const p = admitted(peer.identity);
      if (p === peer)
        p.notify('audioOnlyChanged', { identity: p.identity, audioOnly, reason: 'network', direction: 'uplink' });
    });
  }

  /** A participant's connection quality changed (measured here, or at the node their media is on). */
  linkQuality(p: Participant, update: QualityUpdate): void {
    if (!this.isAdmitted(p)) return;
    this.#tellAboutLink(p, 'connectionQualityChanged', { identity: p.identity, ...update });
    // No media at all: everyone sees them reconnecting (the socket may take far longer to notice).
    if (update.quality === 'lost' && p.connected && !this.#mediaLost.has(p)) {
      this.#mediaLost.add(p);
      this.broadcast(p, 'participantReconnecting', { identity: p.identity });
    } else if (update.quality !== 'lost' && this.#mediaLost.delete(p) && p.connected) {
      this.broadcast(p, 'participantReconnected', { identity: p.identity });
    }
  }

  /** A participant's network audio-only fallback went on or off (here, or at the node their media is on). */
  linkAudioOnly(p: Participant, audioOnly: boolean, direction: LinkDirection): void {
    if (!this.isAdmitted(p)) return;
    this.#logger.info('audio only for the network', { participant: p.identity, audioOnly, direction });
    this.#tellAboutLink(p, 'audioOnlyChanged', { identity: p.identity, audioOnly, reason: 'network', direction });
  }

  /** A newly admitted participant learns the links already known (clinicians: everyone's). */
  #sendLinkStates(to: Participant): void {
    if (!isClinician(to.role)) return;
    for (const p of this.#participants.values()) {
      if (p === to) continue;
      const quality = this.media.links.quality(p);
      if (quality) to.notify('connectionQualityChanged', { identity: p.identity, quality });
      for (const direction of this.media.links.audioOnly(p))
        to.notify('audioOnlyChanged', { identity: p.identity, audioOnly: true, reason: 'network', direction });
    }
  }

  // --- helpers -------------------------------------------------------------

  others(participant: Participant): Participant[] {
    return [...this.#participants.values()].filter((p) => p !== participant);
  }

  broadcast<N extends Notification>(except: Participant | null, name: N, data: NotificationData[N]): void {
    for (const p of this.#participants.values()) if (p !== except) p.notify(name, data);
  }

  #waitingRoomChanged(): void {
    const waiting = this.waitingList();
    for (const p of this.#participants.values()) if (p.can('admit')) p.notify('waitingRoomChanged', { waiting });
  }

  #updateState(): void {
    if (this.consult.updateState([...this.#participants.values()], this.lobby.size)) {
      // --- webhooks: room.started derives from this entry
      if (this.consult.info.state === 'active')
        this.audit.append({ event: 'consult_started', room: this.id, details: { kind: this.consult.kind } });
      this.broadcast(null, 'roomUpdated', { room: this.consult.info });
    }
  }

  /** Snapshot of the media objects, for metrics. */
  counts(): { participants: number; producers: number; consumers: number } {
    let producers = 0;
    let consumers = 0;
    for (const p of this.#participants.values()) {
      producers += p.media.trackCount;
      consumers += p.media.subscriptionCount;
    }
    return { participants: this.#participants.size, producers, consumers };
  }

  /**
   * @param code what the participants are told (e.g. SERVER_SHUTTING_DOWN, MEDIA_ERROR).
   * @param summary for an ended consult: sent along to its clinicians.
   */
  close(reason: string, code: ErrorCode = ErrorCode.ROOM_NOT_FOUND, summary?: ConsultSummary): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of [...this.#participants.values(), ...this.lobby.values()]) {
      // The clinical team leaves an ended consult with its summary in hand.
      const forClinicians = summary && isClinician(p.role) && p.admission === 'admitted' ? { summary } : {};
      p.notify('sessionClosed', { code, reason, ...forClinicians });
      p.close();
    }
    this.#participants.clear();
    this.lobby.clear();
    void this.records.flush();
    void this.vitals.close();
    // --- recording: ends with the room (before the media it captures closes)
    this.recording.close();
    this.remote.close();
    this.media.close();
    this.#logger.info('room closed', { reason });
    this.emit('closed', reason);
  }
}
