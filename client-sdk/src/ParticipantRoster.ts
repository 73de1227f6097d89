/**
 * Everyone else in the room, and what this client receives from them: remote
 * participants as they join, leave and reconnect; their tracks as consumers
 * are offered, resumed, muted and closed; and who speaks loudest. The Room
 * feeds it notifications and room views; it emits the matching Room events.
 */
import { ConnectionError } from './errors.js';
import type { RoomEngine } from './engine/RoomEngine.js';
import type { Participant, RoomEventCallbacks } from './events.js';
import { errorFields, type Logger } from './logger.js';
import type { MediaSession } from './MediaSession.js';
import type { ConnectOptions } from './options.js';
import type { NotificationData, ParticipantInfo, RoomView } from '@huizhen/protocol';
import { RemoteParticipant } from './RemoteParticipant.js';
import { RemoteTrack } from './tracks.js';

export interface ParticipantRosterHost {
  readonly engine: RoomEngine;
  readonly options: ConnectOptions;
  emit<E extends keyof RoomEventCallbacks>(event: E, ...args: Parameters<RoomEventCallbacks[E]>): void;
  localIdentity(): string;
  /** The local participant, when the active speaker is this client. */
  local(identity: string): Participant | undefined;
  media(): MediaSession | undefined;
  log(): Logger;
}

export class ParticipantRoster {
  readonly #host: ParticipantRosterHost;
  readonly #remote = new Map<string, RemoteParticipant>();
  #activeSpeaker: Participant | null = null;

  constructor(host: ParticipantRosterHost) {
    this.#host = host;
  }

  get remote(): ReadonlyMap<string, RemoteParticipant> {
    return this.#remote;
  }

  get activeSpeaker(): Participant | null {
    return this.#activeSpeaker;
  }

  /** The local or a remote participant with this identity. */
  get(identity: string): Participant | undefined {
    return this.#host.local(identity) ?? this.#remote.get(identity);
  }

