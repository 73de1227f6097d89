/**
 * The home's side of relayed sessions: participants whose signaling and media
 * are on another node (the edge) but whose place in the room is here. Each is
 * an ordinary Participant of the room, so admission, host controls, chat,
 * records and the consult's lifecycle treat them like anyone else; their
 * notifications go to the edge over the node link, numbered here so a resume
 * replays exactly what was missed. Their media requests never come here
 * (edgeMethods.ts): the edge's router serves them. Their data channels cross
 * the room's pipes into this node's data relay, which checks and fans out
 * every message as it does for local participants.
 *
 * The home also says which nodes a room spans (`roomNodes`) and sends the
 * tracks published here to each of them.
 */
import {
  ErrorCode,
  HuizhenError,
  METHODS,
  parseRequest,
  type Method,
  type Notification,
  type NotificationData,
} from '@huizhen/protocol';
import type { Logger } from '../../observability/logger.js';
import type { NotificationSink, Participant, SinkOwner } from '../../rooms/Participant.js';
import type { Room } from '../../rooms/Room.js';
import { handlers, type HandlerScope } from '../../signaling/handlers.js';
import type { SignalingContext } from '../../signaling/SignalingContext.js';
import type { LinkRequestData, LinkRequestResult } from '../mesh/linkMessages.js';
import type { NodeLink } from '../mesh/NodeLink.js';
import type { NodeLinks } from '../mesh/NodeLinks.js';
import type { RoomPipes } from '../mesh/RoomPipes.js';
import { EDGE_MEDIA_METHODS, HOME_ONLY_METHODS } from './edgeMethods.js';
import { LINK_GONE_AFTER_MS } from './EdgeRooms.js';

export interface HomeRelayOptions {
  ctx: SignalingContext;
  node: { id: string; url: string };
  links: NodeLinks;
  pipes: RoomPipes;
  /** Another node's public URL, from the registry (undefined: not registered). */
  urlOf: (node: string) => Promise<string | undefined>;
  logger: Logger;
}

const KNOWN: ReadonlySet<string> = new Set(METHODS);

/** One relayed session: the participant here, the edge it is connected through. */
class Relayed implements SinkOwner {
  constructor(
    readonly edge: string,
    readonly room: Room,
    readonly participant: Participant,
    readonly onSuperseded: (r: Relayed) => void,
  ) {}

  superseded(): void {
    this.onSuperseded(this);
  }
}

export class HomeRelay {
  readonly #options: HomeRelayOptions;
  readonly #logger: Logger;
  /** By session id. */
  readonly #sessions = new Map<string, Relayed>();
  /** The edges each room was last told it spans. */
  readonly #told = new Map<string, Set<string>>();
  readonly #watched = new WeakSet<Room>();

