/**
 * This node as an edge: it takes participants of rooms homed on other nodes.
 * A join for such a room is relayed to the home (which verifies the token
 * again and runs admission), the participant's media terminates on this
 * node's router for the room, and their workflow requests go to the home
 * over the node link (the same authenticated, validated channel that sets up
 * the media pipes: one connection per node pair, ordered, so a notification
 * never overtakes the answer it follows; Redis pub/sub would add a hop and
 * lose messages while a subscriber reconnects).
 */
import type { types } from 'mediasoup';
import { ErrorCode, HuizhenError, parseResponse, type RequestData, type ResponseData } from '@huizhen/protocol';
import type { WorkerPool } from '../../media/WorkerPool.js';
import type { Logger } from '../../observability/logger.js';
import { MediaRoom, type MediaRoomOptions } from '../../rooms/media/MediaRoom.js';
import type { NodeLink } from '../mesh/NodeLink.js';
import type { NodeLinks } from '../mesh/NodeLinks.js';
import type { RoomPipes } from '../mesh/RoomPipes.js';
import { EdgeRoom, fromLink } from './EdgeRoom.js';
import { EdgeSession, type EdgeClient } from './EdgeSession.js';

export interface EdgeRoomsOptions {
  links: NodeLinks;
  pipes: RoomPipes;
  pool: WorkerPool;
  media: MediaRoomOptions;
  /** How long a dropped client's media waits here for it to resume (rooms.reconnectGraceMs). */
  reconnectGraceMs: number;
  /** The other live nodes' public URLs as this node sees them (the join response's clusterNodes). */
  otherNodes: () => Promise<string[]>;
  logger: Logger;
}

/** A client of this node, as the edge needs it: notifications, hand-over, and a drop that makes its SDK reconnect. */
export interface EdgeConnection extends EdgeClient {
  drop(): void;
}

interface EarlyNote {
  name: string;
  data: unknown;
  seq: number | null;
}
/** How long, and how many, notes for a session not known here yet are kept (its join answer is in flight). */
const EARLY_NOTES_MS = 5_000;
const EARLY_NOTES_MAX = 100;

/** How long a closed link is given to be replaced (two nodes dialing each other keep one link) before its peer counts as gone. */
export const LINK_GONE_AFTER_MS = 300;

export class EdgeRooms {
  readonly #rooms = new Map<string, Promise<EdgeRoom>>();
  readonly #clients = new WeakMap<EdgeSession, EdgeConnection>();
  readonly #options: EdgeRoomsOptions;
  readonly #logger: Logger;

