/**
 * A cluster-mode node listens before it has joined the cluster (it waits up
 * to connectTimeoutMs for Redis). A join in that window must be refused
 * CLUSTER_UNAVAILABLE: a room opened then would have no home lease. Real
 * node (real mediasoup worker), real redis-server that is down at boot.
 */
import { ErrorCode } from '@huizhen/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignalingTestClient } from '../testing/SignalingTestClient.js';
import { freePort, startRedis, type TestRedis } from '../testing/redisServer.js';
import { startTestServer, type TestServer } from '../testing/testServer.js';
import { until } from './testing.js';

let redis: TestRedis;
let node: TestServer | undefined;
let starting: Promise<TestServer> | undefined;
const clients: SignalingTestClient[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const c of clients) c.close();
  await (node ?? (await starting?.catch(() => undefined)))?.close();
  await redis?.stop();
});

async function tryJoin(url: string, identity: string, room: string) {
  const res = await fetch(`${url}/api/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ identity, name: identity, role: 'doctor', room }),
  });
  expect(res.status).toBe(200);
  const { token } = (await res.json()) as { token: string };
  const client = await SignalingTestClient.connect(url.replace(/^http/, 'ws') + '/ws');
  clients.push(client);
  return client.call('join', { protocolVersion: 1, token });
}

describe('cluster mode: joins before the node has joined the cluster', () => {
  it('are refused CLUSTER_UNAVAILABLE (no homeless room); once joined, the room opens with a home', async () => {
    await redis.stop(); // Redis is away at boot: the node waits connectTimeoutMs for it
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    starting = startTestServer({
      server: { port },
      redis: { url: redis.url },
      cluster: { nodeId: 'early', connectTimeoutMs: 8000, commandTimeoutMs: 300, reconnectMaxDelayMs: 200 },
    });
    let settled = false;
    void starting.then(
      () => (settled = true),
      () => (settled = true),
    );
    await until(
      () =>
        fetch(`${url}/healthz`).then(
          () => true,
          () => false,
        ),
      10_000,
      'the node listening',
    );
    expect(settled).toBe(false); // still in ClusterNode.start

    const early = await tryJoin(url, 'dr-early', 'consult-early');
    expect(early.ok).toBe(false);
    if (!early.ok) expect(early.error.code).toBe(ErrorCode.CLUSTER_UNAVAILABLE);
    expect(settled).toBe(false); // the refusal came from the window, not from a started node

    await redis.start();
    node = await starting;
    await until(() => node!.server.cluster!.registry.registered, 3000, 'registered');
    const later = await tryJoin(url, 'dr-early', 'consult-early');
    expect(later.ok).toBe(true);
    expect(node.server.cluster!.directory.fence('consult-early')).toMatchObject({ node: 'early' });
    expect(await node.server.cluster!.directory.home('consult-early')).toMatchObject({ node: 'early' });
  }, 30_000);
});
