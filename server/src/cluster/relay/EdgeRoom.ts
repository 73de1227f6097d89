/**
 * A room homed on another node, as this node (an edge) holds it for the
 * participants connected here: a router of its own (their media terminates
 * here), their sessions, and the tracks of the room's other nodes piped in.
 * Every node of the room sends its own participants' tracks to every other
 * node of the room (the home says which those are, `roomNodes`), so a
 * subscriber here consumes any track from this router like a local one.
 * Data channels go through the home's data relay: a topic published here is
 * piped to the home, and the relay's channels to a session here are piped
 * back, so every message is checked and fanned out in one place.
 */
import type { types } from 'mediasoup';
import { ErrorCode, HuizhenError, type Method, type NotificationData } from '@huizhen/protocol';
import type { Logger } from '../../observability/logger.js';
import type { MediaPeer } from '../../rooms/media/MediaPeer.js';
import type { MediaRoom } from '../../rooms/media/MediaRoom.js';
import { RemotePublishers } from '../../rooms/media/RemotePublishers.js';
import type { NodeLink } from '../mesh/NodeLink.js';
import { NodeLinkError } from '../mesh/NodeLink.js';
import type { NodeLinks } from '../mesh/NodeLinks.js';
import type { LinkRequestResult } from '../mesh/linkMessages.js';
import type { RoomPipes } from '../mesh/RoomPipes.js';
import type { EdgeSession } from './EdgeSession.js';

/** One of the room's data channels to a session here, as it arrived from the home's pipe. */
export interface DataIn {
  producer: types.DataProducer;
  reliable: boolean;
}

export interface EdgeRoomOptions {
  id: string;
  /** The room's home node. */
  home: { id: string; url: string };
  media: MediaRoom;
  links: NodeLinks;
  pipes: RoomPipes;
  logger: Logger;
  /** The room has no session here any more and closed. */
  onClosed: () => void;
}

/** The room's home does not answer over the node link (it may have died; its lease then lapses). */
export class HomeUnreachableError extends HuizhenError {
  constructor(cause: unknown) {
    super(
      ErrorCode.CLUSTER_UNAVAILABLE,
      "The room's home node cannot be reached right now; please try again in a moment.",
      { cause },
    );
  }
}

/** A home's refusal keeps its code and sentence for the client; a link that fails is the cluster's fault. */
export function fromLink(error: unknown): HuizhenError {
  if (error instanceof NodeLinkError && error.code === 'LINK_REMOTE') {
    if (error.remoteCode && (ErrorCode as Record<string, string>)[error.remoteCode])
      return new HuizhenError(error.remoteCode as ErrorCode, error.message);
    return new HuizhenError(ErrorCode.INTERNAL, 'The request could not be relayed.', { cause: error });
  }
  if (error instanceof HuizhenError) return error;
  // Closed, timed out, refused or never opened: the home is not there for now.
  return new HomeUnreachableError(error);
}

export class EdgeRoom {
  readonly id: string;
  readonly home: { id: string; url: string };
  readonly media: MediaRoom;
  readonly sessions = new Map<string, EdgeSession>();
  readonly remote = new RemotePublishers();
  /** The room's other nodes (home included), which this node's tracks go to. */
  readonly #nodes = new Map<string, string>();
  readonly #options: EdgeRoomOptions;
  readonly #logger: Logger;
  #closed = false;