  constructor(options: EdgeRoomsOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ component: 'edge' });
  }

  /** Rooms with participants connected here but homed elsewhere. */
  get size(): number {
    return this.#ready.size;
  }

  /** Participants connected here in rooms homed elsewhere. */
  participants(): number {
    let n = 0;
    for (const edge of this.#ready.values()) n += edge.sessions.size;
    return n;
  }

  /** Serves the home's side of the relayed sessions on a link. */
  attach(link: NodeLink): void {
    link.onNote('relayNotify', ({ room, sessionId, name, data, seq }) => {
      const session = this.#session(link.peer, room, sessionId);
      if (session) session.fromHome(name, data, seq);
      // Frames that arrive together are handled before the join's answer is: keep them for the session.
      else this.#early(link.peer, room, sessionId).push({ name, data, seq });
    });
    link.onNote('relayEnded', ({ room, sessionId }) => {
      const session = this.#session(link.peer, room, sessionId);
      if (!session) return;
      this.#clients.get(session)?.superseded();
      session.close();
    });
    link.handle('relayHostPause', async ({ room, sessionId, source, allowUnmute }) => {
      const session = this.#session(link.peer, room, sessionId);
      const edge = this.#open(room);
      if (!session || !edge) throw new HuizhenError(ErrorCode.NOT_FOUND, 'That session has no media on this node.');
      const paused = await edge.media.hostPause(session, source, allowUnmute);
      return paused
        ? { trackId: paused.track.producer.id, changed: paused.changed }
        : { trackId: null, changed: false };
    });
    link.onNote('relayMoved', ({ room, sessionId }) => {
      const session = this.#session(link.peer, room, sessionId);
      if (!session) return;
      this.#clients.get(session)?.drop();
      session.close();
    });
    link.onNote('roomNodes', ({ room, nodes }) => {
      const edge = this.#open(room);
      if (edge?.home.id === link.peer) edge.setNodes(nodes);
    });
    link.once('closed', () => {
      // A link replaced by a newer one between the same nodes is not the home going away: look again shortly.
      setTimeout(() => {
        const now = this.#options.links.get(link.peer);
        if (now && !now.closed) return;
        // The home went away: its rooms end here, the clients reconnect and resume at the room's next home.
        for (const edge of this.#openRooms())
          if (edge.home.id === link.peer) {
            for (const session of [...edge.sessions.values()]) this.#clients.get(session)?.drop();
            edge.close();
          }
      }, LINK_GONE_AFTER_MS).unref();
    });
  }

  /** This node's router for a room it is an edge of. */
  routerFor(room: string): types.Router | null {
    return this.#open(room)?.media.router ?? null;
  }

  /** A producer piped in for a room this node is an edge of; false if it is not. */
  adopt(room: string, producer: types.Producer): boolean {
    const edge = this.#open(room);
    if (!edge) return false;
    edge.adopt(producer);
    return true;
  }

  /**
   * Joins (or resumes) through this node a room homed on `home`. The request
   * is the client's, already checked here; the home checks it again.
   */
  async join(
    request: RequestData<'join'>,
    claims: { room: string; issuer: string; expiresAt: number; loadTest: boolean },
    home: { id: string; url: string },
    remoteIp: string | undefined,
    connect: (session: EdgeSession) => EdgeConnection,
  ): Promise<ResponseData['join']> {
    // The link first: a home that does not answer costs no router here.
    const link = await this.#options.links.dial(home.id, home.url).catch((error: unknown) => {
      throw fromLink(error);
    });
    const edge = await this.#room(claims.room, home);
    // Asked first: between the home's answer and the client's, nothing may wait (notifications follow the answer).
    const clusterNodes = await this.#options.otherNodes().catch(() => []);
    let joined: ResponseData['join'];
    try {
      const { response } = await link.request('relayJoin', {
        room: claims.room,
        request: request as unknown as Record<string, unknown>,
        remoteIp: remoteIp ?? null,
      });
      joined = parseResponse('join', response);
    } catch (error) {
      if (edge.sessions.size === 0) edge.close();
      throw fromLink(error);
    }
    let session = edge.sessions.get(joined.sessionId);
    // Kept only with media: an attempt that joined but never set up transports here left nothing to go on with.
    const kept =
      session !== undefined &&
      !session.closed &&
      session.identity === joined.participant.identity &&
      [...session.media.transports()].length > 0;
    if (!session || !kept) {
      session = new EdgeSession(edge, joined, claims, remoteIp, this.#logger);
      edge.sessions.set(session.sessionId, session);
    }
    // Where to go if this node dies: the home named the nodes other than itself, this client needs those other than here.
    joined = { ...joined, clusterNodes };
    // A resume keeps the media only if it was here (the home cannot know which node held it).
    if (joined.resumed) {
      const { mediaMoved: _home, ...rest } = joined;
      joined = kept ? rest : { ...rest, mediaMoved: true };
    }
    session.hold();
    for (const n of this.#takeEarly(home.id, claims.room, session.sessionId)) session.fromHome(n.name, n.data, n.seq);
    const client = connect(session);
    this.#clients.set(session, client);
    session.attachClient(client);
    // After the client has the answer (the connection sends it when this returns), never before.
    setImmediate(() => session.release());
    this.#logger.info('participant joined through this node', {
      room: claims.room,
      participant: session.identity,
      home: home.id,
    });
    if (joined.admission === 'waiting') return { ...joined, ...session.iceServers() };
    return edge.localise(joined, session);
  }

  readonly #earlyNotes = new Map<string, { notes: EarlyNote[]; timer: NodeJS.Timeout }>();

  /** Notes for a session whose join answer is still on its way here (bounded, and dropped after a while). */
  #early(home: string, room: string, sessionId: string): EarlyNote[] {
    const key = `${home}\u0000${room}\u0000${sessionId}`;
    let entry = this.#earlyNotes.get(key);
    if (!entry) {
      const timer = setTimeout(() => this.#earlyNotes.delete(key), EARLY_NOTES_MS);
      timer.unref();
      entry = { notes: [], timer };
      this.#earlyNotes.set(key, entry);
    }
    if (entry.notes.length >= EARLY_NOTES_MAX) return [];
    return entry.notes;
  }

  #takeEarly(home: string, room: string, sessionId: string): EarlyNote[] {
    const key = `${home}\u0000${room}\u0000${sessionId}`;
    const entry = this.#earlyNotes.get(key);
    if (!entry) return [];
    clearTimeout(entry.timer);
    this.#earlyNotes.delete(key);
    return entry.notes;
  }

  #session(home: string, room: string, sessionId: string): EdgeSession | undefined {
    const edge = this.#open(room);
    return edge?.home.id === home ? edge.sessions.get(sessionId) : undefined;
  }

  /** The edge room, if open (not while it is being created). */
  #open(room: string): EdgeRoom | undefined {
    return this.#ready.get(room);
  }

  readonly #ready = new Map<string, EdgeRoom>();

  #openRooms(): EdgeRoom[] {
    return [...this.#ready.values()];
  }

  async #room(id: string, home: { id: string; url: string }): Promise<EdgeRoom> {
    const ready = this.#ready.get(id);
    if (ready && !ready.closed) {
      if (ready.home.id === home.id) return ready;
      // The room moved to another home: what was relayed to the old one is over.
      ready.close();
    }
    let pending = this.#rooms.get(id);
    if (!pending) {
      pending = this.#create(id, home).finally(() => {
        if (this.#rooms.get(id) === pending) this.#rooms.delete(id);
      });
      this.#rooms.set(id, pending);
    }
    const edge = await pending;
    if (edge.home.id !== home.id)
      throw new HuizhenError(
        ErrorCode.ROOM_ON_OTHER_NODE,
        'The room moved to another node while you joined; please join again.',
      );
    return edge;
  }

  async #create(id: string, home: { id: string; url: string }): Promise<EdgeRoom> {
    const logger = this.#logger.child({ room: id });
    const media = await MediaRoom.create(id, this.#options.pool, this.#options.media, logger);
    const edge: EdgeRoom = new EdgeRoom({
      id,
      home,
      media,
      links: this.#options.links,
      pipes: this.#options.pipes,
      logger,
      onClosed: () => {
        if (this.#ready.get(id) === edge) this.#ready.delete(id);
      },
    });
    this.#ready.set(id, edge);
    logger.info('edge room opened', { home: home.id, worker: media.worker.index });
    return edge;
  }

  close(): void {
    for (const edge of this.#openRooms()) edge.close();
  }
}
