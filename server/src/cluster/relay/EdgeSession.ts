/**
 * A participant whose signaling arrived at this node (the edge) in a room
 * homed on another node. Their media terminates here, on the edge's router
 * for the room: this object is their MediaPeer for it. Their workflow (who
 * they are in the room, admission, chat, records, host controls) lives at the
 * home as an ordinary Participant; this session relays those requests there
 * and passes the home's notifications on to the client, after checking them
 * against the client protocol like anything else that crosses a boundary.
 */
import type { types } from 'mediasoup';
import {
  ErrorCode,
  isNotification,
  parseNotification,
  parseResponse,
  type Method,
  type Notification,
  type NotificationData,
  type RequestData,
  type ResponseData,
} from '@huizhen/protocol';
import type { Permission } from '../../auth/permissions.js';
import { HuizhenError, invalidState, notFound, permissionDenied } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { MediaPeer } from '../../rooms/media/MediaPeer.js';
import { PeerMedia } from '../../rooms/media/PeerMedia.js';
import { connectPlainTransport, createPlainTransport } from '../../rooms/media/LoadTestTransports.js';
import { mediaCall } from '../../rooms/media/mediaCall.js';
import {
  MAX_PRODUCERS_PER_PEER,
  channelInfo,
  dataRecvTransport,
  dataSendTransport,
  isReliable,
  receiveOptions,
} from '../../rooms/data/dataTransports.js';
import type { NotificationSink } from '../../rooms/Participant.js';
import { EDGE_MEDIA_METHODS, HOME_ONLY_METHODS } from './edgeMethods.js';
import type { DataIn, EdgeRoom } from './EdgeRoom.js';

/** The client's side of an edge session: its signaling connection. */
export interface EdgeClient {
  readonly sink: NotificationSink;
  /** A newer connection resumed this session (here or on another node). */
  superseded(): void;
}

const EMPTY = {} as Record<string, never>;

/** The room's data channels to this session: what came down the home's pipe, and the client's consumers of it. */
interface Receiving {
  transportId: string;
  from: DataIn[];
  consumers: types.DataConsumer[];
  answer: ResponseData['subscribeData'];
}

export class EdgeSession implements MediaPeer {
  readonly identity: string;
  readonly sessionId: string;
  readonly media = new PeerMedia();
  /** May use plain-RTP transports (the load generator, with loadTest.enabled). */
  readonly loadTest: boolean;
  readonly remoteIp: string | undefined;
  #permissions: ReadonlySet<Permission>;
  #admitted: boolean;
  #client: EdgeClient | undefined;
  readonly #issuer: string;
  #tokenExpiresAt: number;
  #graceTimer: NodeJS.Timeout | undefined;
  /** Notifications held until the client has the join answer (see hold). */
  #held: { name: string; data: unknown; seq: number | null }[] | undefined = [];
  #closed = false;
  /** The client's DataProducers (each piped to the home), by id. */
  readonly #dataOut = new Map<string, types.DataProducer>();
  #receiving: Receiving | undefined;
  readonly #room: EdgeRoom;
  readonly #logger: Logger;

  constructor(
    room: EdgeRoom,
    joined: ResponseData['join'],
    claims: { issuer: string; expiresAt: number; loadTest: boolean },
    remoteIp: string | undefined,
    logger: Logger,
  ) {
    this.#issuer = claims.issuer;
    this.loadTest = claims.loadTest;
    this.#tokenExpiresAt = claims.expiresAt;
    this.#room = room;
    this.identity = joined.participant.identity;
    this.sessionId = joined.sessionId;
    this.#permissions = new Set(joined.permissions as Permission[]);
    this.#admitted = joined.admission === 'admitted';
    this.remoteIp = remoteIp;
    this.#logger = logger.child({ participant: this.identity });
  }

  get closed(): boolean {
    return this.#closed;
  }

  get admitted(): boolean {
    return this.#admitted && !this.#closed;
  }

