/**
 * One participant's media objects on this node: transports, published tracks
 * and subscriptions, with the state that used to ride in untyped `appData`.
 * Owned by the participant; only the media layer changes it.
 */
import type { types } from 'mediasoup';
import type { TrackInfo, TrackSource } from '@huizhen/protocol';

export type Direction = 'send' | 'recv';

export interface PeerTransport {
  readonly transport: types.WebRtcTransport | types.PlainTransport;
  readonly direction: Direction;
  /** A load generator's plain RTP transport (never offered to browsers). */
  readonly plain: boolean;
  /** Set once `connectTransport` ran: ICE may finish (and DTLS start) before it, so dtlsState cannot tell. */
  connectCalled: boolean;
}

export interface PublishedTrack {
  readonly producer: types.Producer;
  readonly source: TrackSource;
  /** Set when a host muted the track; whether its owner may unmute it. */
  hostMuted?: { allowUnmute: boolean };
}

export interface Subscription {
  readonly consumer: types.Consumer;
  /** The subscriber paused it (tile hidden): resuming after setup must not undo that. */
  clientPaused: boolean;
  /** The publisher's simulcast scale-down factors, lowest layer first, for layer choice. */
  readonly producerScales: readonly number[];
  // --- connection quality
  /** The client asked for it to start (resumeConsumer): consumers are created paused. */
  clientResumed?: boolean;
  /** The server paused it because the subscriber's downlink cannot carry video (not the client's pause). */
  networkPaused?: boolean;
  /** When media last started flowing to the subscriber (resumed), ms: the first key frame takes a moment. */
  resumedAt?: number;
  /** The layer the subscriber's rendered size asked for, restored once the link allows. */
  requestedSpatialLayer?: number;
}

export class PeerMedia {
  readonly #transports = new Map<string, PeerTransport>();
  /** Keyed by producer id (the track id on the wire). */
  readonly #tracks = new Map<string, PublishedTrack>();
  /** Keyed by consumer id. */
  readonly #subscriptions = new Map<string, Subscription>();
  /** The device capabilities; consuming starts once they are known. */
  rtpCapabilities: types.RtpCapabilities | undefined;
  #closed = false;

  get closed(): boolean {
    return this.#closed;
  }

  addTransport(entry: PeerTransport): void {
    this.#transports.set(entry.transport.id, entry);
    (entry.transport as types.Transport).observer.once('close', () => {
      if (this.#transports.get(entry.transport.id) === entry) this.#transports.delete(entry.transport.id);
    });
  }

  transportById(id: string): PeerTransport | undefined {
    return this.#transports.get(id);
  }

  /** The open transport for one direction (there is at most one). */
  transport(direction: Direction): PeerTransport | undefined {
    for (const t of this.#transports.values()) if (t.direction === direction && !t.transport.closed) return t;
    return undefined;
  }

  transports(): IterableIterator<PeerTransport> {
    return this.#transports.values();
  }

  addTrack(track: PublishedTrack): void {
    this.#tracks.set(track.producer.id, track);
    track.producer.observer.once('close', () => this.#tracks.delete(track.producer.id));
  }

  track(id: string): PublishedTrack | undefined {
    return this.#tracks.get(id);
  }

  removeTrack(id: string): void {
    this.#tracks.delete(id);
  }

  trackBySource(source: TrackSource): PublishedTrack | undefined {
    for (const t of this.#tracks.values()) if (t.source === source) return t;
    return undefined;
  }

  tracks(): IterableIterator<PublishedTrack> {
    return this.#tracks.values();
  }

  get trackCount(): number {
    return this.#tracks.size;
  }

  addSubscription(s: Subscription): void {
    this.#subscriptions.set(s.consumer.id, s);
  }

  subscription(consumerId: string): Subscription | undefined {
    return this.#subscriptions.get(consumerId);
  }

  subscriptions(): IterableIterator<Subscription> {
    return this.#subscriptions.values();
  }

  subscribesTo(producerId: string): boolean {
    for (const s of this.#subscriptions.values()) if (s.consumer.producerId === producerId) return true;
    return false;
  }

  /** Returns whether the subscription was still there. */
  removeSubscription(consumerId: string): boolean {
    return this.#subscriptions.delete(consumerId);
  }

  get subscriptionCount(): number {
    return this.#subscriptions.size;
  }

  /**
   * Closes every transport (with its producers and consumers) but stays
   * usable: the session goes on with its media on another node of the cluster.
   */
  reset(): void {
    for (const t of [...this.#transports.values()]) t.transport.close();
    this.#transports.clear();
    this.#tracks.clear();
    this.#subscriptions.clear();
  }

  /** Closes every transport, which closes its producers and consumers with it. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#transports.values()) t.transport.close();
    this.#transports.clear();
    this.#tracks.clear();
    this.#subscriptions.clear();
  }
}

export function trackInfo(t: PublishedTrack): TrackInfo {
  return { trackId: t.producer.id, kind: t.producer.kind, source: t.source, muted: t.producer.paused };
}
