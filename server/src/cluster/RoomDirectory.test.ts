import { ErrorCode } from '@huizhen/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../testing/redisServer.js';
import type { ClusterConnection } from './ClusterConnection.js';
import { StaleEpochError } from './clusterErrors.js';
import { ClusterKeys } from './keys.js';
import { RedisRoomStateStore } from './RedisRoomStateStore.js';
import { RoomDirectory, type HomeLease, type HomeLostReason } from './RoomDirectory.js';
import { testLogger, testRegistry, until } from './testing.js';

let redis: TestRedis;
const connections: ClusterConnection[] = [];
const directories: RoomDirectory[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const d of directories) d.pause();
  await Promise.all(connections.map((c) => c.close()));
  await redis.stop();
});

const keys = new ClusterKeys('dir:');

async function member(id: string, load = { rooms: 0, participants: 0, homedRooms: 0 }) {
  const { connection, registry } = await testRegistry({
    redisUrl: redis.url,
    connections,
    keys,
    nodeId: id,
    url: `http://${id}.test`,
    load,
  });
  const directory = new RoomDirectory({
    connection,
    keys,
    nodeId: id,
    leaseMs: 2500,
    renewEveryMs: 1000,
    nodes: () => registry.list(),
    logger: testLogger(),
  });
  directories.push(directory);
  const gained: HomeLease[] = [];
  const lost: [HomeLease, HomeLostReason][] = [];
  directory.on('homeGained', (l) => gained.push(l));
  directory.on('homeLost', (l, reason) => lost.push([l, reason]));
  return { connection, registry, directory, load, gained, lost, store: new RedisRoomStateStore(connection, keys) };
}

