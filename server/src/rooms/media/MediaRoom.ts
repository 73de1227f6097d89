/**
 * A room's media on this node: one mediasoup router, the active-speaker
 * observer, WebRTC transports, producers and (through SubscriptionManager)
 * consumers.
 *
 * The interface to the room's workflow is deliberately narrow, because the
 * workflow (lobby, host controls, chat, records) and the media may live on
 * different nodes once rooms span nodes:
 *   - the workflow hands in `MediaPeer`s (identity, permissions, notify, media
 *     state) and decides who is in the room; this class never looks at
 *     admission, roles or records;
 *   - calls: createTransport / connectTransport / restartIce, produce (returns
 *     at once; subscribers are set up after), closeProducer, setProducerPaused,
 *     hostPause, setRtpCapabilities, `subscriptions.*`, getStats, close;
 *   - events: `activeSpeaker(identity)` and `closed()` (the router or its
 *     worker went away).
 * Authorization (is this peer admitted, may it do X) happens before a call
 * reaches here; the checks left here are about media state only.
 */
import type { types } from 'mediasoup';
import { ErrorCode, TypedEmitter, type MediaKind, type ResponseData, type TrackSource } from '@huizhen/protocol';
import { HuizhenError, invalidState, notFound, permissionDenied } from '../../errors.js';
import type { IssuedIceServers, TurnCredentials, TurnSubject } from '../../media/turnCredentials.js';
import type { MediaWorker, WorkerPool } from '../../media/WorkerPool.js';
import type { Logger } from '../../observability/logger.js';
import { mediaCall } from './mediaCall.js';
import type { MediaPeer } from './MediaPeer.js';
import type { Direction, PeerTransport, PublishedTrack } from './PeerMedia.js';
import { SubscriptionManager } from './SubscriptionManager.js';
import { LinkMonitor, RECV_START_BITRATE } from './LinkMonitor.js';

export interface MediaRoomOptions {
  maxIncomingBitrate: number;
  initialOutgoingBitrate: number;
  // --- TURN and ICE transports
  /** Which ICE candidates transports offer; both by default. */
  iceProtocols?: readonly ('udp' | 'tcp')[];
  /** Issues TURN credentials; absent when the server has no TURN. */
  turn?: TurnCredentials;
  // --- data channels
  /** SCTP on WebRTC transports whose client sends sctpCapabilities; absent: no data channels. */
  sctp?: { numStreams: { OS: number; MIS: number }; maxMessageSize: number };
}

export interface MediaRoomEvents {
  /** The loudest speaker changed (null: nobody speaks). */
  activeSpeaker: (identity: string | null) => void;
  /** The router closed underneath the room (its worker died). */
  closed: () => void;
  // --- recording
  /**
   * A track was published (its producer's `observer` tells when it closes).
   * `imported`: published on another node of the room and piped here.
   */
  trackPublished: (track: PublishedTrack, identity: string, imported: boolean) => void;
}

export interface ProduceRequest {
  transportId: string;
  kind: MediaKind;
  source: TrackSource;
  rtpParameters: types.RtpParameters;
  paused?: boolean;
}

const SOURCE_KIND: Record<TrackSource, MediaKind> = {
  camera: 'video',
  microphone: 'audio',
  screen: 'video',
  screenAudio: 'audio',
};

export class MediaRoom extends TypedEmitter<MediaRoomEvents> {
  readonly router: types.Router;
  readonly worker: MediaWorker;
  readonly subscriptions: SubscriptionManager;
  /** Connection quality and the network audio-only fallback of every peer (started by the room). */
  readonly links: LinkMonitor;
  readonly #speakerObserver: types.ActiveSpeakerObserver;
  readonly #options: MediaRoomOptions;
  readonly #logger: Logger;
  // --- recording: every open track of the room, so a recorder can start on those already published.
  readonly #published = new Map<string, { track: PublishedTrack; identity: string }>();

