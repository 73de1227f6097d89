/**
 * The room directory: which node is each room's home. A home is a lease in
 * Redis ("<node>|<epoch>", scripts.ts) that the home renews every
 * `renewEveryMs`; the epoch grows with every new assignment and fences the
 * room's durable writes (RoomStateStore), so a node that was paused past its
 * lease and wakes up late is refused, and learns it by a renewal answered
 * "lost" (`homeLost`), after which it must stop acting for the room.
 *
 * While Redis is away the leases cannot be renewed; the node keeps them
 * (its calls go on locally) and, when Redis is back, renews each one: a
 * lease that expired meanwhile is re-taken only if nobody took the room
 * since (the epoch counter is not newer), otherwise it is lost (`homeLost`,
 * and the room closes here). So a room converges to one home; until a
 * cut-off node hears it lost the room, its writes are refused by the epoch.
 */
import { TypedEmitter } from '@huizhen/protocol';
import type { Logger } from '../observability/logger.js';
import type { ClusterConnection } from './ClusterConnection.js';
import type { ClusterKeys } from './keys.js';
import type { NodeInfo } from './NodeRegistry.js';
import { ASSIGN_HOME, RELEASE_HOME, RENEW_HOME } from './scripts.js';

/** A room's home at a fencing epoch. */
export interface HomeLease {
  room: string;
  node: string;
  epoch: number;
}

export type HomeLostReason = 'taken' | 'released';

export type RoomDirectoryEvents = {
  /** This node became the room's home (it claimed it, or another node assigned it here). */
  homeGained: (lease: HomeLease) => void;
  /** This node is no longer the room's home: stop acting for it (its writes are refused from now). */
  homeLost: (lease: HomeLease, reason: HomeLostReason) => void;
};

export interface RoomDirectoryOptions {
  connection: ClusterConnection;
  keys: ClusterKeys;
  nodeId: string;
  leaseMs: number;
  renewEveryMs: number;
  /** The live nodes, for choosing a new room's home (NodeRegistry.list). */
  nodes: () => Promise<NodeInfo[]>;
  logger: Logger;
}

export class RoomDirectory extends TypedEmitter<RoomDirectoryEvents> {
  readonly #o: RoomDirectoryOptions;
  readonly #held = new Map<string, HomeLease>();
  /** Releases under way: stop() waits for them before the connection closes. */
  readonly #releasing = new Set<Promise<void>>();
  /** Rooms released since the current round began adopting (their GET may predate the RELEASE). */
  readonly #releasedThisRound = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #renewing: Promise<void> | undefined;
  #stopped = false;

  constructor(options: RoomDirectoryOptions) {
    super({ onListenerError: (error, event) => options.logger.error('directory listener failed', { event, error }) });
    this.#o = options;
  }

  get nodeId(): string {
    return this.#o.nodeId;
  }

  /** The rooms homed here, with the epoch each write must carry. */
  get leases(): ReadonlyMap<string, HomeLease> {
    return this.#held;
  }

  /** The lease this node holds for the room, if it is the room's home. */
  fence(room: string): HomeLease | undefined {
    return this.#held.get(room);
  }