describe('RoomDirectory on a real redis-server', () => {
  it('two nodes racing for one room: exactly one home, both agree on it', async () => {
    const a = await member('a');
    const b = await member('b');
    for (let i = 0; i < 20; i++) {
      const room = `race-${i}`;
      const [la, lb] = await Promise.all([a.directory.claim(room), b.directory.claim(room)]);
      expect([la, lb].filter((l) => l !== null)).toHaveLength(1);
      const homeA = await a.directory.home(room);
      expect(await b.directory.home(room)).toEqual(homeA);
      expect(homeA!.epoch).toBe(1);
      expect(a.directory.leases.has(room) !== b.directory.leases.has(room)).toBe(true);
      // open() from both agrees with the claim, and assigns nothing new.
      const [oa, ob] = await Promise.all([a.directory.open(room), b.directory.open(room)]);
      expect(oa).toEqual(homeA);
      expect(ob).toEqual(homeA);
    }
    await Promise.all([a.directory.stop(), b.directory.stop()]);
  });

  it('opens a new room on the least loaded active node, which adopts it at its next renewal', async () => {
    const busy = await member('busy', { rooms: 3, participants: 12, homedRooms: 3 });
    const idle = await member('idle', { rooms: 1, participants: 2, homedRooms: 1 });
    const drainingIdle = await member('drain', { rooms: 0, participants: 0, homedRooms: 0 });
    for (const m of [busy, idle, drainingIdle]) m.registry.start();
    await drainingIdle.registry.setState('draining');
    await until(async () => (await busy.registry.list()).length === 3, 3000, 'three nodes');
    idle.directory.start();

    const lease = await busy.directory.open('clinic-1');
    expect(lease.node).toBe('idle');
    expect(busy.directory.leases.has('clinic-1')).toBe(false);
    await until(() => idle.directory.leases.has('clinic-1'), 2500, 'idle adopts clinic-1');
    expect(idle.gained.map((l) => l.room)).toEqual(['clinic-1']);
    // Its renewals keep the lease alive past its length.
    await new Promise((r) => setTimeout(r, 3000));
    expect(await busy.directory.home('clinic-1')).toEqual(lease);
    for (const m of [busy, idle, drainingIdle]) await m.registry.leave();
    await idle.directory.stop();
    expect(await busy.directory.home('clinic-1')).toBeNull();
  });

  it('a node paused past its lease wakes up to homeLost, and its stale-epoch writes are refused', async () => {
    const a = await member('a2');
    const b = await member('b2');
    a.directory.start();
    b.directory.start();
    const first = await a.directory.claim('consult-7');
    expect(first).toMatchObject({ node: 'a2', epoch: 1 });
    await a.store.admit(first!, 'patient-1');
    await a.store.setLocked(first!, true);

    // a stops renewing (a GC pause, SIGSTOP, a stalled VM) for longer than the lease.
    a.directory.pause();
    expect(await b.directory.claim('consult-7')).toBeNull(); // still a's while the lease runs
    await until(async () => (await b.directory.claim('consult-7')) !== null, 4000, 'b takes the room');
    const second = b.directory.fence('consult-7')!;
    expect(second).toMatchObject({ node: 'b2', epoch: 2 });
    // The new home reads what the old one wrote, and writes on.
    expect(await b.store.load('consult-7')).toMatchObject({ admitted: ['patient-1'], locked: true });
    await b.store.admit(second, 'family-1');

    // a wakes up and, before it has noticed, still writes with its old epoch: refused.
    await expect(a.store.admit(first!, 'intruder')).rejects.toBeInstanceOf(StaleEpochError);
    await expect(a.store.setLocked(first!, false)).rejects.toMatchObject({ code: 'STALE_EPOCH', epoch: 1 });
    // Its next renewal tells it: homeLost, and it holds nothing any more.
    a.directory.start();
    await until(() => a.lost.length > 0, 2500, 'a hears homeLost');
    expect(a.lost).toEqual([[first, 'taken']]);
    expect(a.directory.leases.size).toBe(0);
    const state = await b.store.load('consult-7');
    expect(state.admitted).toEqual(['family-1', 'patient-1']);
    expect(state.locked).toBe(true);
    // Exactly one home, b's.
    expect(await a.directory.home('consult-7')).toEqual(second);
    await Promise.all([a.directory.stop(), b.directory.stop()]);
  });

  it('after a Redis outage the home re-takes its lapsed lease; nobody else gets a second home', async () => {
    const a = await member('a3');
    const b = await member('b3');
    a.directory.start();
    const lease = (await a.directory.claim('ward-round'))!;
    await a.store.nextNotificationSeq(lease);

    await redis.stop();
    await expect(a.directory.claim('other')).rejects.toMatchObject({ code: ErrorCode.CLUSTER_UNAVAILABLE });
    await expect(a.store.admit(lease, 'x')).rejects.toMatchObject({ code: ErrorCode.CLUSTER_UNAVAILABLE });
    await new Promise((r) => setTimeout(r, 4000)); // past the lease; a keeps the room locally
    expect(a.directory.leases.has('ward-round')).toBe(true);
    expect(a.lost).toEqual([]);
    await redis.start(); // empty: no persistence

    await until(async () => (await b.directory.home('ward-round').catch(() => null)) !== null, 4000, 're-taken');
    expect(await b.directory.home('ward-round')).toEqual(lease);
    expect(await b.directory.claim('ward-round')).toBeNull();
    expect(a.lost).toEqual([]);
    // The fence works again for the re-taken lease.
    await a.store.admit(lease, 'doctor-9');
    expect((await b.store.load('ward-round')).admitted).toEqual(['doctor-9']);
    await a.directory.stop();
  }, 30_000);
  it('rooms released while a renewal round is on its way keep no home (many rooms, renewed at once)', async () => {
    const a = await member('a5');
    const rooms = Array.from({ length: 200 }, (_, i) => `bulk-${i}`);
    for (const room of rooms) await a.directory.claim(room);
    for (const flushScripts of [false, true]) {
      for (const room of rooms) if (!a.directory.leases.has(room)) await a.directory.claim(room);
      expect(a.directory.leases.size).toBe(rooms.length);
      // Redis restarted and forgot its scripts: every renewal and release goes EVALSHA, NOSCRIPT, EVAL.
      if (flushScripts) await a.connection.command(['SCRIPT', 'FLUSH']);
      const round = a.directory.renew();
      await Promise.resolve(); // the round's first replies are not back yet
      const released = Promise.all(rooms.map((room) => a.directory.release(room)));
      await round;
      await released;
      expect(await a.connection.command<string[]>(['KEYS', 'dir:room:bulk-*:home'])).toEqual([]);
      expect(await a.connection.command<string[]>(['SMEMBERS', keys.nodeRooms('a5')])).toEqual([]);
      expect(a.directory.leases.size).toBe(0);
    }
    await a.directory.stop();
  });
  it('a home assigned again to the same node at a newer epoch is renewed at that epoch, not lost', async () => {
    const a = await member('a6');
    const first = (await a.directory.claim('re-assigned'))!;
    expect(first.epoch).toBe(1);
    // Its lease lapsed and another node's open() assigned the room to this same node again, at epoch 3
    // (what ASSIGN_HOME leaves): this node still holds epoch 1 at its next renewal.
    await a.connection.command(['SET', keys.roomHome('re-assigned'), 'a6|3', 'PX', '2500']);
    await a.connection.command(['SET', keys.roomEpoch('re-assigned'), '3']);
    await a.directory.renew();
    expect(a.lost).toEqual([]);
    expect(a.directory.fence('re-assigned')).toEqual({ room: 're-assigned', node: 'a6', epoch: 3 });
    await a.store.admit(a.directory.fence('re-assigned')!, 'patient-3');
    expect((await a.store.load('re-assigned')).admitted).toEqual(['patient-3']);
    expect(await a.connection.command(['PTTL', keys.roomHome('re-assigned')])).toBeGreaterThan(2000);
    await a.directory.stop();
    expect(await a.directory.home('re-assigned')).toBeNull();
  });
});
