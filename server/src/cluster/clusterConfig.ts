/**
 * The `cluster` section of the server configuration (documented in
 * config/README.md). It matters only when `redis.url` (REDIS_URL) is set:
 * without Redis the node runs alone, exactly as the embedded default.
 */
import { hostname } from 'node:os';
import { num, str } from '@huizhen/protocol';
import * as z from 'zod/mini';

/** Node ids travel in Redis keys and metric labels: short, plain characters. */
export const NODE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const ms = (min: number, max: number) => num({ integer: true, min, max });

export const clusterConfigSchema = z
  .strictObject({
    /** This node's id (HUIZHEN_NODE_ID); null: derived from the host name and the HTTP port. */
    nodeId: z.nullable(str({ min: 1, max: 64, pattern: NODE_ID_PATTERN })),
    /** The URL other nodes and SDKs reach this node's signaling at (HUIZHEN_PUBLIC_URL); null: the listen URL. */
    publicUrl: z.nullable(str({ min: 8, max: 512, pattern: /^https?:\/\/[^\s/]+(\/[^\s]*)?$/ })),
    /** Every Redis key of this cluster starts with it (several clusters may share one Redis). */
    keyPrefix: str({ min: 1, max: 64, pattern: /^[A-Za-z0-9:._-]+$/ }),
    /** A node's entry lives this long after its last renewal (a node that stops renewing is gone after it). */
    nodeLeaseMs: ms(500, 60_000),
    /** How often a node renews its entry and the leases of the rooms it homes. */
    renewEveryMs: ms(100, 30_000),
    /** A room's home lease lives this long after its last renewal. */
    roomLeaseMs: ms(500, 60_000),
    /** Connecting to Redis gives up after this (then retries with backoff). */
    connectTimeoutMs: ms(50, 60_000),
    /** A Redis command not answered within this fails with CLUSTER_UNAVAILABLE. */
    commandTimeoutMs: ms(10, 60_000),
    /** Longest wait between two reconnection attempts (the backoff doubles up to it). */
    reconnectMaxDelayMs: ms(50, 60_000),
    /**
     * The secret the nodes share to open node links to each other (HUIZHEN_CLUSTER_SECRET), at
     * least 32 characters; null: no node links, so no room's media crosses nodes.
     */
    linkSecret: z.nullable(str({ min: 32, max: 4096 })),
    /** A draining node exits when empty or after this long. */
    drainTimeoutSec: num({ integer: true, min: 1, max: 86_400 }),
  })
  .check(
    z.refine((c) => c.nodeLeaseMs >= 2 * c.renewEveryMs, {
      message: 'nodeLeaseMs must be at least twice renewEveryMs (one lost renewal must not drop the node)',
      path: ['nodeLeaseMs'],
    }),
    z.refine((c) => c.roomLeaseMs >= 2 * c.renewEveryMs, {
      message: 'roomLeaseMs must be at least twice renewEveryMs (one lost renewal must not drop the home)',
      path: ['roomLeaseMs'],
    }),
  );

export type ClusterConfig = z.infer<typeof clusterConfigSchema>;

/** The configured id, or one derived from the host name and port (`host-3001`), made safe for keys. */
export function resolveNodeId(configured: string | null, port: number, host: string = hostname()): string {
  if (configured) return configured;
  const safeHost = host.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'node';
  return `${safeHost.slice(0, 56)}-${port}`;
}

/**
 * Whether this node would publish a URL nobody else can use: listening on a
 * wildcard address (0.0.0.0, ::) without cluster.publicUrl, the listen URL
 * says `localhost`, which on another node or a client is somewhere else.
 */
export function publishesLocalhost(host: string, publicUrl: string | null): boolean {
  return !publicUrl && (host === '0.0.0.0' || host === '::');
}