  /** Renews the held leases (and adopts rooms assigned here) every `renewEveryMs` until `stop()`. */
  start(): void {
    if (this.#timer || this.#stopped) return;
    this.#timer = setInterval(() => void this.renew(), this.#o.renewEveryMs);
    this.#timer.unref();
  }

  /** Stops renewing; the leases lapse in Redis (a paused or dying node). */
  pause(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** The room's current home, or null. Throws CLUSTER_UNAVAILABLE. */
  async home(room: string): Promise<HomeLease | null> {
    const value = await this.#o.connection.command<string | null>(['GET', this.#o.keys.roomHome(room)]);
    return value == null ? null : parseLease(room, value);
  }

  /**
   * The room's home, assigned now if it has none: to the least loaded active
   * node (this one when the registry is empty). Atomic: nodes opening the
   * same room at once all get the same answer. Throws CLUSTER_UNAVAILABLE.
   */
  async open(room: string): Promise<HomeLease> {
    const existing = await this.home(room);
    if (existing) return this.#note(existing);
    const candidate = leastLoaded(await this.#o.nodes(), this.#o.nodeId) ?? this.#o.nodeId;
    return this.#note(await this.#assign(room, candidate));
  }

  /** Makes this node the room's home if it has none; the lease either way (null: another node's). */
  async claim(room: string): Promise<HomeLease | null> {
    const lease = this.#note(await this.#assign(room, this.#o.nodeId));
    return lease.node === this.#o.nodeId ? lease : null;
  }

  /** Resolves when the releases under way have reached Redis (or failed to). */
  async settled(): Promise<void> {
    await Promise.all([...this.#releasing]);
  }

  /** Gives the room's home up (the room closed here). */
  release(room: string): Promise<void> {
    const lease = this.#held.get(room);
    if (!lease) return Promise.resolve();
    this.#held.delete(room);
    this.#releasedThisRound.add(room);
    const done = this.#release(lease).finally(() => this.#releasing.delete(done));
    this.#releasing.add(done);
    return done;
  }

  async #release(lease: HomeLease): Promise<void> {
    const room = lease.room;
    try {
      await this.#releaseKey(lease);
    } catch (error) {
      // Redis is away: the lease lapses by itself.
      this.#o.logger.warn('room home not released', { room, error });
    }
    this.emit('homeLost', lease, 'released');
  }

  /** One renewal round: every held lease, then rooms assigned here by other nodes. Never throws. */
  renew(): Promise<void> {
    this.#renewing ??= this.#renewAll().finally(() => (this.#renewing = undefined));
    return this.#renewing;
  }

  /** Stops renewing and releases every held lease (a clean exit). */
  async stop(): Promise<void> {
    this.pause();
    this.#stopped = true;
    await this.#renewing;
    await Promise.all([...this.#held.keys()].map((room) => this.release(room)));
    await Promise.all([...this.#releasing]);
  }

  async #assign(room: string, candidate: string): Promise<HomeLease> {
    const { connection, keys } = this.#o;
    const [node, epoch] = await connection.script<[string, number, number]>(
      ASSIGN_HOME,
      [keys.roomHome(room), keys.roomEpoch(room), keys.nodeRooms(candidate)],
      [candidate, String(this.#o.leaseMs), room],
    );
    return { room, node, epoch: Number(epoch) };
  }

  /** Records a lease that names this node (and says so); others' leases pass through. */
  #note(lease: HomeLease): HomeLease {
    if (lease.node !== this.#o.nodeId || this.#stopped) return lease;
    const held = this.#held.get(lease.room);
    if (held?.epoch === lease.epoch) return held;
    if (held) this.emit('homeLost', held, 'taken');
    this.#held.set(lease.room, lease);
    this.#o.logger.info('room homed here', { room: lease.room, epoch: lease.epoch });
    this.emit('homeGained', lease);
    return lease;
  }

  async #renewAll(): Promise<void> {
    const { connection, keys, nodeId } = this.#o;
    // All at once (one pipeline on the connection): a round must fit in leaseMs − renewEveryMs whatever the room count.
    await Promise.allSettled([...this.#held.values()].map((lease) => this.#renewOne(lease)));
    // Rooms another node assigned here (open() chose this node): adopt them.
    this.#releasedThisRound.clear();
    try {
      const assigned = await connection.command<string[]>(['SMEMBERS', keys.nodeRooms(nodeId)]);
      for (const room of assigned) {
        if (this.#held.has(room)) continue;
        const lease = await this.home(room);
        // Given up while that GET was on its way (before the RELEASE reached Redis): not to be adopted back.
        if (this.#releasedThisRound.has(room)) continue;
        if (lease?.node === nodeId) this.#note(lease);
        else await connection.command(['SREM', keys.nodeRooms(nodeId), room]);
      }
    } catch {
      // Redis is away; next round.
    }
  }

  async #renewOne(lease: HomeLease): Promise<void> {
    const { connection, keys, nodeId } = this.#o;
    // Released since the round began: renewing it now would re-take the key its RELEASE deleted.
    if (!this.#holds(lease)) return;
    let result: number;
    let epoch: number;
    try {
      const reply = await connection.script<[number, number]>(
        RENEW_HOME,
        [keys.roomHome(lease.room), keys.roomEpoch(lease.room), keys.nodeRooms(nodeId)],
        [nodeId, String(lease.epoch), String(this.#o.leaseMs), lease.room],
      );
      [result, epoch] = [Number(reply[0]), Number(reply[1])];
    } catch {
      // Redis is away: keep the lease locally and try again next round.
      return;
    }
    if (!this.#holds(lease)) {
      // Released while this renewal was on its way: if it renewed or re-took the key, give it up again
      // (unless the room opened here again meanwhile, at a newer epoch).
      if (result !== 0 && !this.#held.has(lease.room))
        await this.#releaseKey({ ...lease, epoch }).catch(() => undefined);
      return;
    }
    if (result === 2) this.#o.logger.info('room home re-taken after its lease lapsed', { room: lease.room });
    if (result === 3) {
      // Assigned to this node again at a newer epoch (its lease had lapsed): still the home, fenced by that epoch.
      this.#held.set(lease.room, { ...lease, epoch });
      this.#o.logger.info('room home renewed at a newer epoch', { room: lease.room, from: lease.epoch, epoch });
    }
    if (result === 0) {
      this.#held.delete(lease.room);
      this.#o.logger.warn('room home lost to another node', { room: lease.room, epoch: lease.epoch });
      this.emit('homeLost', lease, 'taken');
    }
  }

  /** Whether this node still holds the room at the lease's epoch. */
  #holds(lease: HomeLease): boolean {
    return this.#held.get(lease.room)?.epoch === lease.epoch;
  }

  #releaseKey(lease: HomeLease): Promise<unknown> {
    const { connection, keys, nodeId } = this.#o;
    return connection.script(
      RELEASE_HOME,
      [keys.roomHome(lease.room), keys.nodeRooms(nodeId)],
      [nodeId, String(lease.epoch), lease.room],
    );
  }
}

/**
 * The active node with the fewest participants, then rooms; on a tie the
 * `prefer`red one (the node opening the room: no needless remote home),
 * then the smallest id. Null if no node is active.
 */
export function leastLoaded(nodes: readonly NodeInfo[], prefer?: string): string | null {
  const active = nodes.filter((n) => n.state === 'active');
  active.sort(
    (a, b) =>
      a.load.participants - b.load.participants ||
      a.load.rooms - b.load.rooms ||
      Number(b.id === prefer) - Number(a.id === prefer) ||
      a.id.localeCompare(b.id),
  );
  return active[0]?.id ?? null;
}

function parseLease(room: string, value: string): HomeLease | null {
  const sep = value.lastIndexOf('|');
  const epoch = Number(value.slice(sep + 1));
  if (sep <= 0 || !Number.isInteger(epoch)) return null;
  return { room, node: value.slice(0, sep), epoch };
}
