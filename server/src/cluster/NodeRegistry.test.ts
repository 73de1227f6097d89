import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../testing/redisServer.js';
import type { ClusterConnection } from './ClusterConnection.js';
import { ClusterKeys } from './keys.js';
import { listNodes } from './NodeRegistry.js';
import { requestDrain } from './drainRequest.js';
import { testRegistry, until } from './testing.js';

let redis: TestRedis;
const connections: ClusterConnection[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await Promise.all(connections.map((c) => c.close()));
  await redis.stop();
});

const keys = new ClusterKeys('test:');

async function node(id: string, load = { rooms: 0, participants: 0, homedRooms: 0 }) {
  const url = `http://127.0.0.1:${id === 'a' ? 3001 : 3002}`;
  const { connection, registry } = await testRegistry({
    redisUrl: redis.url,
    connections,
    keys,
    nodeId: id,
    url,
    load,
  });
  return { connection, registry, load };
}

describe('NodeRegistry on a real redis-server', () => {
  it('lists nodes with their URL, load and state; a node that stops renewing is gone within 3 s', async () => {
    const a = await node('a', { rooms: 2, participants: 5, homedRooms: 1 });
    const b = await node('b');
    a.registry.start();
    b.registry.start();
    await until(async () => (await listNodes(a.connection, keys)).length === 2, 3000, 'two nodes');
    const listed = await a.registry.list();
    expect(listed.map((n) => n.id)).toEqual(['a', 'b']);
    expect(listed[0]).toMatchObject({
      id: 'a',
      url: 'http://127.0.0.1:3001',
      mediaAddress: '127.0.0.1',
      state: 'active',
      load: { rooms: 2, participants: 5, homedRooms: 1 },
    });
    // Load changes are published at the next renewal.
    a.load.participants = 7;
    await until(async () => (await a.registry.list())[0]!.load.participants === 7, 2500, 'new load');

    await b.registry.setState('draining');
    expect((await a.registry.list())[1]!.state).toBe('draining');

    // b stops renewing (paused, killed): gone within 3 s of its last renewal.
    await b.registry.renew();
    const lastRenewal = Date.now();
    b.registry.pause();
    await until(async () => !(await a.registry.list()).some((n) => n.id === 'b'), 4000, 'b gone');
    const gone = Date.now() - lastRenewal;
    expect(gone).toBeLessThanOrEqual(3000);
    expect(gone).toBeGreaterThanOrEqual(2000); // not before its lease
    // a, renewing, is still there; and the index no longer names b.
    expect((await a.registry.list()).map((n) => n.id)).toEqual(['a']);
    expect(await a.connection.command(['SMEMBERS', keys.nodes])).toEqual(['a']);
    await a.registry.leave();
    expect(await listNodes(b.connection, keys)).toEqual([]);
  });

  it('keeps running through a 10 s Redis outage and registers again when Redis returns', async () => {
    const a = await node('c');
    let registrations = 0;
    let failures = 0;
    a.registry.on('registered', () => registrations++);
    a.registry.on('renewFailed', () => failures++);
    a.registry.start();
    await until(() => a.registry.registered, 3000, 'registered');
    expect(registrations).toBe(1);

    await redis.stop();
    await new Promise((r) => setTimeout(r, 10_000));
    expect(a.registry.registered).toBe(false);
    expect(failures).toBeGreaterThanOrEqual(8);

    // The restarted Redis is empty (no persistence): the node must put itself back.
    await redis.start();
    const back = await until(() => a.registry.registered, 4000, 'registered again');
    expect(back).toBeLessThan(3000);
    expect(registrations).toBe(2);
    expect((await a.registry.list()).map((n) => n.id)).toEqual(['c']);
    await a.registry.leave();
  }, 30_000);

  it("takes an operator's drain request (huizhen node drain) at its next renewal, once", async () => {
    const c = await node('c');
    c.registry.start();
    await until(async () => (await listNodes(c.connection, keys)).some((n) => n.id === 'c'), 3000, 'node c');
    let requested = 0;
    c.registry.on('drainRequested', () => requested++);
    expect(await requestDrain(c.connection, keys, 'nobody')).toBe('no such node');
    expect(await requestDrain(c.connection, keys, 'c')).toBe('requested');
    await until(async () => requested === 1, 3000, 'the drain request');
    await c.registry.setState('draining');
    expect(await requestDrain(c.connection, keys, 'c')).toBe('already draining');
    await new Promise((r) => setTimeout(r, 1500));
    expect(requested).toBe(1);
    c.registry.pause();
  });
});