  can(permission: Permission): boolean {
    return this.#permissions.has(permission);
  }

  /** The edge's own notifications (consumers on its router): not numbered, the home numbers the room's. */
  notify<N extends Notification>(name: N, data: NotificationData[N]): void {
    if (!this.#closed) this.#client?.sink(name, data);
  }

  /** A (new) connection carries the session now; the previous one, if any, lets go. */
  attachClient(client: EdgeClient): void {
    if (this.#graceTimer) clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
    const previous = this.#client;
    this.#client = client;
    if (previous && previous !== client) previous.superseded();
  }

  /** The client's connection dropped: its media waits here as long as the home keeps its place. */
  disconnected(client: EdgeClient, graceMs: number): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    this.#room.relayGone(this, false);
    this.#graceTimer = setTimeout(() => this.close(), graceMs);
    this.#graceTimer.unref();
  }

  /**
   * Holds the home's notifications until `release`: the home may notify right
   * after it answered the join, and the client must get that answer first.
   */
  hold(): void {
    this.#held ??= [];
  }

  /** Passes on what was held, in order, and everything after it at once. */
  release(): void {
    const held = this.#held;
    this.#held = undefined;
    for (const n of held ?? []) this.fromHome(n.name, n.data, n.seq);
  }

  /** A notification from the home for this session, checked before the client sees it. */
  fromHome(name: string, data: unknown, seq: number | null): void {
    if (this.#closed) return;
    if (this.#held) {
      this.#held.push({ name, data, seq });
      return;
    }
    // Names the home's end of a data channel: this node tells the client about its own (see #subscribeData).
    if (name === 'dataConsumerClosed') return;
    if (!isNotification(name)) {
      this.#logger.warn('relayed notification refused: unknown name', { name: name.slice(0, 64) });
      return;
    }
    let checked: NotificationData[typeof name];
    try {
      checked = parseNotification(name, data);
    } catch (error) {
      this.#logger.warn('relayed notification refused', { name, error: error as Error });
      return;
    }
    if (name === 'admitted') {
      this.#admitted = true;
      // The edge's router and TURN are where this participant's media goes.
      checked = this.#room.localise(checked as NotificationData['admitted'], this) as typeof checked;
    }
    this.#client?.sink(name, checked, seq ?? undefined);
    if (name === 'sessionClosed') this.close();
  }

  /** Answers one request of the client (anything but join). */
  async handle(method: Method, data: unknown): Promise<unknown> {
    if (this.#closed) throw new HuizhenError(ErrorCode.NOT_JOINED, 'This session has ended; join again.');
    if (method === 'join')
      throw new HuizhenError(ErrorCode.ALREADY_JOINED, 'This connection has already joined a room.');
    if (HOME_ONLY_METHODS.has(method))
      throw new HuizhenError(
        ErrorCode.INVALID_STATE,
        `'${method}' is not available on this node for a room homed on another node; connect to the room's home node for it.`,
      );
    if (method === 'leave') {
      await this.#room.relay(this, 'leave', data).catch(() => undefined);
      this.close();
      return EMPTY;
    }
    if (EDGE_MEDIA_METHODS.has(method)) return this.#media(method, data);
    const response = await this.#room.relay(this, method, data);
    const checked = parseResponse(method, response) as unknown;
    if (method === 'refreshToken') {
      const refreshed = checked as ResponseData['refreshToken'];
      this.#tokenExpiresAt = Math.floor(Date.now() / 1000) + refreshed.tokenExpiresIn;
      return { ...refreshed, ...this.iceServers() };
    }
    return checked;
  }

  /** TURN credentials of this node's TURN, ending with the session's token. */
  iceServers(): ReturnType<EdgeRoom['media']['iceServersFor']> {
    return this.#room.media.iceServersFor({
      issuer: this.#issuer,
      identity: this.identity,
      tokenExpiresAt: this.#tokenExpiresAt,
    });
  }

  /** The same checks the home applies to its own participants: admitted first, then the media layer's own. */
  async #media(method: Method, raw: unknown): Promise<unknown> {
    if (!this.admitted)
      throw new HuizhenError(ErrorCode.NOT_ADMITTED, 'You are in the waiting room; a clinician will admit you.');
    const media = this.#room.media;
    switch (method) {
      case 'setRtpCapabilities': {
        const data = raw as RequestData<'setRtpCapabilities'>;
        await media.setRtpCapabilities(
          this,
          data.rtpCapabilities as unknown as types.RtpCapabilities,
          this.#room.publishersFor(this),
        );
        return EMPTY;
      }
      case 'createTransport': {
        const data = raw as RequestData<'createTransport'>;
        // SCTP only when this node's data channels are on (the media room knows; it ignores the capabilities otherwise).
        return media.createTransport(this, data.direction, data.sctpCapabilities as types.SctpCapabilities | undefined);
      }
      case 'produceData':
        return this.#produceData(raw as RequestData<'produceData'>);
      case 'closeDataProducer': {
        const { dataProducerId } = raw as RequestData<'closeDataProducer'>;
        const producer = this.#dataOut.get(dataProducerId);
        if (!producer) throw notFound('data producer', dataProducerId);
        producer.close(); // its pipe stream ends, and the home closes its end
        return EMPTY;
      }
      case 'subscribeData':
        return this.#subscribeData();
      case 'connectTransport': {
        const data = raw as RequestData<'connectTransport'>;
        await media.connectTransport(this, data.transportId, data.dtlsParameters as unknown as types.DtlsParameters);
        return EMPTY;
      }
      case 'restartIce':
        return media.restartIce(this, (raw as RequestData<'restartIce'>).transportId);
      case 'produce': {
        const data = raw as RequestData<'produce'>;
        const trackId = await media.produce(
          this,
          {
            transportId: data.transportId,
            kind: data.kind,
            source: data.source,
            rtpParameters: data.rtpParameters as unknown as types.RtpParameters,
            ...(data.paused !== undefined ? { paused: data.paused } : {}),
          },
          () => this.#room.localSubscribers(this),
        );
        return { trackId };
      }
      case 'closeProducer':
        media.closeProducer(this, (raw as RequestData<'closeProducer'>).producerId);
        return EMPTY;
      case 'setProducerPaused': {
        const data = raw as RequestData<'setProducerPaused'>;
        if (await media.setProducerPaused(this, data.producerId, data.paused))
          this.#room.relayTrackMuted(this, data.producerId, data.paused);
        return EMPTY;
      }
      case 'resumeConsumer':
        await media.subscriptions.resume(this, (raw as RequestData<'resumeConsumer'>).consumerId);
        return EMPTY;
      case 'setConsumerVideoSize': {
        const data = raw as RequestData<'setConsumerVideoSize'>;
        return { spatialLayer: await media.subscriptions.setVideoSize(this, data.consumerId, data.width, data.height) };
      }
      case 'setConsumerPaused': {
        const data = raw as RequestData<'setConsumerPaused'>;
        await media.subscriptions.setPaused(this, data.consumerId, data.paused);
        return EMPTY;
      }
      case 'requestKeyFrame':
        await media.subscriptions.requestKeyFrame(this, (raw as RequestData<'requestKeyFrame'>).consumerId);
        return EMPTY;
      case 'getStats':
        return media.getStats(this);
      case 'getIceServers': {
        const issued = this.iceServers();
        return {
          iceServers: issued.iceServers ?? [],
          ...(issued.iceServersExpireIn !== undefined ? { iceServersExpireIn: issued.iceServersExpireIn } : {}),
        };
      }
      case 'createPlainTransport': {
        const data = raw as RequestData<'createPlainTransport'>;
        return createPlainTransport(media, this, data.direction, data.srtp ?? false, data.srtpCryptoSuite);
      }
      case 'connectPlainTransport': {
        const data = raw as RequestData<'connectPlainTransport'>;
        await connectPlainTransport(media, this, data.transportId, data.ip, data.port, data.srtpParameters);
        return EMPTY;
      }
      case 'reportQuality':
        media.links.report(this, raw as RequestData<'reportQuality'>);
        return EMPTY;
      default:
        throw invalidState(`'${method}' is not a media request.`);
    }
  }

