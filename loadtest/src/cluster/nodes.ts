/**
 * Two Huizhen nodes in cluster mode on loopback for the cross-node bench:
 * the built server, one media worker each, load tests enabled, sharing the
 * bench's Redis and a link secret, each with its own data and audit
 * directories. The single layout runs on node a alone; the split layout adds
 * node b and sends every participant but each room's host there.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LoadTestError } from '../errors.js';
import { freePort } from '../inspector.js';
import { parsePrometheus, type Pinning } from '../probes.js';
import { spawnServer, type SpawnedServer } from '../spawnedServer.js';

export const NODE_IDS = ['a', 'b'] as const;
export type NodeId = (typeof NODE_IDS)[number];

export interface ClusterNodeProcess {
  id: NodeId;
  httpUrl: string;
  server: SpawnedServer;
}

/** The cluster gauges a node exports (cluster/relay, cluster/mesh) plus its open rooms. */
export interface NodeGauges {
  rooms: number;
  roomsHomed: number;
  remoteParticipants: number;
  edgeParticipants: number;
  edgeRooms: number;
  pipeTransports: number;
  nodeLinks: number;
  registered: number;
}

const GAUGES: Record<keyof NodeGauges, string> = {
  rooms: 'huizhen_rooms',
  roomsHomed: 'huizhen_cluster_rooms_homed',
  remoteParticipants: 'huizhen_cluster_remote_participants',
  edgeParticipants: 'huizhen_cluster_edge_participants',
  edgeRooms: 'huizhen_cluster_edge_rooms',
  pipeTransports: 'huizhen_cluster_pipe_transports',
  nodeLinks: 'huizhen_cluster_node_links',
  registered: 'huizhen_cluster_registered',
};

export async function readGauges(httpUrl: string): Promise<NodeGauges> {
  const res = await fetch(`${httpUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
  const m = parsePrometheus(await res.text());
  const out = {} as NodeGauges;
  for (const [key, name] of Object.entries(GAUGES) as [keyof NodeGauges, string][]) {
    const v = m.get(name);
    if (v === undefined)
      throw new LoadTestError('SETUP_FAILED', `${httpUrl}/metrics has no ${name}: not in cluster mode?`);
    out[key] = v;
  }
  return out;
}

/** Polls until `ok` holds for every node's gauges (bounded); false when it never did. */
export async function waitForGauges(
  nodes: readonly ClusterNodeProcess[],
  ok: (g: NodeGauges, id: NodeId) => boolean,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const all = await Promise.all(nodes.map(async (n) => ok(await readGauges(n.httpUrl), n.id)));
    if (all.every(Boolean)) return true;
    if (performance.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * The bench's nodes, started one at a time (node a first: the dev issuer's secret is written by the
 * first server that finds it missing); each is waited for until it is live in the registry (before
 * that a node refuses to open rooms).
 */
export class ClusterNodes {
  readonly #pinning: Pinning;
  readonly #redisUrl: string;
  readonly #scratch = mkdtempSync(join(tmpdir(), 'huizhen-cluster-bench-'));
  readonly #config: string;
  readonly #secret = randomBytes(32).toString('hex');
  readonly running: ClusterNodeProcess[] = [];

  constructor(pinning: Pinning, redisUrl: string) {
    this.#pinning = pinning;
    this.#redisUrl = redisUrl;
    // Rooms the generator left close at once, so one run's leases do not count in the next run's Redis figures.
    this.#config = join(this.#scratch, 'config.json');
    writeFileSync(this.#config, JSON.stringify({ rooms: { emptyRoomCloseMs: 200, reconnectGraceMs: 1000 } }));
  }

  async start(id: NodeId): Promise<ClusterNodeProcess> {
    const port = await freePort();
    const httpUrl = `http://127.0.0.1:${port}`;
    const server = await spawnServer(this.#pinning, {
      env: {
        PORT: String(port),
        REDIS_URL: this.#redisUrl,
        HUIZHEN_NODE_ID: id,
        HUIZHEN_PUBLIC_URL: httpUrl,
        HUIZHEN_CLUSTER_SECRET: this.#secret,
        HUIZHEN_CONFIG: this.#config,
        HUIZHEN_DATA_DIR: join(this.#scratch, id, 'data'),
        HUIZHEN_AUDIT_DIR: join(this.#scratch, id, 'audit'),
      },
    });
    const node = { id, httpUrl, server };
    this.running.push(node);
    if (!(await waitForGauges([node], (g) => g.registered === 1, 15_000)))
      throw new LoadTestError('SETUP_FAILED', `node ${id} did not register in the cluster within 15 s`);
    return node;
  }

  async stop(): Promise<void> {
    await Promise.all(this.running.splice(0).map((n) => n.server.stop()));
    rmSync(this.#scratch, { recursive: true, force: true });
  }
}
