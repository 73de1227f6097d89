/**
 * Shared set-up of the failover tests (failover.test.ts, sessionFailover.test.ts):
 * one real redis-server and two real node processes, a and b, of one cluster,
 * with the clients the test connects to them. Apart from testing.ts because
 * it spawns processes, which the in-process cluster tests have no use for.
 * Runs the built server (server/dist/main.js: `npm run build` first).
 */
import type { ResponseData } from '@huizhen/protocol';
import { ProtocolClient } from '../client/ProtocolClient.js';
import { startNodeProcess, type NodeProcess } from '../testing/nodeProcess.js';
import { startRedis, type TestRedis } from '../testing/redisServer.js';

export type Joined = ResponseData['join'];

export interface FailoverCluster {
  redis: TestRedis;
  a: NodeProcess;
  b: NodeProcess;
  /** A client on `node`; stop() closes it. */
  connect(node: NodeProcess): Promise<ProtocolClient>;
  /** A client on `node` that joined with `token`. */
  joinOn(node: NodeProcess, token: string): Promise<{ client: ProtocolClient; joined: Joined }>;
  /** `host` admits `identity` from the lobby; resolves once `guest` is told. */
  admit(host: ProtocolClient, guest: ProtocolClient, identity: string): Promise<void>;
  /** Closes the clients, kill -9s a (again, if the test did), stops b and redis. */
  stop(): Promise<void>;
}

export async function startFailoverCluster(
  o: { env?: Record<string, string>; sharedRecordsDir?: string } = {},
): Promise<FailoverCluster> {
  const clients: ProtocolClient[] = [];
  let redis: TestRedis | undefined;
  let a: NodeProcess | undefined;
  let b: NodeProcess | undefined;
  const stop = async () => {
    for (const c of clients) c.close();
    await a?.kill();
    await b?.stop();
    await redis?.stop();
  };
  try {
    redis = await startRedis();
    a = await startNodeProcess({ id: 'a', redisUrl: redis.url, ...o });
    b = await startNodeProcess({ id: 'b', redisUrl: redis.url, ...o });
  } catch (error) {
    // What did start must not outlive the failed set-up.
    await stop();
    throw error;
  }
  const connect = async (node: NodeProcess) => {
    const c = await ProtocolClient.connect(node.wsUrl);
    clients.push(c);
    return c;
  };
  return {
    redis,
    a,
    b,
    connect,
    joinOn: async (node, token) => {
      const client = await connect(node);
      return { client, joined: (await client.join(token)) as Joined };
    },
    admit: async (host, guest, identity) => {
      await host.request('admit', { identity });
      await guest.notification('admitted');
    },
    stop,
  };
}
