/**
 * What `huizhen cluster status` shows: every live node, its load and state,
 * and the rooms it homes (each checked against its home lease, so a room a
 * node lost but has not yet noticed is not listed twice).
 */
import type { ClusterConnection } from './ClusterConnection.js';
import type { ClusterKeys } from './keys.js';
import { listNodes, type NodeInfo } from './NodeRegistry.js';

export interface ClusterStatus {
  nodes: (NodeInfo & { homes: { room: string; epoch: number }[] })[];
}

export async function readClusterStatus(connection: ClusterConnection, keys: ClusterKeys): Promise<ClusterStatus> {
  const nodes = await listNodes(connection, keys);
  const out: ClusterStatus['nodes'] = [];
  for (const node of nodes) {
    const rooms = (await connection.command<string[]>(['SMEMBERS', keys.nodeRooms(node.id)])).sort();
    const leases =
      rooms.length === 0
        ? []
        : await connection.command<(string | null)[]>(['MGET', ...rooms.map((r) => keys.roomHome(r))]);
    const homes: { room: string; epoch: number }[] = [];
    rooms.forEach((room, i) => {
      const value = leases[i];
      const sep = value?.lastIndexOf('|') ?? -1;
      if (value && sep > 0 && value.slice(0, sep) === node.id)
        homes.push({ room, epoch: Number(value.slice(sep + 1)) });
    });
    out.push({ ...node, homes });
  }
  return { nodes: out };
}

/** A plain-text table for operators. */
export function formatClusterStatus(status: ClusterStatus, now = Date.now()): string {
  if (status.nodes.length === 0) return 'no nodes registered in the cluster\n';
  const header = ['NODE', 'STATE', 'ROOMS', 'PARTICIPANTS', 'HOMED', 'URL', 'MEDIA', 'SEEN'];
  const rows = status.nodes.map((n) => [
    n.id,
    n.state,
    String(n.load.rooms),
    String(n.load.participants),
    String(n.homes.length),
    n.url,
    n.mediaAddress,
    `${Math.max(0, Math.round((now - n.updatedAt) / 100) / 10)}s ago`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const lines = [`${status.nodes.length} node(s)`, line(header), ...rows.map(line)];
  for (const n of status.nodes) {
    if (n.homes.length > 0)
      lines.push(`${n.id} homes: ${n.homes.map((h) => `${h.room} (epoch ${h.epoch})`).join(', ')}`);
  }
  return lines.join('\n') + '\n';
}
