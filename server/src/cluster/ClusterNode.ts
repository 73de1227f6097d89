/**
 * This process as a member of the cluster (cluster mode: `redis.url` set).
 * It owns the Redis connection, this node's registry entry, the rooms it
 * homes in the directory and the durable room state store, and is the
 * RoomManager's placement: a room opens here only if its home is here.
 *
 * What is wired in this slice: registry, homes (claimed when a room opens
 * here, released when it closes, a room whose home was taken by another
 * node is closed here), CLUSTER_UNAVAILABLE for opening a room while Redis
 * is away (rooms open here keep running), operator view, rooms writing
 * their durable state through `state` (FencedRoomState) and being rebuilt
 * from it by the next home. Participants of a room homed elsewhere are
 * taken by relay/EdgeRooms (with node links); a drain moves sessions and
 * hands homes over (relay/drainNode.ts).
 */
import { ErrorCode, HuizhenError } from '@huizhen/protocol';
import type { Registry } from 'prom-client';
import type { Logger } from '../observability/logger.js';
import type { RoomPlacement } from '../rooms/RoomPlacement.js';
import type { RoomStateWriter } from '../rooms/RoomStateWriter.js';
import { ClusterConnection } from './ClusterConnection.js';
import type { ClusterConfig } from './clusterConfig.js';
import { clusterUnavailable, roomOnOtherNode } from './clusterErrors.js';
import { registerClusterMetrics } from './clusterMetrics.js';
import { ClusterKeys } from './keys.js';
import { NodeRegistry, type NodeState } from './NodeRegistry.js';
import { FencedRoomState } from './FencedRoomState.js';
import { RedisRoomStateStore } from './RedisRoomStateStore.js';
import { RoomDirectory, type HomeLease } from './RoomDirectory.js';
import type { RoomStateStore } from './RoomStateStore.js';

export interface ClusterNodeOptions {
  redisUrl: string;
  config: ClusterConfig;
  nodeId: string;
  /** Public signaling URL (cluster.publicUrl or the listen URL). */
  url: string;
  mediaAddress: string;
  /** This node's rooms and participants, read at each renewal. */
  load: () => { rooms: number; participants: number };
  /** Closes a room that is homed elsewhere now (its participants are told to rejoin). */
  evict: (room: string, reason: string, code: ErrorCode) => void;
  /** Whether the room is open on this node, or being opened. */
  isOpen: (room: string) => boolean;
  /**
   * A home assigned here by another node (`open()` chose this one) that no
   * participant opens here within this long is given up again (rooms.emptyRoomCloseMs).
   */
  unusedHomeMs: number;
  logger: Logger;
}

/** The cluster part of /healthz. */
export interface ClusterHealth {
  nodeId: string;
  state: NodeState;
  /** Whether the node's entry is live in the registry (its last renewal reached Redis). */
  registered: boolean;
  redis: { up: boolean; roundTripMs: number | null; errors: number; outages: number };
  roomsHomed: number;
}

export class ClusterNode implements RoomPlacement {
  readonly nodeId: string;
  readonly connection: ClusterConnection;
  readonly keys: ClusterKeys;
  readonly registry: NodeRegistry;
  readonly directory: RoomDirectory;
  /** Where a room's home writes its durable state (fenced by its HomeLease). */
  readonly state: RoomStateStore;
  readonly #logger: Logger;
  readonly #evict: ClusterNodeOptions['evict'];
  #closed = false;

  private constructor(o: ClusterNodeOptions) {
    this.nodeId = o.nodeId;
    this.#logger = o.logger.child({ node: o.nodeId });
    this.#evict = o.evict;
    this.keys = new ClusterKeys(o.config.keyPrefix);
    this.connection = ClusterConnection.open({
      url: o.redisUrl,
      connectTimeoutMs: o.config.connectTimeoutMs,
      commandTimeoutMs: o.config.commandTimeoutMs,
      reconnectMaxDelayMs: o.config.reconnectMaxDelayMs,
      pingEveryMs: o.config.renewEveryMs,
      logger: this.#logger,
    });
    this.registry = new NodeRegistry({
      connection: this.connection,
      keys: this.keys,
      nodeId: o.nodeId,
      url: o.url,
      mediaAddress: o.mediaAddress,
      leaseMs: o.config.nodeLeaseMs,
      renewEveryMs: o.config.renewEveryMs,
      load: () => ({ ...o.load(), homedRooms: this.directory.leases.size }),
      logger: this.#logger,
    });
    this.directory = new RoomDirectory({
      connection: this.connection,
      keys: this.keys,
      nodeId: o.nodeId,
      leaseMs: o.config.roomLeaseMs,
      renewEveryMs: o.config.renewEveryMs,
      nodes: () => this.registry.list(),
      logger: this.#logger,
    });
    this.state = new RedisRoomStateStore(this.connection, this.keys);
    // A room whose home another node holds now must not go on here as a second home.
    this.directory.on('homeLost', (lease: HomeLease, reason) => {
      if (reason !== 'taken') return;
      o.evict(
        lease.room,
        'This room moved to another node of the cluster; please rejoin.',
        ErrorCode.ROOM_ON_OTHER_NODE,
      );
    });
    // A home another node assigned here waits for its room to open here, but not for ever.
    this.directory.on('homeGained', (lease: HomeLease) => {
      if (o.isOpen(lease.room)) return;
      const timer = setTimeout(() => {
        if (this.directory.fence(lease.room) === lease && !o.isOpen(lease.room)) {
          this.#logger.info('unused room home given up', { room: lease.room });
          void this.directory.release(lease.room);
        }
      }, o.unusedHomeMs);
      timer.unref();
    });
    // Back from an outage: register and renew at once, not at the next tick.
    this.connection.on('up', () => {
      void this.registry.renew();
      void this.directory.renew();
    });
  }

