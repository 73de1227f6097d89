/**
 * A room between `beforeOpen` (its home claimed here) and being put in the
 * room map: it counts as open for the unused-home timer, and if its home is
 * taken meanwhile it does not open here as a second home. Real node (real
 * mediasoup worker) on a real redis-server.
 */
import { ErrorCode } from '@huizhen/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../testing/redisServer.js';
import { startTestServer, type TestServer } from '../testing/testServer.js';
import { ClusterKeys } from './keys.js';
import type { HomeLease } from './RoomDirectory.js';

let redis: TestRedis;
let node: TestServer;

beforeAll(async () => {
  redis = await startRedis();
  node = await startTestServer({
    redis: { url: redis.url },
    cluster: { nodeId: 'solo', connectTimeoutMs: 500, commandTimeoutMs: 300, reconnectMaxDelayMs: 200 },
  });
}, 60_000);
afterAll(async () => {
  await node?.close();
  await redis?.stop();
});

async function join(identity: string, room: string) {
  const client = await node.connect();
  return client.call('join', { protocolVersion: 1, token: node.token(identity, 'doctor', room) });
}

describe('cluster mode: a room being created', () => {
  it('is open for the cluster node, and is refused ROOM_ON_OTHER_NODE if its home is taken meanwhile', async () => {
    const cluster = node.server.cluster!;
    const keys = new ClusterKeys(node.server.config.cluster.keyPrefix);
    const seen: { room: string; open: boolean }[] = [];
    const steal = (lease: HomeLease) => {
      seen.push({ room: lease.room, open: node.server.rooms.isOpen(lease.room) });
      if (lease.room !== 'consult-stolen') return;
      // Another node takes the home at a newer epoch while the room is still being created here;
      // this node's renewal tells it before the creation ends.
      void cluster.connection
        .command(['SET', keys.roomHome(lease.room), `other|${lease.epoch + 1}`, 'PX', '60000'])
        .then(() => cluster.directory.renew());
    };
    cluster.directory.on('homeGained', steal);
    try {
      const kept = await join('dr-wang', 'consult-kept');
      expect(kept.ok).toBe(true);
      const stolen = await join('dr-li', 'consult-stolen');
      expect(stolen.ok).toBe(false);
      if (!stolen.ok) expect(stolen.error.code).toBe(ErrorCode.ROOM_ON_OTHER_NODE);
    } finally {
      cluster.directory.off('homeGained', steal);
    }
    // Both homes were gained while their rooms were still being created, and counted as open.
    expect(seen).toEqual([
      { room: 'consult-kept', open: true },
      { room: 'consult-stolen', open: true },
    ]);
    expect(node.server.rooms.rooms.has('consult-kept')).toBe(true);
    expect(node.server.rooms.isOpen('consult-stolen')).toBe(false);
    expect(cluster.directory.fence('consult-stolen')).toBeUndefined();
    // The other node's home is left alone.
    expect(await cluster.directory.home('consult-stolen')).toMatchObject({ node: 'other' });
  });
});