  private constructor(
    router: types.Router,
    worker: MediaWorker,
    speakerObserver: types.ActiveSpeakerObserver,
    options: MediaRoomOptions,
    logger: Logger,
  ) {
    super({
      onListenerError: (error, event) => logger.error('media listener failed', { event, error: error as Error }),
    });
    this.router = router;
    this.worker = worker;
    this.#speakerObserver = speakerObserver;
    this.#options = options;
    this.#logger = logger;
    this.subscriptions = new SubscriptionManager(router, logger);
    this.links = new LinkMonitor(logger);
    this.subscriptions.downlink = this.links;
    speakerObserver.on('dominantspeaker', ({ producer }) => {
      this.emit('activeSpeaker', typeof producer.appData.identity === 'string' ? producer.appData.identity : null);
    });
    router.observer.once('close', () => {
      this.links.stop();
      this.emit('closed');
    });
  }

  static async create(roomId: string, pool: WorkerPool, options: MediaRoomOptions, logger: Logger): Promise<MediaRoom> {
    const { router, worker } = await pool.createRouter({ room: roomId });
    try {
      const speakerObserver = await router.createActiveSpeakerObserver({ interval: 300 });
      return new MediaRoom(router, worker, speakerObserver, options, logger);
    } catch (err) {
      router.close();
      throw err;
    }
  }

  get rtpCapabilities(): types.RtpCapabilities {
    return this.router.rtpCapabilities;
  }

  // --- TURN and ICE transports
  /** Fresh TURN servers for a participant (none when the server has no TURN). */
  iceServersFor(subject: TurnSubject): Partial<Pick<IssuedIceServers, 'iceServers' | 'iceServersExpireIn'>> {
    const issued = this.#options.turn?.issue(subject);
    return issued ? { iceServers: issued.iceServers, iceServersExpireIn: issued.iceServersExpireIn } : {};
  }

