/**
 * This node's entry in the cluster's node registry, and the list of all
 * nodes. The entry (signaling URL, media address, load, state) is written
 * with a lease of `nodeLeaseMs` and renewed every `renewEveryMs`; a node that
 * stops renewing (killed, paused, cut off from Redis) disappears from
 * `list()` when its lease runs out. After an outage the next renewal
 * registers the node again (`registered` fires each time it does).
 */
import { TypedEmitter, num, oneOf, parseWith, str } from '@huizhen/protocol';
import * as z from 'zod/mini';
import type { Logger } from '../observability/logger.js';
import type { ClusterConnection } from './ClusterConnection.js';
import type { ClusterKeys } from './keys.js';

export type NodeState = 'active' | 'draining';

export interface NodeLoad {
  rooms: number;
  participants: number;
  /** Rooms whose home this node is. */
  homedRooms: number;
}

const count = num({ integer: true, min: 0, max: 10_000_000 });
const nodeEntry = z.object({
  id: str({ min: 1, max: 64 }),
  url: str({ min: 1, max: 512 }),
  mediaAddress: str({ min: 1, max: 255 }),
  state: oneOf(['active', 'draining'] as const),
  load: z.object({ rooms: count, participants: count, homedRooms: count }),
  startedAt: num({ integer: true, min: 0 }),
  updatedAt: num({ integer: true, min: 0 }),
});

export type NodeInfo = z.infer<typeof nodeEntry>;

export interface NodeRegistryOptions {
  connection: ClusterConnection;
  keys: ClusterKeys;
  nodeId: string;
  url: string;
  mediaAddress: string;
  leaseMs: number;
  renewEveryMs: number;
  /** Read at each renewal. */
  load: () => NodeLoad;
  logger: Logger;
}

export type NodeRegistryEvents = {
  /** The entry was written after it was absent (first start, or Redis came back). */
  registered: () => void;
  /** An operator asked this node to drain (`huizhen node drain <id>`), seen at a renewal. */
  drainRequested: () => void;
  /** A renewal failed; the entry lapses if none succeeds within the lease. */
  renewFailed: (error: unknown) => void;
};

export class NodeRegistry extends TypedEmitter<NodeRegistryEvents> {
  readonly #o: NodeRegistryOptions;
  readonly #startedAt = Date.now();
  #timer: NodeJS.Timeout | undefined;
  #state: NodeState = 'active';
  #registered = false;
  #renewing: Promise<void> | undefined;
  #left = false;

  constructor(options: NodeRegistryOptions) {
    super({ onListenerError: (error, event) => options.logger.error('registry listener failed', { event, error }) });
    this.#o = options;
  }

  get nodeId(): string {
    return this.#o.nodeId;
  }

  get state(): NodeState {
    return this.#state;
  }

  /** Whether the last renewal reached Redis. */
  get registered(): boolean {
    return this.#registered;
  }

  /** Registers now and renews every `renewEveryMs` until `leave()`. */
  start(): void {
    if (this.#timer || this.#left) return;
    void this.renew();
    this.#timer = setInterval(() => void this.renew(), this.#o.renewEveryMs);
    this.#timer.unref();
  }

  /** Stops renewing without removing the entry (it lapses after the lease): a paused node, as tests see it. */
  pause(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** `draining`: no new rooms or participants should come here. Published at once. */
  async setState(state: NodeState): Promise<void> {
    this.#state = state;
    await this.#renewing; // a renewal in flight carries the old state
    await this.renew();
  }

  /** Writes the entry with a fresh lease. Never throws: a failure is an event and a log line. */
  renew(): Promise<void> {
    // One renewal at a time: a slow Redis must not pile them up.
    this.#renewing ??= this.#write().finally(() => (this.#renewing = undefined));
    return this.#renewing;
  }

  async #write(): Promise<void> {
    if (this.#left) return;
    const { connection, keys, nodeId } = this.#o;
    const entry: NodeInfo = {
      id: nodeId,
      url: this.#o.url,
      mediaAddress: this.#o.mediaAddress,
      state: this.#state,
      load: this.#o.load(),
      startedAt: this.#startedAt,
      updatedAt: Date.now(),
    };
    try {
      await connection.command(['SET', keys.node(nodeId), JSON.stringify(entry), 'PX', String(this.#o.leaseMs)]);
      await connection.command(['SADD', keys.nodes, nodeId]);
      // The index of rooms homed here lapses with the node (their leases do too).
      await connection.command(['PEXPIRE', keys.nodeRooms(nodeId), String(this.#o.leaseMs)]);
      // An operator's drain request, taken once (the key goes with it).
      if (this.#state === 'active' && (await connection.command(['GETDEL', keys.nodeDrain(nodeId)])) !== null)
        this.emit('drainRequested');
      if (!this.#registered) {
        this.#registered = true;
        this.#o.logger.info('node registered in the cluster', { node: nodeId, state: this.#state });
        this.emit('registered');
      }
    } catch (error) {
      if (this.#registered) this.#o.logger.warn('node registration not renewed', { node: nodeId, error });
      this.#registered = false;
      this.emit('renewFailed', error);
    }
  }

  /** Every node whose lease is live (this one included once registered). Throws CLUSTER_UNAVAILABLE. */
  list(): Promise<NodeInfo[]> {
    return listNodes(this.#o.connection, this.#o.keys);
  }

  /** Removes the entry and stops renewing (a clean exit; a crash lets the lease lapse). */
  async leave(): Promise<void> {
    this.pause();
    this.#left = true;
    await this.#renewing;
    try {
      await this.#o.connection.command(['DEL', this.#o.keys.node(this.#o.nodeId)]);
      await this.#o.connection.command(['SREM', this.#o.keys.nodes, this.#o.nodeId]);
    } catch {
      // Redis is away: the entry lapses by itself.
    }
    this.#registered = false;
  }
}

/** The live nodes, read from Redis; ids whose entry has lapsed are pruned from the index. */
export async function listNodes(connection: ClusterConnection, keys: ClusterKeys): Promise<NodeInfo[]> {
  const ids = await connection.command<string[]>(['SMEMBERS', keys.nodes]);
  if (ids.length === 0) return [];
  const entries = await connection.command<(string | null)[]>(['MGET', ...ids.map((id) => keys.node(id))]);
  const nodes: NodeInfo[] = [];
  const gone: string[] = [];
  ids.forEach((id, i) => {
    const raw = entries[i];
    if (raw == null) {
      gone.push(id);
      return;
    }
    try {
      nodes.push(parseWith(nodeEntry, JSON.parse(raw)));
    } catch {
      // A malformed entry (another version, a hand edit) is not a node this one can use.
    }
  });
  if (gone.length > 0) await connection.command(['SREM', keys.nodes, ...gone]).catch(() => undefined);
  return nodes.sort((a, b) => a.id.localeCompare(b.id));
}
