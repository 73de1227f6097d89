/**
 * `huizhen node drain <id>`: asks a live node to drain, through Redis (the
 * node takes the request at its next renewal, within a second, and drains as
 * on SIGTERM: sessions move, homes are handed over, then it exits). No HTTP
 * admin endpoint is needed, so nothing new listens on the network.
 */
import type { ClusterConnection } from './ClusterConnection.js';
import type { ClusterKeys } from './keys.js';
import { listNodes } from './NodeRegistry.js';

/** How long an unanswered request stays (a node that does not renew within it is gone anyway). */
const REQUEST_TTL_MS = 60_000;

export type DrainRequestOutcome = 'requested' | 'already draining' | 'no such node';

export async function requestDrain(
  connection: ClusterConnection,
  keys: ClusterKeys,
  nodeId: string,
): Promise<DrainRequestOutcome> {
  const node = (await listNodes(connection, keys)).find((n) => n.id === nodeId);
  if (!node) return 'no such node';
  if (node.state === 'draining') return 'already draining';
  await connection.command(['SET', keys.nodeDrain(nodeId), String(Date.now()), 'PX', String(REQUEST_TTL_MS)]);
  return 'requested';
}
