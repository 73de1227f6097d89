/**
 * Cluster nodes for browser tests: real Huizhen processes in cluster mode on
 * one test's redis-server, with node links (a shared secret) and a public URL
 * on 127.0.0.1 so the nodes reach each other; pages still open the node's
 * http://localhost URL (a secure context for getUserMedia).
 */
import { randomBytes } from 'node:crypto';
import { freePort, startServer, type HuizhenServer } from './server.js';

/** A secret for one test's node links (the same for every node of the test). */
export const clusterSecret = (): string => randomBytes(32).toString('hex');

export async function startClusterNode(
  id: string,
  redisUrl: string,
  secret: string,
  config?: Record<string, unknown>,
): Promise<HuizhenServer> {
  const port = await freePort();
  return startServer({
    port,
    ...(config ? { config } : {}),
    env: {
      REDIS_URL: redisUrl,
      HUIZHEN_NODE_ID: id,
      HUIZHEN_PUBLIC_URL: `http://127.0.0.1:${port}`,
      HUIZHEN_CLUSTER_SECRET: secret,
    },
  });
}

/** A gauge's value on a node's /metrics. */
export async function gauge(node: HuizhenServer, name: string): Promise<number> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  const m = new RegExp(`^${name} (\\d+(?:\\.\\d+)?)$`, 'm').exec(text);
  if (!m) throw new Error(`${name} is not in ${node.url}/metrics`);
  return Number(m[1]);
}