  constructor(options: HomeRelayOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ component: 'relay' });
  }

  /** Participants of rooms homed here whose media is on other nodes. */
  get size(): number {
    return this.#sessions.size;
  }

  attach(link: NodeLink): void {
    link.handle('relayJoin', (data) => this.#join(link.peer, data));
    link.handle('relayRequest', (data) => this.#request(link.peer, data));
    link.handle('relayPublishData', (data) => this.#publishData(link.peer, data));
    link.handle('relaySubscribeData', (data) => this.#subscribeData(link, data));
    link.onNote('relayGone', ({ room, sessionId, left }) => {
      const r = this.#find(link.peer, room, sessionId);
      if (!r) return;
      if (left) {
        r.room.leave(r.participant, 'left');
        this.#drop(r);
      } else {
        r.room.disconnect(r.participant, r);
      }
    });
    // --- connection quality measured where the media is
    link.onNote('relayQuality', ({ room, sessionId, update }) => {
      const r = this.#find(link.peer, room, sessionId);
      if (r) r.room.linkQuality(r.participant, update);
    });
    link.onNote('relayAudioOnly', ({ room, sessionId, audioOnly, direction }) => {
      const r = this.#find(link.peer, room, sessionId);
      if (r) r.room.linkAudioOnly(r.participant, audioOnly, direction);
    });
    link.onNote('relayTrackMuted', ({ room, sessionId, trackId, paused }) => {
      const r = this.#find(link.peer, room, sessionId);
      if (r && r.room.isAdmitted(r.participant))
        r.room.broadcast(r.participant, paused ? 'trackMuted' : 'trackUnmuted', {
          participantIdentity: r.participant.identity,
          trackId,
        });
    });
    link.once('closed', () => {
      // A link replaced by a newer one between the same nodes is not the edge going away: look again shortly.
      setTimeout(() => {
        const now = this.#options.links.get(link.peer);
        if (now && !now.closed) return;
        // The edge went away: its participants keep their place for the reconnect grace, like a dropped socket.
        for (const r of [...this.#sessions.values()]) if (r.edge === link.peer) r.room.disconnect(r.participant, r);
      }, LINK_GONE_AFTER_MS).unref();
    });
  }

  #find(edge: string, room: string, sessionId: string): Relayed | undefined {
    const r = this.#sessions.get(sessionId);
    return r && r.edge === edge && r.room.id === room && !r.participant.closed ? r : undefined;
  }

  #sink(r: Relayed): NotificationSink {
    const sessionId = r.participant.sessionId;
    return <N extends Notification>(name: N, data: NotificationData[N], seq?: number) => {
      this.#options.links.get(r.edge)?.note('relayNotify', {
        room: r.room.id,
        sessionId,
        name,
        data: data as unknown as Record<string, unknown>,
        seq: seq ?? null,
      });
      if (name === 'sessionClosed') this.#drop(r);
    };
  }

  /** The scope a relayed request runs in: the same handlers as a local connection's. */
  #scope(
    edge: string,
    remoteIp: string | undefined,
    session: HandlerScope['session'],
    afterResponse?: (run: () => void) => void,
  ): HandlerScope {
    return {
      ctx: this.#options.ctx,
      remoteIp,
      session,
      relayedFrom: edge,
      attach: (s, options) => {
        const r = new Relayed(edge, s.room, s.participant, (old) => this.#superseded(old));
        const previous = this.#sessions.get(s.participant.sessionId);
        this.#sessions.set(s.participant.sessionId, r);
        if (previous && previous !== r && previous.edge !== edge) this.#ended(previous);
        this.#watch(s.room);
        // Its media is on the edge from now on: what it had here (connected here before) is let go.
        s.participant.media.reset();
        s.participant.remoteMedia = {
          hostPause: async (source, allowUnmute) => {
            const link = this.#options.links.get(edge);
            if (!link)
              throw new HuizhenError(
                ErrorCode.CLUSTER_UNAVAILABLE,
                "The node this participant's media is on cannot be reached right now; try again in a moment.",
              );
            const { trackId, changed } = await link.request('relayHostPause', {
              room: s.room.id,
              sessionId: s.participant.sessionId,
              source,
              allowUnmute,
            });
            return trackId === null ? undefined : { trackId, changed };
          },
        };
        const sink = this.#sink(r);
        if (options?.resume) {
          // Missed notifications are replayed only after the edge has the join response.
          const replay = (): void => s.room.resume(s.participant, sink, r, options.fromSeq);
          if (afterResponse) afterResponse(replay);
          else replay();
        } else {
          s.participant.setSink(sink, r);
        }
        void this.#spread(s.room);
      },
      detach: () => {
        if (!session) return;
        const r = this.#sessions.get(session.participant.sessionId);
        if (r) {
          if (r.participant.ownedBy(r)) r.participant.setSink(undefined);
          this.#drop(r);
        }
      },
      preflight: undefined,
      setPreflight: () => {
        throw new HuizhenError(ErrorCode.INVALID_STATE, 'A relayed session cannot run the pre-call check.');
      },
      preflightHost: { ended: () => undefined },
    };
  }

  async #join(edge: string, data: LinkRequestData<'relayJoin'>): Promise<LinkRequestResult<'relayJoin'>> {
    const request = parseRequest('join', data.request);
    let replay: (() => void) | undefined;
    const scope = this.#scope(edge, data.remoteIp ?? undefined, undefined, (run) => (replay = run));
    const response = await handlers.join(scope, request);
    const r = this.#sessions.get(response.sessionId);
    if (response.room.id !== data.room) {
      // A token for another room than the edge asked about: nothing of it stays here.
      if (r) {
        r.room.leave(r.participant, 'left');
        this.#drop(r);
      }
      throw new HuizhenError(ErrorCode.TOKEN_ROOM_MISMATCH, 'The token is for another room than the one relayed.');
    }
    if (!r)
      // Handed over (drain) while the join was answered: the client finds the new home on its next attempt.
      throw new HuizhenError(
        ErrorCode.ROOM_ON_OTHER_NODE,
        'The room moved to another node while you joined; retrying.',
      );
    // After the answer is on the wire (the link sends it as this returns), never before it.
    if (replay) setImmediate(replay);
    return { response: response as unknown as Record<string, unknown> };
  }

  async #request(edge: string, data: LinkRequestData<'relayRequest'>): Promise<LinkRequestResult<'relayRequest'>> {
    const r = this.#find(edge, data.room, data.sessionId);
    if (!r) throw new HuizhenError(ErrorCode.NOT_JOINED, 'This session is not in the room any more; join again.');
    const method = data.method;
    if (
      !KNOWN.has(method) ||
      method === 'join' ||
      EDGE_MEDIA_METHODS.has(method as Method) ||
      HOME_ONLY_METHODS.has(method as Method)
    )
      throw new HuizhenError(ErrorCode.INVALID_REQUEST, `'${method.slice(0, 64)}' is not relayed to the room's home.`);
    const request = parseRequest(method as Method, data.request);
    const scope = this.#scope(edge, r.participant.remoteIp, { room: r.room, participant: r.participant });
    const handler = handlers[method as Method] as (s: HandlerScope, d: unknown) => Promise<unknown>;
    const response = await handler(scope, request);
    return { response: response as Record<string, unknown> };
  }

  /** An admitted relayed session, or the refusal a local participant would get. */
  #admitted(edge: string, room: string, sessionId: string): Relayed {
    const r = this.#find(edge, room, sessionId);
    if (!r) throw new HuizhenError(ErrorCode.NOT_JOINED, 'This session is not in the room any more; join again.');
    if (!r.room.isAdmitted(r.participant))
      throw new HuizhenError(ErrorCode.NOT_ADMITTED, 'You are in the waiting room; a clinician will admit you.');
    return r;
  }

  /**
   * A relayed session's data topic, arriving on the edge's pipe: the room's
   * data relay takes it as that participant's, with the same permission,
   * topic policy, size and rate checks (and vitals ingest) as a local one.
   */
  async #publishData(
    edge: string,
    { room, sessionId, stream }: LinkRequestData<'relayPublishData'>,
  ): Promise<LinkRequestResult<'relayPublishData'>> {
    const r = this.#admitted(edge, room, sessionId);
    const producer = await this.#options.pipes.receiveData(room, edge, stream, { identity: r.participant.identity });
    try {
      await r.room.data.attach(r.participant, producer, { reliable: stream.reliable });
    } catch (error) {
      producer.close();
      throw error;
    }
    return { maxMessageBytes: r.room.data.maxMessageBytes };
  }

  /**
   * The room's data channels to a relayed session: the relay consumes them
   * on the pipe to the edge (the receiver's subchannel filters there, as on a
   * local receive transport), and the edge hands them on to its client.
   */
  async #subscribeData(
    link: NodeLink,
    { room, sessionId }: LinkRequestData<'relaySubscribeData'>,
  ): Promise<LinkRequestResult<'relaySubscribeData'>> {
    const r = this.#admitted(link.peer, room, sessionId);
    const out = await this.#options.pipes.dataOut(room, link);
    const { channels, maxMessageBytes } = await r.room.data.subscribe(r.participant, out.transport);
    for (const consumer of r.room.data.receivingConsumers(r.participant)) out.track(consumer);
    return {
      streams: channels.map((c) => ({
        sctpStreamParameters:
          c.sctpStreamParameters as LinkRequestResult<'relaySubscribeData'>['streams'][number]['sctpStreamParameters'],
        label: c.label,
        protocol: c.protocol,
        reliable: c.reliable,
      })),
      maxMessageBytes,
    };
  }

  /**
   * Lets the room's relayed sessions go before the room closes here for a
   * hand-over (they must not be told it closed); the returned function tells
   * their edges, once the home is released, to reconnect them to the new home.
   */
  handOver(room: Room): () => void {
    const moved: Relayed[] = [];
    for (const r of [...this.#sessions.values()]) {
      if (r.room !== room) continue;
      if (r.participant.ownedBy(r)) r.participant.setSink(undefined);
      this.#sessions.delete(r.participant.sessionId);
      moved.push(r);
    }
    return () => {
      for (const r of moved)
        this.#options.links.get(r.edge)?.note('relayMoved', { room: room.id, sessionId: r.participant.sessionId });
    };
  }

  /** The session resumed on another connection: the edge it was on stops acting for it. */
  #superseded(r: Relayed): void {
    const current = this.#sessions.get(r.participant.sessionId);
    // Resumed through the same edge: the edge hands over itself.
    if (current && current !== r && current.edge === r.edge) return;
    this.#ended(r);
    if (current === r) this.#drop(r);
  }

  #ended(r: Relayed): void {
    this.#options.links.get(r.edge)?.note('relayEnded', { room: r.room.id, sessionId: r.participant.sessionId });
  }

  #drop(r: Relayed): void {
    if (this.#sessions.get(r.participant.sessionId) === r) this.#sessions.delete(r.participant.sessionId);
    void this.#spread(r.room);
  }

  #watch(room: Room): void {
    if (this.#watched.has(room)) return;
    this.#watched.add(room);
    room.on('participantLeft', (p) => {
      const r = this.#sessions.get(p.sessionId);
      if (r && r.participant === p) this.#drop(r);
    });
    room.once('closed', () => {
      for (const r of [...this.#sessions.values()]) if (r.room === room) this.#sessions.delete(r.participant.sessionId);
      this.#told.delete(room.id);
    });
    // Tracks published here go to every edge of the room (those piped in come to each edge from their own node).
    room.media.on('trackPublished', (track, _identity, imported) => {
      if (imported) return;
      for (const edge of this.#told.get(room.id) ?? []) void this.#export(room, track.producer, edge);
    });
  }

  /** Tells every edge of the room which nodes it spans, and sends this node's tracks to edges new to it. */
  async #spread(room: Room): Promise<void> {
    if (room.closed) return;
    const edges = new Set<string>();
    for (const r of this.#sessions.values()) if (r.room === room && !r.participant.closed) edges.add(r.edge);
    const before = this.#told.get(room.id) ?? new Set<string>();
    this.#told.set(room.id, edges);
    const urls = new Map<string, string>();
    for (const edge of edges) urls.set(edge, (await this.#options.urlOf(edge)) ?? '');
    for (const edge of edges) {
      const nodes = [
        this.#options.node,
        ...[...edges].filter((e) => e !== edge && urls.get(e)).map((e) => ({ id: e, url: urls.get(e)! })),
      ];
      this.#options.links.get(edge)?.note('roomNodes', { room: room.id, nodes });
      if (!before.has(edge))
        for (const track of room.media.localTracks()) void this.#export(room, track.producer, edge);
    }
  }

  async #export(room: Room, producer: Parameters<RoomPipes['exportProducer']>[1], edge: string): Promise<void> {
    const link = this.#options.links.get(edge);
    if (!link) return;
    try {
      await this.#options.pipes.exportProducer(room.id, producer, link);
    } catch (error) {
      if (!producer.closed && !room.closed)
        this.#logger.warn('track not sent to an edge of the room', {
          room: room.id,
          edge,
          track: producer.id,
          error: error as Error,
        });
    }
  }
}
