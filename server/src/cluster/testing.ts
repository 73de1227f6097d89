/** Shared set-up of the cluster tests: a connection with short timeouts and a log collector. */
import { createLogger, type Logger } from '../observability/logger.js';
import { ClusterConnection } from './ClusterConnection.js';
import type { ClusterKeys } from './keys.js';
import { NodeRegistry, type NodeLoad } from './NodeRegistry.js';

export function testLogger(lines: string[] = []): Logger {
  return createLogger({ level: 'debug', write: (line) => lines.push(line) });
}

export function testConnection(url: string, logger: Logger = testLogger()): ClusterConnection {
  return ClusterConnection.open({
    url,
    connectTimeoutMs: 500,
    commandTimeoutMs: 300,
    reconnectMaxDelayMs: 200,
    pingEveryMs: 200,
    logger,
  });
}

export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await check()) return Date.now() - start;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A connected test connection (pushed to `connections` for closing) and a node entry with 2.5 s leases. */
export async function testRegistry(o: {
  redisUrl: string;
  connections: ClusterConnection[];
  keys: ClusterKeys;
  nodeId: string;
  url: string;
  load: NodeLoad;
}): Promise<{ connection: ClusterConnection; registry: NodeRegistry }> {
  const connection = testConnection(o.redisUrl);
  o.connections.push(connection);
  await until(() => connection.up, 3000, 'connection up');
  const registry = new NodeRegistry({
    connection,
    keys: o.keys,
    nodeId: o.nodeId,
    url: o.url,
    mediaAddress: '127.0.0.1',
    leaseMs: 2500,
    renewEveryMs: 1000,
    load: () => o.load,
    logger: testLogger(),
  });
  return { connection, registry };
}
