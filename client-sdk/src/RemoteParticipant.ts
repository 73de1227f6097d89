/**
 * Another participant in the room, as this client sees them: who they are,
 * what they publish, and the tracks this client receives from them.
 */
import type { ParticipantEventCallbacks } from './events.js';
import type { ParticipantInfo, Role, TrackInfo, TrackSource } from '@huizhen/protocol';
import type { RemoteTrack } from './tracks.js';
import { TypedEmitter, type ConnectionQuality, type LinkDirection } from '@huizhen/protocol';
import { LinkState, type ParticipantQuality } from './LinkState.js';

/** Another participant in the room: who they are, the tracks this client receives from them, and their connection state. */
export class RemoteParticipant extends TypedEmitter<ParticipantEventCallbacks> {
  /** Stable id of the participant within the room (from their token). */
  readonly identity: string;
  /** Display name. */
  readonly name: string;
  /** Role in the consult (doctor, patient, specialist, ...). */
  readonly role: Role;
  /** When they joined (ms since the epoch, server clock). */
  readonly joinedAt: number;
  readonly #tracks = new Map<string, RemoteTrack>();
  readonly #published = new Map<string, TrackInfo>();
  #isSpeaking = false;
  #reconnecting = false;
  readonly #link = new LinkState();

  /** @internal Created by Room from the server's participant info. */
  constructor(info: ParticipantInfo) {
    super();
    this.identity = info.identity;
    this.name = info.name;
    this.role = info.role;
    this.joinedAt = info.joinedAt;
    for (const track of info.tracks) this.#published.set(track.trackId, { ...track });
  }

  /** Tracks this client receives from the participant, by track id. */
  get tracks(): ReadonlyMap<string, RemoteTrack> {
    return this.#tracks;
  }

  /**
   * Everything the participant publishes, by track id, as the server last
   * described it, including tracks not (yet) received here.
   */
  get publishedTracks(): ReadonlyMap<string, Readonly<TrackInfo>> {
    return this.#published;
  }

  /** Whether the participant is the room's active speaker. */
  get isSpeaking(): boolean {
    return this.#isSpeaking;
  }

  /** True while their connection is dropped and the server keeps their place. */
  get isReconnecting(): boolean {
    return this.#reconnecting;
  }

  // --- connection quality

  /** How well their link carries media, as the server measures it ('unknown' until measured; clinicians only see others'). */
  get connectionQuality(): ParticipantQuality {
    return this.#link.quality;
  }

  /** True while video to or from them is stopped because their network cannot carry it (audio goes on). */
  get audioOnly(): boolean {
    return this.#link.audioOnly;
  }

  /** 'uplink': they stopped sending video; 'downlink': they receive no video. */
  get audioOnlyDirections(): LinkDirection[] {
    return this.#link.audioOnlyDirections;
  }

  /** @internal Returns whether it changed. */
  _setConnectionQuality(quality: ConnectionQuality): boolean {
    if (!this.#link.setQuality(quality)) return false;
    this.emit('connectionQualityChanged', quality);
    return true;
  }

  /** @internal Returns whether it changed. */
  _setAudioOnly(direction: LinkDirection, audioOnly: boolean): boolean {
    if (!this.#link.setAudioOnly(direction, audioOnly)) return false;
    this.emit('audioOnlyChanged', audioOnly, direction);
    return true;
  }

  /** The received track of `source` (e.g. 'camera'), if any. */
  getTrack(source: TrackSource): RemoteTrack | undefined {
    for (const track of this.#tracks.values()) if (track.source === source) return track;
    return undefined;
  }

  /** The received track with this consumer id, if any. */
  getTrackByConsumerId(consumerId: string): RemoteTrack | undefined {
    for (const track of this.#tracks.values()) if (track.consumerId === consumerId) return track;
    return undefined;
  }

  /** @internal */
  _addTrack(track: RemoteTrack): void {
    this.#tracks.set(track.trackId, track);
    this.#published.set(track.trackId, {
      trackId: track.trackId,
      kind: track.kind,
      source: track.source,
      muted: track.muted,
    });
    this.emit('trackSubscribed', track);
  }

  /** @internal Forgets a received track; `unpublished` also drops it from `publishedTracks`. */
  _removeTrack(track: RemoteTrack, unpublished: boolean): void {
    if (this.#tracks.get(track.trackId) !== track) return;
    this.#tracks.delete(track.trackId);
    if (unpublished) this.#published.delete(track.trackId);
    this.emit('trackUnsubscribed', track);
  }

  /** @internal Records a mute change; returns the received track if there is one. */
  _setTrackMuted(trackId: string, muted: boolean): RemoteTrack | undefined {
    const info = this.#published.get(trackId);
    if (info) info.muted = muted;
    const track = this.#tracks.get(trackId);
    if (track?._setMuted(muted)) {
      this.emit(muted ? 'trackMuted' : 'trackUnmuted', track);
      return track;
    }
    return undefined;
  }

  /** @internal Returns whether it changed. */
  _setReconnecting(reconnecting: boolean): boolean {
    if (this.#reconnecting === reconnecting) return false;
    this.#reconnecting = reconnecting;
    this.emit(reconnecting ? 'reconnecting' : 'reconnected');
    return true;
  }

  /**
   * @internal Takes the server's current list of their tracks (after this
   * client reconnected). Returns the received tracks that are no longer
   * published, for the Room to unsubscribe.
   */
  _syncPublished(tracks: readonly TrackInfo[]): RemoteTrack[] {
    this.#published.clear();
    for (const info of tracks) this.#published.set(info.trackId, { ...info });
    return [...this.#tracks.values()].filter((t) => !this.#published.has(t.trackId));
  }

  /** @internal */
  _setSpeaking(speaking: boolean): void {
    if (this.#isSpeaking === speaking) return;
    this.#isSpeaking = speaking;
    this.emit('isSpeakingChanged', speaking);
  }
}
