/**
 * The publishers of a room whose media terminates at another node, as this
 * node's router sees them: each imported producer (a pipe copy, same id as at
 * its source) sits under its publisher's identity, so the subscription
 * manager fans it out and catches late subscribers up exactly as it does a
 * local track, and subscribers get the same `consumerCreated` with the
 * publisher's identity and the track's source.
 *
 * A remote publisher is never a subscriber here (it receives on its own node),
 * so it can do nothing but publish, and is told nothing.
 */
import type { types } from 'mediasoup';
import type { TrackSource } from '@huizhen/protocol';
import type { Permission } from '../../auth/permissions.js';
import type { MediaPeer } from './MediaPeer.js';
import { PeerMedia, type PublishedTrack } from './PeerMedia.js';

const SOURCES: ReadonlySet<string> = new Set<TrackSource>(['camera', 'microphone', 'screen', 'screenAudio']);

class RemotePublisher implements MediaPeer {
  readonly media = new PeerMedia();
  readonly loadTest = false;
  readonly remoteIp = undefined;
  #closed = false;

  constructor(readonly identity: string) {}

  get closed(): boolean {
    return this.#closed;
  }

  can(_permission: Permission): boolean {
    return false;
  }

  notify(): void {
    // Its own node tells it about its media.
  }

  close(): void {
    this.#closed = true;
    this.media.close();
  }
}

export class RemotePublishers {
  readonly #byIdentity = new Map<string, RemotePublisher>();

  /**
   * Files an imported producer under the publisher its source node tagged it
   * with. Returns undefined for a producer without a usable tag (it is closed).
   */
  add(producer: types.Producer): { peer: MediaPeer; track: PublishedTrack } | undefined {
    const { identity, source } = producer.appData as { identity?: unknown; source?: unknown };
    if (typeof identity !== 'string' || typeof source !== 'string' || !SOURCES.has(source)) {
      producer.close();
      return undefined;
    }
    let peer = this.#byIdentity.get(identity);
    if (!peer || peer.closed) {
      peer = new RemotePublisher(identity);
      this.#byIdentity.set(identity, peer);
    }
    const track: PublishedTrack = { producer, source: source as TrackSource };
    peer.media.addTrack(track);
    const owner = peer;
    producer.observer.once('close', () => {
      // The publisher's last track here is gone: forget them (a new one files them again).
      if ([...owner.media.tracks()].length === 0 && this.#byIdentity.get(identity) === owner) {
        this.#byIdentity.delete(identity);
        owner.close();
      }
    });
    return { peer, track };
  }

  /** Every remote publisher with tracks here, for a subscriber catching up. */
  peers(): MediaPeer[] {
    return [...this.#byIdentity.values()];
  }

  /** The remote publisher's tracks here (e.g. to show on their participant info). */
  tracksOf(identity: string): PublishedTrack[] {
    const peer = this.#byIdentity.get(identity);
    return peer ? [...peer.media.tracks()] : [];
  }

  close(): void {
    for (const peer of this.#byIdentity.values()) peer.close();
    this.#byIdentity.clear();
  }
}