  /** At join or admission: everyone the view lists, without events (the app reads them). */
  addFromView(view: RoomView): void {
    const self = this.#host.localIdentity();
    for (const info of view.participants) {
      if (info.identity !== self && !this.#remote.has(info.identity))
        this.#remote.set(info.identity, new RemoteParticipant(info));
    }
  }

  /** Every remote track (for `startMedia`). */
  tracks(): RemoteTrack[] {
    return [...this.#remote.values()].flatMap((p) => [...p.tracks.values()]);
  }

  /** Back in the lobby: everyone is gone from view. */
  leaveAll(): void {
    for (const identity of [...this.#remote.keys()]) this.left(identity, 'disconnected');
  }

  /** The media session is gone: every track ends (not unpublished: the senders may still be there). */
  unsubscribeAll(): void {
    for (const participant of this.#remote.values()) {
      for (const track of [...participant.tracks.values()]) this.#unsubscribe(participant, track, false);
    }
  }

  clear(): void {
    this.#remote.clear();
  }

  /**
   * Makes the participants match a view the server sent after a reconnect.
   * Notifications replayed after it may repeat some of this; each handler
   * ignores what is already in place. The view also covers notifications lost
   * in the socket that died before the server noticed.
   */
  reconcile(view: RoomView): void {
    const self = this.#host.localIdentity();
    const present = new Map(view.participants.filter((p) => p.identity !== self).map((p) => [p.identity, p]));
    for (const identity of [...this.#remote.keys()]) {
      if (!present.has(identity)) this.left(identity, 'disconnected');
    }
    for (const info of present.values()) {
      const participant = this.#remote.get(info.identity);
      if (!participant || participant.joinedAt !== info.joinedAt) {
        // New, or the same person on a new session (which replaced the old one).
        this.joined(info);
        continue;
      }
      for (const gone of participant._syncPublished(info.tracks)) this.#unsubscribe(participant, gone, true);
      for (const track of info.tracks) this.trackMuted(info.identity, track.trackId, track.muted);
    }
  }

  joined(info: ParticipantInfo): void {
    if (info.identity === this.#host.localIdentity()) return;
    const existing = this.#remote.get(info.identity);
    // Already known from a reconnect's room view, and this is the replay of the same join.
    if (existing && existing.joinedAt === info.joinedAt) return;
    // The same identity rejoining (e.g. from a new device) replaces the old entry.
    if (existing) this.left(info.identity, 'disconnected');
    const participant = new RemoteParticipant(info);
    this.#remote.set(info.identity, participant);
    this.#host.log().debug('participant joined', { identity: info.identity });
    this.#host.emit('participantJoined', participant);
  }

  left(identity: string, reason: NotificationData['participantLeft']['reason']): void {
    const participant = this.#remote.get(identity);
    if (!participant) return;
    for (const track of [...participant.tracks.values()]) this.#unsubscribe(participant, track, true);
    this.#remote.delete(identity);
    if (this.#activeSpeaker === participant) this.setActiveSpeaker(null, true);
    this.#host.log().debug('participant left', { identity, reason });
    this.#host.emit('participantLeft', participant, reason);
  }

  reconnecting(identity: string, reconnecting: boolean): void {
    const participant = this.#remote.get(identity);
    if (!participant?._setReconnecting(reconnecting)) return;
    this.#host.emit(reconnecting ? 'participantReconnecting' : 'participantReconnected', participant);
  }

  async consumerCreated(data: NotificationData['consumerCreated']): Promise<void> {
    const epoch = this.#host.engine.epoch;
    const participant = this.#remote.get(data.participantIdentity);
    const media = this.#host.media();
    const signal = this.#host.engine.signal;
    if (!participant || !media || !signal) {
      this.#host.log().warn('track offered for an unknown participant', {
        identity: data.participantIdentity,
        trackId: data.trackId,
      });
      return;
    }
    // Replayed after a reconnect, for a track already received.
    if (participant.getTrackByConsumerId(data.consumerId)) return;
    const log = this.#host.log().child({
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
      this.#host.emit(
        'trackSubscriptionFailed',
        data.trackId,
        participant,
        error instanceof Error ? error : new Error(String(error)),
      );
      return;
    }
    const autoSubscribe = this.#host.options.autoSubscribe !== false;
    if (autoSubscribe) {
      for (let attempt = 0; ; attempt++) {
        try {
          await signal.request('resumeConsumer', { consumerId: data.consumerId });
          break;
        } catch (error) {
          // The connection dropped mid-way; the server keeps the consumer, so try again once resumed.
          if (attempt === 0 && error instanceof ConnectionError && this.#host.engine.state === 'reconnecting') {
            await this.#host.engine.whenReconnected();
            if (this.#host.engine.isCurrent(epoch)) continue;
          }
          consumer.close();
          if (!this.#host.engine.isCurrent(epoch)) return;
          log.warn('could not resume track', errorFields(error));
          this.#host.emit('trackSubscriptionFailed', data.trackId, participant, error as Error);
          return;
        }
      }
    } else {
      consumer.pause();
    }
    if (!this.#host.engine.isCurrent(epoch) || this.#remote.get(participant.identity) !== participant) {
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
        this.#host.options.videoSizeDebounceMs === undefined
          ? undefined
          : { debounceMs: this.#host.options.videoSizeDebounceMs },
    });
    track.on('playbackBlocked', (element) => this.#host.emit('mediaPlaybackBlocked', track, element));
    participant._addTrack(track);
    log.debug('track subscribed', { kind: track.kind, source: track.source });
    this.#host.emit('trackSubscribed', track, participant);
  }

  consumerClosed(data: NotificationData['consumerClosed']): void {
    const participant = this.#remote.get(data.participantIdentity);
    const track = participant?.getTrackByConsumerId(data.consumerId);
    if (!participant || !track) return;
    this.#unsubscribe(participant, track, true);
  }

  #unsubscribe(participant: RemoteParticipant, track: RemoteTrack, unpublished: boolean): void {
    participant._removeTrack(track, unpublished);
    this.#host.emit('trackUnsubscribed', track, participant);
    track._end();
  }

  trackMuted(identity: string, trackId: string, muted: boolean): void {
    const participant = this.#remote.get(identity);
    if (!participant) return;
    const track = participant._setTrackMuted(trackId, muted);
    if (track) this.#host.emit(muted ? 'trackMuted' : 'trackUnmuted', track, participant);
  }

  layersChanged(data: NotificationData['consumerLayersChanged']): void {
    for (const participant of this.#remote.values()) {
      const track = participant.getTrackByConsumerId(data.consumerId);
      if (track) {
        track._setLayers({ spatialLayer: data.spatialLayer, temporalLayer: data.temporalLayer });
        return;
      }
    }
  }

  setActiveSpeaker(speaker: Participant | null, emit: boolean): void {
    if (this.#activeSpeaker === speaker) return;
    this.#activeSpeaker?._setSpeaking(false);
    this.#activeSpeaker = speaker;
    speaker?._setSpeaking(true);
    if (emit) this.#host.emit('activeSpeakerChanged', speaker);
  }
}