  constructor(options: EdgeRoomOptions) {
    this.id = options.id;
    this.home = options.home;
    this.media = options.media;
    this.#options = options;
    this.#logger = options.logger.child({ room: options.id, home: options.home.id });
    this.#nodes.set(options.home.id, options.home.url);
    options.media.links.start(() => this.sessions.values());
    // Connection quality is measured here, where the media is; the home tells the room (clinicians, the person).
    const relayed = (peer: MediaPeer): EdgeSession | undefined => {
      const s = this.sessions.get((peer as EdgeSession).sessionId);
      return s === peer ? s : undefined;
    };
    options.media.links.on('quality', (peer, update) => {
      const s = relayed(peer);
      if (s) this.#toHome()?.note('relayQuality', { room: this.id, sessionId: s.sessionId, update });
    });
    options.media.links.on('audioOnly', (peer, audioOnly, direction) => {
      const s = relayed(peer);
      if (s) this.#toHome()?.note('relayAudioOnly', { room: this.id, sessionId: s.sessionId, audioOnly, direction });
    });
    // A trial of the camera is between this node and the participant's SDK.
    options.media.links.on('uplinkTrial', (peer, audioOnly) => {
      relayed(peer)?.notify('audioOnlyChanged', {
        identity: peer.identity,
        audioOnly,
        reason: 'network',
        direction: 'uplink',
      });
    });
    // Each track published here goes to every other node of the room.
    options.media.on('trackPublished', (track, _identity, imported) => {
      if (imported) return;
      for (const [node, url] of this.#nodes) void this.#export(track.producer, node, url);
    });
    options.media.on('closed', () => {
      for (const s of [...this.sessions.values()])
        s.fromHome(
          'sessionClosed',
          { code: ErrorCode.MEDIA_ERROR, reason: 'The media server for this room stopped.' },
          null,
        );
      this.close();
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The link to the home (dialed again if it dropped). */
  async #homeLink(): Promise<NodeLink> {
    return this.#options.links.dial(this.home.id, this.home.url);
  }

  /** Runs a workflow request at the home and returns its answer (checked by the caller). */
  async relay(session: EdgeSession, method: Method, request: unknown): Promise<unknown> {
    try {
      const link = await this.#homeLink();
      const { response } = await link.request('relayRequest', {
        room: this.id,
        sessionId: session.sessionId,
        method,
        request: request as Record<string, unknown>,
      });
      return response;
    } catch (error) {
      throw fromLink(error);
    }
  }

  /**
   * Sends a data topic a session here publishes down the pipe to the home,
   * whose data relay takes it as theirs. Resolves to the largest payload the
   * home accepts; a refusal (permission, topic policy) keeps its code.
   */
  async publishData(session: EdgeSession, producer: types.DataProducer, reliable: boolean): Promise<number> {
    let consumer: types.DataConsumer | undefined;
    try {
      const link = await this.#homeLink();
      consumer = await this.#options.pipes.sendData(this.id, link, producer.id);
      const { maxMessageBytes } = await link.request('relayPublishData', {
        room: this.id,
        sessionId: session.sessionId,
        stream: {
          sctpStreamParameters: consumer.sctpStreamParameters ?? { streamId: 0 },
          label: producer.label,
          protocol: producer.protocol,
          reliable,
        },
      });
      return maxMessageBytes;
    } catch (error) {
      consumer?.close();
      throw fromLink(error);
    }
  }

  /**
   * Has the home open the room's data channels to a session here: they come
   * down the home's pipe and become DataProducers on this router, which the
   * session's receive transport then consumes.
   */
  async receiveData(session: EdgeSession): Promise<{ producers: DataIn[]; maxMessageBytes: number }> {
    let answer: LinkRequestResult<'relaySubscribeData'>;
    try {
      const link = await this.#homeLink();
      answer = await link.request('relaySubscribeData', { room: this.id, sessionId: session.sessionId });
    } catch (error) {
      throw fromLink(error);
    }
    const producers: DataIn[] = [];
    try {
      for (const stream of answer.streams)
        producers.push({
          producer: await this.#options.pipes.receiveData(this.id, this.home.id, stream, {
            identity: session.identity,
          }),
          reliable: stream.reliable,
        });
    } catch (error) {
      for (const p of producers) p.producer.close();
      throw error;
    }
    return { producers, maxMessageBytes: answer.maxMessageBytes };
  }

  #toHome(): NodeLink | undefined {
    return this.#options.links.get(this.home.id);
  }

  relayGone(session: EdgeSession, left: boolean): void {
    this.#options.links.get(this.home.id)?.note('relayGone', { room: this.id, sessionId: session.sessionId, left });
  }

  relayTrackMuted(session: EdgeSession, trackId: string, paused: boolean): void {
    this.#options.links
      .get(this.home.id)
      ?.note('relayTrackMuted', { room: this.id, sessionId: session.sessionId, trackId, paused });
  }

  /** The home's room view, made true for this node: its router's capabilities and its TURN. */
  localise<T extends Pick<NotificationData['admitted'], 'routerRtpCapabilities'>>(view: T, session: EdgeSession): T {
    return {
      ...view,
      routerRtpCapabilities: this.media.rtpCapabilities as unknown as T['routerRtpCapabilities'],
      ...session.iceServers(),
    };
  }

  /** What a subscriber here can receive: the other admitted sessions here and the tracks piped in. */
  publishersFor(session: EdgeSession): MediaPeer[] {
    return [...this.localSubscribers(session), ...this.remote.peers()];
  }

  localSubscribers(except: EdgeSession): EdgeSession[] {
    return [...this.sessions.values()].filter((s) => s !== except && s.admitted);
  }

  /** The home says which nodes the room spans now: tracks published here go to those it did not have. */
  setNodes(nodes: readonly { id: string; url: string }[]): void {
    const fresh = nodes.filter((n) => !this.#nodes.has(n.id));
    this.#nodes.clear();
    this.#nodes.set(this.home.id, this.home.url);
    for (const n of nodes) this.#nodes.set(n.id, n.url);
    for (const n of fresh) for (const track of this.media.localTracks()) void this.#export(track.producer, n.id, n.url);
  }

  async #export(producer: types.Producer, node: string, url: string): Promise<void> {
    try {
      const link = await this.#options.links.dial(node, url);
      await this.#options.pipes.exportProducer(this.id, producer, link);
    } catch (error) {
      if (!producer.closed && !this.#closed)
        this.#logger.warn('track not sent to another node of the room', {
          node,
          track: producer.id,
          error: error as Error,
        });
    }
  }

  /** A track of another node arrived: every admitted session here receives it. */
  adopt(producer: types.Producer): void {
    const added = this.#closed ? undefined : this.remote.add(producer);
    if (!added) {
      producer.close();
      return;
    }
    void this.media.subscriptions.fanOut(
      added.peer,
      added.track,
      [...this.sessions.values()].filter((s) => s.admitted),
    );
  }

  /** A session ended here; the last one closes the room on this node. */
  forget(session: EdgeSession): void {
    if (this.sessions.get(session.sessionId) === session) this.sessions.delete(session.sessionId);
    if (this.sessions.size === 0) this.close();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of [...this.sessions.values()]) s.close();
    this.sessions.clear();
    this.remote.close();
    this.#options.pipes.closeRoom(this.id);
    this.media.close();
    this.#logger.info('edge room closed', {});
    this.#options.onClosed();
  }
}