  /** Publishes on a data topic over the send transport here; the home's relay checks and forwards it. */
  async #produceData(data: RequestData<'produceData'>): Promise<ResponseData['produceData']> {
    if (!this.can('data')) throw permissionDenied('publish data');
    const t = dataSendTransport(this.media, data.transportId);
    // The home's relay holds the same limit; checked here too so a refused topic is never piped.
    if (this.#dataOut.size >= MAX_PRODUCERS_PER_PEER)
      throw invalidState(`At most ${MAX_PRODUCERS_PER_PEER} data topics may be open at once; close one first.`);
    const producer = await mediaCall(() =>
      t.transport.produceData({
        sctpStreamParameters: data.sctpStreamParameters as types.SctpStreamParameters,
        label: data.label,
        protocol: data.protocol ?? '',
        appData: { identity: this.identity },
      }),
    );
    this.#dataOut.set(producer.id, producer);
    producer.observer.once('close', () => this.#dataOut.delete(producer.id));
    try {
      const reliable = isReliable(data.sctpStreamParameters as types.SctpStreamParameters);
      const maxMessageBytes = await this.#room.publishData(this, producer, reliable);
      if (this.#closed) throw invalidState('The session closed while the data channel was being opened.');
      return { dataProducerId: producer.id, maxMessageBytes };
    } catch (error) {
      producer.close();
      throw error;
    }
  }

  /**
   * The room's data channels, from the home's relay, on the receive
   * transport here. Asking again on the same transport returns the same ones.
   */
  async #subscribeData(): Promise<ResponseData['subscribeData']> {
    const recv = dataRecvTransport(this.media);
    if (this.#receiving?.transportId === recv.id) return this.#receiving.answer;
    this.#stopReceiving();
    const { producers, maxMessageBytes } = await this.#room.receiveData(this);
    const consumers: types.DataConsumer[] = [];
    try {
      for (const { producer, reliable } of producers)
        consumers.push(await recv.consumeData({ dataProducerId: producer.id, ...receiveOptions(reliable) }));
      if (this.#closed) throw invalidState('The session closed while the data channels were being opened.');
    } catch (error) {
      for (const c of consumers) c.close();
      for (const p of producers) p.producer.close();
      throw error;
    }
    const answer: ResponseData['subscribeData'] = {
      channels: consumers.map((c, i) => channelInfo(c, producers[i]!.reliable)),
      maxMessageBytes,
    };
    const receiving: Receiving = { transportId: recv.id, from: producers, consumers, answer };
    this.#receiving = receiving;
    for (const c of consumers) {
      // The home closed its end (the room's relay went, or the pipe): both channels go, and the client is told of each.
      c.on('dataproducerclose', () => {
        if (this.#receiving !== receiving) return;
        this.#stopReceiving();
        for (const closed of consumers) this.notify('dataConsumerClosed', { dataConsumerId: closed.id });
      });
      c.on('transportclose', () => {
        if (this.#receiving === receiving) this.#stopReceiving();
      });
    }
    return answer;
  }

  #stopReceiving(): void {
    const r = this.#receiving;
    if (!r) return;
    this.#receiving = undefined;
    for (const c of r.consumers) if (!c.closed) c.close();
    for (const p of r.from) if (!p.producer.closed) p.producer.close();
  }

  /** Ends the session here: its transports close, and with them its tracks on every node. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#graceTimer) clearTimeout(this.#graceTimer);
    this.#client = undefined;
    this.#stopReceiving();
    this.media.close();
    this.#room.forget(this);
  }
}
