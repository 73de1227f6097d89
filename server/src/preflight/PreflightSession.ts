/**
 * One pre-call check: a mediasoup router of its own (never a room's, so no
 * room can ever pipe, consume or list it), a send and a recv WebRTC transport,
 * and for each test track the client publishes, a consumer of it on the same
 * connection. Hard limits: the whole loopback ends after `maxDurationMs`, and
 * a client that keeps sending far above `maxBitrate` (ignoring the REMB cap)
 * is cut off.
 */
import type { types } from 'mediasoup';
import type { MediaKind, PreflightEndReason, RequestData, ResponseData } from '@huizhen/protocol';
import { invalidState, notFound } from '../errors.js';
import type { MediaWorker } from '../media/WorkerPool.js';
import type { Logger } from '../observability/logger.js';
import { mediaCall } from '../rooms/media/mediaCall.js';

/** Why a preflight ended: the client's own end or close, or one of the server's reasons. */
export type PreflightEnd = 'ended' | 'closed' | PreflightEndReason;

export interface PreflightLimits {
  maxDurationMs: number;
  maxBitrate: number;
  /** Which ICE candidates to offer (the server's media.iceProtocols); both by default. */
  protocols?: readonly ('udp' | 'tcp')[] | undefined;
}

export interface PreflightSessionEvents {
  /** Called exactly once, after everything is closed. */
  onEnd(reason: PreflightEnd, durationMs: number): void;
}

/** The bitrate check: seconds of sending above this many times `maxBitrate` end the check. */
const OVER_BITRATE_FACTOR = 2;
const OVER_BITRATE_SECONDS = 3;

export class PreflightSession {
  readonly id: string;
  readonly router: types.Router;
  readonly send: types.WebRtcTransport;
  readonly recv: types.WebRtcTransport;
  readonly #limits: PreflightLimits;
  readonly #logger: Logger;
  readonly #events: PreflightSessionEvents;
  readonly #started = performance.now();
  readonly #producers = new Map<MediaKind, types.Producer>();
  readonly #consumers = new Map<string, types.Consumer>();
  readonly #connected = new Set<string>();
  readonly #timer: NodeJS.Timeout;
  readonly #bitrateTimer: NodeJS.Timeout;
  #overBitrate = 0;
  #ended = false;

  private constructor(
    id: string,
    router: types.Router,
    send: types.WebRtcTransport,
    recv: types.WebRtcTransport,
    limits: PreflightLimits,
    logger: Logger,
    events: PreflightSessionEvents,
  ) {
    this.id = id;
    this.router = router;
    this.send = send;
    this.recv = recv;
    this.#limits = limits;
    this.#logger = logger;
    this.#events = events;
    this.#timer = setTimeout(() => this.end('timeLimit'), limits.maxDurationMs);
    this.#bitrateTimer = setInterval(() => void this.#checkBitrate(), 1000);
    router.observer.once('close', () => this.end('mediaError'));
  }

  static async create(
    id: string,
    place: { router: types.Router; worker: MediaWorker },
    limits: PreflightLimits,
    logger: Logger,
    events: PreflightSessionEvents,
  ): Promise<PreflightSession> {
    const { router, worker } = place;
    try {
      const options: types.WebRtcTransportOptions = {
        webRtcServer: worker.webRtcServer,
        enableUdp: limits.protocols?.includes('udp') ?? true,
        enableTcp: limits.protocols?.includes('tcp') ?? true,
        preferUdp: limits.protocols?.includes('udp') ?? true,
        // Start low and let congestion control find the real capacity: that capacity is what the check measures.
        initialAvailableOutgoingBitrate: Math.min(600_000, limits.maxBitrate),
        appData: { preflight: id },
      };
      const send = await router.createWebRtcTransport({ ...options, appData: { preflight: id, direction: 'send' } });
      const recv = await router.createWebRtcTransport({ ...options, appData: { preflight: id, direction: 'recv' } });
      // The cap the client is asked to respect (REMB) and the cap on what the server sends back.
      await send.setMaxIncomingBitrate(limits.maxBitrate);
      await recv.setMaxOutgoingBitrate(limits.maxBitrate);
      return new PreflightSession(id, router, send, recv, limits, logger, events);
    } catch (err) {
      router.close();
      throw err;
    }
  }

