/**
 * The baseline: the same mediasoup worker binary forwarding the same load over
 * the same plain transports, driven directly from this process with no
 * Huizhen layer (no tokens, WebSocket, permissions, rooms, metrics). What it
 * does per room mirrors what Huizhen's Room does: consumers are created paused
 * and resumed when the subscriber asks.
 */
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import type {
  ConsumerInfo,
  JoinRequest,
  JoinTiming,
  PlainTransportInfo,
  SfuConnector,
  SfuSession,
  WebRtcTransportInfo,
} from './sfu.js';
import type { SrtpParameters, SrtpSuite } from './rtp/srtp.js';

const CODECS: types.RouterRtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
];

interface BarePeer {
  identity: string;
  transports: Map<string, types.PlainTransport | types.WebRtcTransport>;
  producers: types.Producer[];
  consumers: Map<string, types.Consumer>;
  recv?: types.PlainTransport | types.WebRtcTransport;
  caps?: types.RtpCapabilities;
  session: BareSession;
}

interface BareRoom {
  router: types.Router;
  peers: Map<string, BarePeer>;
}

class BareSession implements SfuSession {
  readonly routerRtpCapabilities: Record<string, unknown>;
  onConsumer: ((c: ConsumerInfo) => void) | undefined;
  onClosed: ((reason: string) => void) | undefined;
  readonly #room: BareRoom;
  readonly #peer: BarePeer;
  readonly #listenIp: string;

  constructor(room: BareRoom, identity: string, listenIp: string) {
    this.#room = room;
    this.#listenIp = listenIp;
    this.routerRtpCapabilities = room.router.rtpCapabilities as unknown as Record<string, unknown>;
    this.#peer = { identity, transports: new Map(), producers: [], consumers: new Map(), session: this };
    room.peers.set(identity, this.#peer);
  }

  async createPlainTransport(direction: 'send' | 'recv', srtp: boolean, suite: SrtpSuite): Promise<PlainTransportInfo> {
    const t = await this.#room.router.createPlainTransport({
      listenInfo: { protocol: 'udp', ip: this.#listenIp },
      rtcpMux: true,
      comedia: direction === 'send',
      enableSrtp: srtp,
      srtpCryptoSuite: suite,
      appData: { direction },
    });
    this.#peer.transports.set(t.id, t);
    if (direction === 'recv') this.#peer.recv = t;
    return {
      id: t.id,
      ip: t.tuple.localAddress,
      port: t.tuple.localPort,
      ...(t.srtpParameters ? { srtpParameters: t.srtpParameters } : {}),
    };
  }

  async createWebRtcTransport(direction: 'send' | 'recv'): Promise<WebRtcTransportInfo> {
    const t = await this.#room.router.createWebRtcTransport({
      listenInfos: [{ protocol: 'udp', ip: this.#listenIp }],
      appData: { direction },
    });
    this.#peer.transports.set(t.id, t);
    if (direction === 'recv') this.#peer.recv = t;
    return {
      id: t.id,
      iceParameters: t.iceParameters,
      iceCandidates: t.iceCandidates,
      dtlsParameters: t.dtlsParameters,
    };
  }

  async connectWebRtcTransport(
    transportId: string,
    dtlsParameters: { role: 'client'; fingerprints: { algorithm: string; value: string }[] },
  ): Promise<void> {
    const t = this.#peer.transports.get(transportId);
    if (!t || t.type !== 'webrtc') throw new Error(`no WebRTC transport ${transportId}`);
    await t.connect({ dtlsParameters: dtlsParameters as types.DtlsParameters });
  }

  async connectPlainTransport(
    transportId: string,
    ip: string,
    port: number,
    srtpParameters?: SrtpParameters,
  ): Promise<void> {
    const t = this.#peer.transports.get(transportId);
    if (!t || t.type !== 'plain') throw new Error(`no plain transport ${transportId}`);
    await t.connect({
      ...(t.appData.direction === 'recv' ? { ip, port } : {}),
      ...(srtpParameters ? { srtpParameters: srtpParameters as types.SrtpParameters } : {}),
    });
  }

  async setRtpCapabilities(caps: Record<string, unknown>): Promise<void> {
    this.#peer.caps = caps as unknown as types.RtpCapabilities;
    for (const other of this.#room.peers.values()) {
      if (other === this.#peer) continue;
      for (const p of other.producers) await this.#consume(this.#peer, other, p);
    }
  }

  async produce(
    transportId: string,
    kind: 'audio' | 'video',
    _source: 'camera' | 'microphone',
    rtpParameters: Record<string, unknown>,
  ): Promise<string> {
    const t = this.#peer.transports.get(transportId);
    if (!t) throw new Error(`no transport ${transportId}`);
    const producer = await t.produce({ kind, rtpParameters: rtpParameters as unknown as types.RtpParameters });
    this.#peer.producers.push(producer);
    for (const other of this.#room.peers.values())
      if (other !== this.#peer) await this.#consume(other, this.#peer, producer);
    return producer.id;
  }

  async #consume(sub: BarePeer, pub: BarePeer, producer: types.Producer): Promise<void> {
    if (!sub.recv || !sub.caps || !this.#room.router.canConsume({ producerId: producer.id, rtpCapabilities: sub.caps }))
      return;
    const consumer = await sub.recv.consume({ producerId: producer.id, rtpCapabilities: sub.caps, paused: true });
    sub.consumers.set(consumer.id, consumer);
    sub.session.onConsumer?.({
      consumerId: consumer.id,
      trackId: producer.id,
      participantIdentity: pub.identity,
      kind: consumer.kind,
      source: producer.kind === 'audio' ? 'microphone' : 'camera',
      rtpParameters: consumer.rtpParameters,
      producerPaused: false,
    });
  }

  async resumeConsumer(consumerId: string): Promise<void> {
    await this.#peer.consumers.get(consumerId)?.resume();
  }

  close(): void {
    for (const t of this.#peer.transports.values()) t.close();
    this.#room.peers.delete(this.#peer.identity);
    if (this.#room.peers.size === 0) this.#room.router.close();
  }
}

export class BareMediasoupConnector implements SfuConnector {
  readonly name = 'bare-mediasoup';
  readonly worker: types.Worker;
  readonly #rooms = new Map<string, BareRoom>();
  readonly #creating = new Map<string, Promise<BareRoom>>();

  private constructor(worker: types.Worker) {
    this.worker = worker;
  }

  static async create(): Promise<BareMediasoupConnector> {
    const worker = await mediasoup.createWorker({ logLevel: 'warn' });
    return new BareMediasoupConnector(worker);
  }

  async #room(id: string): Promise<BareRoom> {
    const existing = this.#rooms.get(id);
    if (existing && !existing.router.closed) return existing;
    let pending = this.#creating.get(id);
    if (!pending) {
      pending = this.worker.createRouter({ mediaCodecs: CODECS }).then((router) => {
        const room = { router, peers: new Map<string, BarePeer>() };
        this.#rooms.set(id, room);
        this.#creating.delete(id);
        return room;
      });
      this.#creating.set(id, pending);
    }
    return pending;
  }

  async connect(req: JoinRequest, timing: JoinTiming): Promise<SfuSession> {
    timing.wsOpenAt = performance.now();
    const r = await this.#room(req.room);
    timing.joinedAt = performance.now();
    return new BareSession(r, req.identity, '127.0.0.1');
  }

  async close(): Promise<void> {
    this.worker.close();
  }
}