  #offers(protocol: 'udp' | 'tcp'): boolean {
    return this.#options.iceProtocols?.includes(protocol) ?? true;
  }

  // --- transports -----------------------------------------------------------

  async createTransport(
    peer: MediaPeer,
    direction: Direction,
    sctpCapabilities?: types.SctpCapabilities,
  ): Promise<ResponseData['createTransport']> {
    const publishes = peer.can('publishAudio') || peer.can('publishVideo') || peer.can('publishScreen');
    if (direction === 'send' && !publishes && !peer.can('data')) {
      throw permissionDenied('publish media');
    }
    if (direction === 'recv' && !peer.can('subscribe')) throw permissionDenied('receive media');
    // One transport per direction: a new one (e.g. after ICE failed for good) replaces the old.
    peer.media.transport(direction)?.transport.close();
    // Data channels: never more streams than the client can take.
    const sctp = this.#options.sctp;
    const sctpOptions =
      sctp && sctpCapabilities
        ? {
            enableSctp: true,
            numSctpStreams: {
              OS: Math.min(sctp.numStreams.OS, sctpCapabilities.numStreams.MIS),
              MIS: Math.min(sctp.numStreams.MIS, sctpCapabilities.numStreams.OS),
            },
            maxSctpMessageSize: sctp.maxMessageSize,
          }
        : {};
    const transport = await this.router.createWebRtcTransport({
      ...sctpOptions,
      webRtcServer: this.worker.webRtcServer,
      enableUdp: this.#offers('udp'),
      enableTcp: this.#offers('tcp'),
      preferUdp: this.#offers('udp'),
      // Towards a receiver whose link is not known yet, start low (see RECV_START_BITRATE).
      initialAvailableOutgoingBitrate:
        direction === 'recv'
          ? Math.min(this.#options.initialOutgoingBitrate, RECV_START_BITRATE)
          : this.#options.initialOutgoingBitrate,
      appData: { direction, identity: peer.identity },
    });
    this.adopt(peer, { transport, direction, plain: false, connectCalled: false });
    transport.on('dtlsstatechange', (state) => {
      if (state === 'failed' || state === 'closed')
        this.#logger.warn('transport DTLS state', { participant: peer.identity, transport: transport.id, state });
    });
    if (direction === 'send') {
      await transport.setMaxIncomingBitrate(this.#options.maxIncomingBitrate).catch(() => undefined);
    } else {
      await this.links.prepareRecvTransport(peer, transport);
    }
    return {
      id: transport.id,
      iceParameters: transport.iceParameters,
      iceCandidates: transport.iceCandidates,
      dtlsParameters: transport.dtlsParameters,
      ...(transport.sctpParameters ? { sctpParameters: transport.sctpParameters } : {}),
    };
  }

  /** Gives a new transport to its peer, unless the peer went away while it was being made. */
  adopt(peer: MediaPeer, entry: PeerTransport): void {
    if (peer.closed) {
      entry.transport.close();
      throw invalidState('The session closed while the transport was being created.');
    }
    peer.media.addTransport(entry);
  }

  transport(peer: MediaPeer, id: string): PeerTransport {
    const t = peer.media.transportById(id);
    if (!t) throw notFound('transport', id);
    return t;
  }

  #webRtcTransport(peer: MediaPeer, id: string): PeerTransport & { transport: types.WebRtcTransport } {
    const t = this.transport(peer, id);
    if (t.plain) throw invalidState('This is a plain RTP transport.');
    return t as PeerTransport & { transport: types.WebRtcTransport };
  }

  async connectTransport(peer: MediaPeer, transportId: string, dtlsParameters: types.DtlsParameters): Promise<void> {
    const t = this.#webRtcTransport(peer, transportId);
    if (t.connectCalled) throw invalidState('This transport is already connected.');
    t.connectCalled = true;
    await mediaCall(() => t.transport.connect({ dtlsParameters }));
  }

  async restartIce(peer: MediaPeer, transportId: string): Promise<ResponseData['restartIce']> {
    const t = this.#webRtcTransport(peer, transportId);
    const iceParameters = await mediaCall(() => t.transport.restartIce());
    return { iceParameters };
  }

  // --- publishing -----------------------------------------------------------

  /**
   * Publishes a track and answers at once; `subscribers` get it right after,
   * concurrently, so the publisher never waits on the room's size.
   */
  async produce(peer: MediaPeer, request: ProduceRequest, subscribers: () => Iterable<MediaPeer>): Promise<string> {
    const { kind, source } = request;
    if (SOURCE_KIND[source] !== kind)
      throw new HuizhenError(
        ErrorCode.INVALID_REQUEST,
        `A ${source} track must be ${SOURCE_KIND[source]}, not ${kind}.`,
      );
    const needed = source === 'camera' ? 'publishVideo' : source === 'microphone' ? 'publishAudio' : 'publishScreen';
    if (!peer.can(needed)) throw permissionDenied(`publish ${source}`);
    const t = this.transport(peer, request.transportId);
    if (t.direction !== 'send') throw invalidState('Tracks are published on the send transport.');
    if (peer.media.trackBySource(source)) throw invalidState(`A ${source} track is already published; close it first.`);

    const producer = await mediaCall(() =>
      t.transport.produce({
        kind,
        rtpParameters: request.rtpParameters,
        paused: request.paused ?? false,
        appData: { identity: peer.identity, source },
      }),
    );
    if (peer.closed || this.router.closed) {
      producer.close();
      throw invalidState('The session closed while the track was being published.');
    }
    const track: PublishedTrack = { producer, source };
    peer.media.addTrack(track);
    // --- recording
    this.#published.set(producer.id, { track, identity: peer.identity });
    producer.observer.once('close', () => this.#published.delete(producer.id));
    this.emit('trackPublished', track, peer.identity, false);
    if (kind === 'audio') await this.#speakerObserver.addProducer({ producerId: producer.id }).catch(() => undefined);
    this.#logger.info('track published', { participant: peer.identity, track: producer.id, source, kind });
    void this.subscriptions.fanOut(peer, track, subscribers());
    return producer.id;
  }

  closeProducer(peer: MediaPeer, producerId: string): void {
    const track = this.#track(peer, producerId);
    track.producer.close();
    peer.media.removeTrack(producerId);
    this.#logger.info('track unpublished', { participant: peer.identity, track: producerId });
  }

  /** The owner mutes or unmutes. Returns whether the track's state changed. */
  async setProducerPaused(peer: MediaPeer, producerId: string, paused: boolean): Promise<boolean> {
    const track = this.#track(peer, producerId);
    if (!paused && track.hostMuted) {
      if (!track.hostMuted.allowUnmute)
        throw new HuizhenError(ErrorCode.PERMISSION_DENIED, 'A host muted this track; only they can let you unmute.');
      track.hostMuted = undefined;
    }
    if (track.producer.paused === paused) return false;
    await mediaCall(() => (paused ? track.producer.pause() : track.producer.resume()));
    return true;
  }

  /** A host pauses a peer's track. Returns the track and whether it was playing until now. */
  async hostPause(
    peer: MediaPeer,
    source: TrackSource,
    allowUnmute: boolean,
  ): Promise<{ track: PublishedTrack; changed: boolean } | undefined> {
    const track = peer.media.trackBySource(source);
    if (!track) return undefined;
    track.hostMuted = { allowUnmute };
    if (track.producer.paused) return { track, changed: false };
    await mediaCall(() => track.producer.pause());
    return { track, changed: true };
  }

  #track(peer: MediaPeer, id: string): PublishedTrack {
    const t = peer.media.track(id);
    if (!t) throw notFound('track', id);
    return t;
  }

  // --- cluster
  /**
   * A track of a participant on another node, piped to this router: it is
   * recorded and heard by the active-speaker observer like a local one.
   */
  adoptImported(track: PublishedTrack, identity: string): void {
    const { producer } = track;
    this.#published.set(producer.id, { track, identity });
    producer.observer.once('close', () => this.#published.delete(producer.id));
    this.emit('trackPublished', track, identity, true);
    if (producer.kind === 'audio')
      void this.#speakerObserver.addProducer({ producerId: producer.id }).catch(() => undefined);
  }

  /** The open tracks published on this node (not those piped in from other nodes). */
  localTracks(): PublishedTrack[] {
    return this.publishedTracks()
      .map(({ track }) => track)
      .filter((t) => (t.producer.appData as { fromNode?: unknown }).fromNode === undefined);
  }

  // --- recording
  /** The room's open tracks with their publishers, for a recorder starting mid-call. */
  publishedTracks(): { track: PublishedTrack; identity: string }[] {
    return [...this.#published.values()].filter(({ track }) => !track.producer.closed);
  }

  // --- subscribing ----------------------------------------------------------

  /** Stores the device capabilities and, the first time, subscribes to everything `publishers` have. */
  async setRtpCapabilities(
    peer: MediaPeer,
    rtpCapabilities: types.RtpCapabilities,
    publishers: Iterable<MediaPeer>,
  ): Promise<void> {
    if (!peer.can('subscribe')) throw permissionDenied('receive media');
    const first = peer.media.rtpCapabilities === undefined;
    peer.media.rtpCapabilities = rtpCapabilities;
    if (first) await this.subscriptions.catchUp(peer, publishers);
  }

  async getStats(peer: MediaPeer): Promise<ResponseData['getStats']> {
    const transports = await Promise.all(
      [...peer.media.transports()].map(async (t) => {
        const [stats] = await t.transport.getStats();
        return { transportId: t.transport.id, direction: t.direction, ...stats };
      }),
    );
    return { transports };
  }

  close(): void {
    this.links.stop();
    this.router.close();
  }
}