  get ended(): boolean {
    return this.#ended;
  }

  get durationMs(): number {
    return Math.round(performance.now() - this.#started);
  }

  #transport(id: string): types.WebRtcTransport {
    if (id === this.send.id) return this.send;
    if (id === this.recv.id) return this.recv;
    throw notFound('transport', id);
  }

  async connect(transportId: string, dtlsParameters: types.DtlsParameters): Promise<void> {
    const transport = this.#transport(transportId);
    if (this.#connected.has(transportId)) throw invalidState('This transport is already connected.');
    this.#connected.add(transportId);
    await mediaCall(() => transport.connect({ dtlsParameters }));
  }

  async produce(
    data: Pick<RequestData<'preflightProduce'>, 'transportId' | 'kind'> & {
      rtpParameters: types.RtpParameters;
      rtpCapabilities: types.RtpCapabilities;
    },
  ): Promise<ResponseData['preflightProduce']> {
    if (this.#ended) throw invalidState('The connection check has ended.');
    if (data.transportId !== this.send.id) throw invalidState('Test tracks are published on the send transport.');
    if (this.#producers.has(data.kind)) throw invalidState(`A ${data.kind} test track is already published.`);
    const producer = await mediaCall(() =>
      this.send.produce({ kind: data.kind, rtpParameters: data.rtpParameters, appData: { preflight: this.id } }),
    );
    this.#producers.set(data.kind, producer);
    if (!this.router.canConsume({ producerId: producer.id, rtpCapabilities: data.rtpCapabilities })) {
      throw invalidState(`This browser cannot receive the ${data.kind} test track it sent.`);
    }
    const consumer = await mediaCall(() =>
      this.recv.consume({
        producerId: producer.id,
        rtpCapabilities: data.rtpCapabilities,
        // The client resumes once its side is ready (then a key frame is sent at once).
        paused: true,
        appData: { preflight: this.id },
      }),
    );
    this.#consumers.set(consumer.id, consumer);
    return {
      producerId: producer.id,
      consumer: {
        consumerId: consumer.id,
        producerId: producer.id,
        kind: consumer.kind,
        rtpParameters: consumer.rtpParameters,
      },
    };
  }

  async resumeConsumer(consumerId: string): Promise<void> {
    const consumer = this.#consumers.get(consumerId);
    if (!consumer) throw notFound('consumer', consumerId);
    await mediaCall(() => consumer.resume());
  }

  async stats(): Promise<ResponseData['preflightStats']> {
    const entries = await Promise.all(
      (
        [
          ['send', this.send],
          ['recv', this.recv],
        ] as const
      ).map(async ([direction, t]) => {
        const [stats] = await t.getStats();
        return { transportId: t.id, direction, ...stats };
      }),
    );
    return { transports: entries };
  }

  /** A client that ignores the cap (REMB) for several seconds loses the check. */
  async #checkBitrate(): Promise<void> {
    if (this.#ended) return;
    try {
      const [stats] = await this.send.getStats();
      if (stats && stats.recvBitrate > this.#limits.maxBitrate * OVER_BITRATE_FACTOR) this.#overBitrate++;
      else this.#overBitrate = 0;
      if (this.#overBitrate >= OVER_BITRATE_SECONDS) {
        this.#logger.warn('preflight client exceeds the bitrate cap', {
          preflight: this.id,
          bitrate: stats?.recvBitrate,
        });
        this.end('bitrateLimit');
      }
    } catch {
      // A transport that is closing has no stats; the end is on its way.
    }
  }

  /** Closes everything (idempotent) and reports why once. */
  end(reason: PreflightEnd): void {
    if (this.#ended) return;
    this.#ended = true;
    clearTimeout(this.#timer);
    clearInterval(this.#bitrateTimer);
    this.router.close();
    this.#events.onEnd(reason, this.durationMs);
  }
}
