/**
 * Who receives which track: creates consumers paused (the client resumes each
 * once its local consumer exists, so the first packets and the key frame are
 * not lost), fans a new track out to every subscriber at once, and applies the
 * subscriber's own choices (paused tile, rendered size, key frame requests).
 */
import type { types } from 'mediasoup';
import { notFound } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import { chooseSpatialLayer } from './layers.js';
import { mediaCall } from './mediaCall.js';
import type { MediaPeer } from './MediaPeer.js';
import type { PublishedTrack, Subscription } from './PeerMedia.js';

/** What the link monitor says about a subscriber's downlink (see LinkMonitor). */
export interface DownlinkPolicy {
  /** Unknown or weak link: new video starts at the lowest layer. */
  startLow(peer: MediaPeer): boolean;
  /** The downlink is on audio only: new video stays paused on the server. */
  videoHeld(peer: MediaPeer): boolean;
}

export class SubscriptionManager {
  readonly #router: types.Router;
  readonly #logger: Logger;
  /** Set by MediaRoom once its link monitor exists. */
  downlink: DownlinkPolicy | undefined;

  constructor(router: types.Router, logger: Logger) {
    this.#router = router;
    this.#logger = logger;
  }

  /**
   * Subscribes everyone in `subscribers` to `track`, concurrently. Never
   * throws: a subscriber that cannot receive it is logged and skipped, so one
   * slow or broken subscriber never holds up the publisher or the others.
   */
  async fanOut(publisher: MediaPeer, track: PublishedTrack, subscribers: Iterable<MediaPeer>): Promise<void> {
    await Promise.all([...subscribers].map((s) => this.#consume(s, publisher, track))).catch((error: unknown) => {
      this.#logger.error('fan-out failed', {
        participant: publisher.identity,
        track: track.producer.id,
        error: error as Error,
      });
    });
  }

  /** Subscribes `subscriber` to everything the `publishers` have published. */
  async catchUp(subscriber: MediaPeer, publishers: Iterable<MediaPeer>): Promise<void> {
    const work: Promise<void>[] = [];
    for (const publisher of publishers) {
      for (const track of publisher.media.tracks()) work.push(this.#consume(subscriber, publisher, track));
    }
    await Promise.all(work);
  }

  async resume(peer: MediaPeer, consumerId: string): Promise<void> {
    const s = this.#subscription(peer, consumerId);
    s.clientResumed = true;
    s.resumedAt = Date.now();
    // The client paused it on purpose (tile hidden), or the link cannot carry it: keep it paused.
    if (s.clientPaused || s.networkPaused) return;
    await mediaCall(() => s.consumer.resume());
  }

  async setPaused(peer: MediaPeer, consumerId: string, paused: boolean): Promise<void> {
    const s = this.#subscription(peer, consumerId);
    s.clientPaused = paused;
    if (!paused && s.networkPaused) return;
    if (!paused) s.resumedAt = Date.now();
    await mediaCall(() => (paused ? s.consumer.pause() : s.consumer.resume()));
  }

  /** Picks the simulcast layer that fits the size the subscriber renders at. */
  async setVideoSize(peer: MediaPeer, consumerId: string, width: number, height: number): Promise<number | null> {
    const s = this.#subscription(peer, consumerId);
    const { consumer, producerScales } = s;
    if (consumer.kind !== 'video' || consumer.type !== 'simulcast') return null;
    const spatialLayer = chooseSpatialLayer(width, height, [...producerScales]);
    s.requestedSpatialLayer = spatialLayer;
    // A weak downlink stays on the lowest layer; the size is applied once the link allows.
    if (this.downlink?.startLow(peer)) return 0;
    await mediaCall(() => consumer.setPreferredLayers({ spatialLayer, temporalLayer: 2 }));
    return spatialLayer;
  }

  async requestKeyFrame(peer: MediaPeer, consumerId: string): Promise<void> {
    const { consumer } = this.#subscription(peer, consumerId);
    await mediaCall(() => consumer.requestKeyFrame());
  }

  #subscription(peer: MediaPeer, consumerId: string): Subscription {
    const s = peer.media.subscription(consumerId);
    if (!s) throw notFound('consumer', consumerId);
    return s;
  }

  async #consume(subscriber: MediaPeer, publisher: MediaPeer, track: PublishedTrack): Promise<void> {
    const { producer } = track;
    const recv = subscriber.media.transport('recv');
    const caps = subscriber.media.rtpCapabilities;
    if (!recv || !caps || subscriber.closed || producer.closed) return;
    // catchUp and fanOut can meet on a track published while the subscriber's capabilities arrived.
    if (subscriber.media.subscribesTo(producer.id)) return;
    if (!subscriber.can('subscribe') || (producer.kind === 'video' && !subscriber.can('subscribeVideo'))) return;
    if (!this.#router.canConsume({ producerId: producer.id, rtpCapabilities: caps })) {
      this.#logger.warn('subscriber cannot decode track', { participant: subscriber.identity, track: producer.id });
      return;
    }
    let consumer: types.Consumer;
    try {
      consumer = await recv.transport.consume({
        producerId: producer.id,
        rtpCapabilities: caps,
        paused: true,
        appData: { identity: subscriber.identity },
      });
    } catch (err) {
      this.#logger.warn('consume failed', {
        participant: subscriber.identity,
        track: producer.id,
        error: err as Error,
      });
      return;
    }
    // The publisher may have closed the track, or either side left, while the consumer was made
    // (produce answers before its fan-out ends): announce nothing for a track that is gone.
    if (subscriber.closed || publisher.closed || producer.closed || consumer.closed) {
      consumer.close();
      return;
    }
    // --- connection quality: audio and signaling first on an unknown or weak downlink.
    const held = producer.kind === 'video' && (this.downlink?.videoHeld(subscriber) ?? false);
    if (consumer.type === 'simulcast' && (this.downlink?.startLow(subscriber) ?? false)) {
      await consumer.setPreferredLayers({ spatialLayer: 0, temporalLayer: 2 }).catch(() => undefined);
    }
    subscriber.media.addSubscription({
      consumer,
      clientPaused: false,
      networkPaused: held,
      // The SDK sends scaleResolutionDownBy with each simulcast encoding.
      producerScales:
        producer.rtpParameters.encodings?.map(
          (e) => (e as { scaleResolutionDownBy?: number }).scaleResolutionDownBy ?? 1,
        ) ?? [],
    });
    consumer.on('transportclose', () => subscriber.media.removeSubscription(consumer.id));
    consumer.on('producerclose', () => {
      if (!subscriber.media.removeSubscription(consumer.id)) return;
      subscriber.notify('consumerClosed', {
        consumerId: consumer.id,
        trackId: producer.id,
        participantIdentity: publisher.identity,
      });
    });
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
      rtpParameters: consumer.rtpParameters,
      producerPaused: consumer.producerPaused,
    });
  }
}
