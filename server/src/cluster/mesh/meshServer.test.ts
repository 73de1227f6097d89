/**
 * Node links on real Huizhen nodes (real worker each, one real redis-server):
 * the upgrade at /cluster/link shares the port with /ws, opens only for a
 * node with the cluster secret, and shows in both nodes' metrics; a node
 * without the secret has no mesh and says so.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../testing/redisServer.js';
import { startTestServer, type TestServer } from '../../testing/testServer.js';
import { signLinkHello } from './linkAuth.js';
import { LINK_PATH } from './NodeLinks.js';

const SECRET = 'mesh-test-secret-0123456789abcdef-0123';
let redis: TestRedis;
let a: TestServer;
let b: TestServer;

const node = (id: string, linkSecret: string | null) => ({
  redis: { url: redis.url },
  cluster: { nodeId: id, linkSecret, connectTimeoutMs: 500, commandTimeoutMs: 300, reconnectMaxDelayMs: 200 },
});

beforeAll(async () => {
  redis = await startRedis();
  a = await startTestServer(node('mesh-a', SECRET));
  b = await startTestServer(node('mesh-b', SECRET));
}, 60_000);
afterAll(async () => {
  await a?.close();
  await b?.close();
  await redis?.stop();
});

/** The HTTP status an upgrade request gets (101 when it is accepted). */
function upgradeStatus(url: string, path: string, authorization?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, url), {
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        ...(authorization ? { authorization } : {}),
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

const metric = async (t: TestServer, name: string): Promise<number | undefined> => {
  const text = await (await fetch(`${t.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
};

describe('node links on real nodes', () => {
  it('routes /cluster/link beside /ws: refused without the secret, unknown paths 404, clients unaffected', async () => {
    expect(await upgradeStatus(b.url, LINK_PATH)).toBe(401);
    expect(await upgradeStatus(b.url, LINK_PATH, signLinkHello('not-the-cluster-secret-0123456789', 'mesh-x'))).toBe(
      401,
    );
    expect(await upgradeStatus(b.url, LINK_PATH, signLinkHello(SECRET, 'mesh-b'))).toBe(401); // itself
    expect(await upgradeStatus(b.url, LINK_PATH, signLinkHello(SECRET, 'mesh-x', Date.now() - 60_000))).toBe(401);
    expect(await upgradeStatus(b.url, '/somewhere')).toBe(404);
    const client = await b.connect();
    const joined = await client.join(b.token('dr-b', 'doctor', 'mesh-room'));
    expect(joined.admission).toBe('admitted');
    expect(b.logs.join('\n')).not.toContain(SECRET);
  });

  it('opens one link between two nodes, counted on both, and closes it on both', async () => {
    const link = await a.server.mesh!.links.dial('mesh-b', b.url);
    expect(link.peer).toBe('mesh-b');
    await expect.poll(() => metric(a, 'huizhen_cluster_node_links')).toBe(1);
    await expect.poll(() => metric(b, 'huizhen_cluster_node_links')).toBe(1);
    expect(await metric(b, 'huizhen_cluster_pipe_transports')).toBe(0);
    // Dialing again reuses the open link; the other direction keeps one link too.
    expect(await a.server.mesh!.links.dial('mesh-b', b.url)).toBe(link);
    await b.server.mesh!.links.dial('mesh-a', a.url);
    await expect.poll(() => metric(a, 'huizhen_cluster_node_links')).toBe(1);
    link.close();
    await expect.poll(() => metric(b, 'huizhen_cluster_node_links')).toBe(0);
  });

  it('has no mesh on a node without the secret, and warns', async () => {
    const c = await startTestServer(node('mesh-c', null));
    try {
      expect(c.server.mesh).toBeUndefined();
      expect(c.logs.some((l) => l.includes('without cluster.linkSecret'))).toBe(true);
      expect(await upgradeStatus(c.url, LINK_PATH, signLinkHello(SECRET, 'mesh-a'))).toBe(404);
    } finally {
      await c.close();
    }
  });
});