  /**
   * Joins the cluster: connects (waiting at most connectTimeoutMs; if Redis
   * is away the node starts anyway and joins when it returns), registers and
   * starts renewing.
   */
  static async start(options: ClusterNodeOptions): Promise<ClusterNode> {
    const node = new ClusterNode(options);
    await new Promise<void>((resolve) => {
      if (node.connection.up) return resolve();
      const timer = setTimeout(resolve, options.config.connectTimeoutMs);
      timer.unref();
      node.connection.once('up', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    node.registry.start();
    node.directory.start();
    await node.registry.renew();
    if (!node.registry.registered)
      node.#logger.warn('started without the cluster: Redis is unreachable; joining when it returns', {});
    return node;
  }

  // --- RoomPlacement
  async beforeOpen(room: string): Promise<void> {
    if (this.#closed || this.registry.state === 'draining')
      throw new HuizhenError(
        ErrorCode.SERVER_SHUTTING_DOWN,
        'This node is leaving the cluster and takes no new rooms; please connect again.',
      );
    if (!this.connection.up) throw clusterUnavailable('Redis is not connected');
    const lease = await this.directory.open(room);
    if (lease.node === this.nodeId) return;
    const home = (await this.registry.list()).find((n) => n.id === lease.node);
    throw roomOnOtherNode(room, lease.node, home?.url ?? 'its URL is not known');
  }

  confirm(room: string): void {
    // The home was taken (or given up) while the room was being created: it must not open here as a second home.
    if (!this.directory.fence(room))
      throw new HuizhenError(
        ErrorCode.ROOM_ON_OTHER_NODE,
        `Room '${room}' moved to another node of the cluster while it opened here; please rejoin.`,
      );
  }

  durableState(room: string): RoomStateWriter {
    return new FencedRoomState({
      room,
      store: this.state,
      fence: () => this.directory.fence(room),
      lost: (id) => {
        this.#logger.warn('room state write refused as stale: this node lost the room', { room: id });
        this.#evict(id, 'This room moved to another node of the cluster; please rejoin.', ErrorCode.ROOM_ON_OTHER_NODE);
      },
      damaged: (id, error) =>
        this.#logger.warn('room state entry skipped', {
          room: id,
          code: error.code,
          part: error.part,
          entry: error.entry,
        }),
    });
  }

  closed(room: string): void {
    void this.directory.release(room);
  }

  /** The node homing `room` now and its public URL, unless that is this node or nobody. Throws CLUSTER_UNAVAILABLE. */
  async homeOf(room: string): Promise<{ id: string; url: string } | undefined> {
    const lease = await this.directory.home(room);
    if (!lease || lease.node === this.nodeId) return undefined;
    const url = await this.urlOf(lease.node);
    return url ? { id: lease.node, url } : undefined;
  }

  /** Where a draining node sends its sessions: the least loaded other active node. */
  async drainTarget(): Promise<{ id: string; url: string } | undefined> {
    const others = (await this.registry.list()).filter((n) => n.id !== this.nodeId && n.state === 'active');
    others.sort((x, y) => x.load.participants - y.load.participants || x.id.localeCompare(y.id));
    const best = others[0];
    return best ? { id: best.id, url: best.url } : undefined;
  }

  /** Resolves once every home this node gave up is released in Redis (or failed to be). */
  released(): Promise<void> {
    return this.directory.settled();
  }

  /** A live node's public URL (undefined: not registered). */
  async urlOf(node: string): Promise<string | undefined> {
    return (await this.registry.list()).find((n) => n.id === node)?.url;
  }

  /** The public URLs of the other live, active nodes (for a client's failover). Throws CLUSTER_UNAVAILABLE. */
  async otherNodeUrls(): Promise<string[]> {
    const nodes = await this.registry.list();
    return nodes.filter((n) => n.id !== this.nodeId && n.state === 'active').map((n) => n.url);
  }

  health(): ClusterHealth {
    const redis = this.connection.stats;
    return {
      nodeId: this.nodeId,
      state: this.registry.state,
      registered: this.registry.registered,
      redis: { up: redis.up, roundTripMs: redis.rttMs, errors: redis.errors, outages: redis.outages },
      roomsHomed: this.directory.leases.size,
    };
  }

  registerMetrics(registry: Registry): void {
    registerClusterMetrics(registry, this);
  }

  /** Marks the node `draining`: no new rooms or participants come here (relay/drainNode.ts moves the live ones). */
  async drain(): Promise<void> {
    await this.registry.setState('draining');
  }

  /** Leaves the cluster: releases the homes, removes the entry, closes the connection. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.directory.stop();
    await this.registry.leave();
    await this.connection.close();
  }
}
