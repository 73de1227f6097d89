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
import { HuizhenError, invalidState } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { MediaPeer } from '../../rooms/media/MediaPeer.js';
import { PeerMedia } from '../../rooms/media/PeerMedia.js';
import { connectPlainTransport, createPlainTransport } from '../../rooms/media/LoadTestTransports.js';
import type { NotificationSink } from '../../rooms/Participant.js';
import { EDGE_MEDIA_METHODS, HOME_ONLY_METHODS } from './edgeMethods.js';
import type { EdgeRoom } from './EdgeRoom.js';

/** The client's side of an edge session: its signaling connection. */
export interface EdgeClient {
  readonly sink: NotificationSink;
  /** A newer connection resumed this session (here or on another node). */
  superseded(): void;
}

const EMPTY = {} as Record<string, never>;

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
        // Data channels are served by the room's home only (see HOME_ONLY_METHODS).
        return media.createTransport(this, data.direction);
      }
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

  /** Ends the session here: its transports close, and with them its tracks on every node. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#graceTimer) clearTimeout(this.#graceTimer);
    this.#client = undefined;
    this.media.close();
    this.#room.forget(this);
  }
}
