/**
 * Two real Huizhen nodes (real mediasoup worker each) on one real
 * redis-server: registry, homes, the operator view, and a 10 s Redis outage.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ErrorCode } from '@huizhen/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../config.js';
import { startRedis, type TestRedis } from '../testing/redisServer.js';
import { startTestServer, type TestServer } from '../testing/testServer.js';
import { until } from './testing.js';

const run = promisify(execFile);
const CLI = join(PROJECT_ROOT, 'server/dist/cli/main.js');

let redis: TestRedis;
let a: TestServer;
let b: TestServer;

const clusterOverrides = (id: string) => ({
  redis: { url: redis.url },
  cluster: { nodeId: id, connectTimeoutMs: 500, commandTimeoutMs: 300, reconnectMaxDelayMs: 200 },
  rooms: { emptyRoomCloseMs: 2000 },
});

beforeAll(async () => {
  redis = await startRedis();
  a = await startTestServer(clusterOverrides('a'));
  b = await startTestServer(clusterOverrides('b'));
}, 60_000);
afterAll(async () => {
  await a?.close();
  await b?.close();
  await redis?.stop();
});

async function health(node: TestServer) {
  return (await (await fetch(`${node.url}/healthz`)).json()) as {
    status: string;
    cluster: { nodeId: string; state: string; registered: boolean; roomsHomed: number; redis: { up: boolean } };
  };
}

async function joinAs(node: TestServer, identity: string, room: string) {
  const client = await node.connect();
  const start = Date.now();
  const res = await client.call('join', { protocolVersion: 1, token: node.token(identity, 'doctor', room) });
  return { client, res, ms: Date.now() - start };
}

async function status(): Promise<{ nodes: { id: string; state: string; homes: { room: string }[] }[] }> {
  const { stdout } = await run(process.execPath, [CLI, 'cluster', 'status', '--json', 'true'], {
    env: { ...process.env, REDIS_URL: redis.url, HUIZHEN_CONFIG: '' },
  });
  return JSON.parse(stdout);
}

describe('cluster mode: two nodes on one redis-server', () => {
  it('registers both nodes; a room opens homed on the node it is opened on; the other refuses it typed', async () => {
    await until(async () => (await a.server.cluster!.registry.list()).length === 2, 3000, 'two nodes');
    expect((await health(a)).cluster).toMatchObject({ nodeId: 'a', state: 'active', registered: true });

    const first = await joinAs(a, 'dr-wang', 'consult-1');
    expect(first.res.ok).toBe(true);
    expect(a.server.cluster!.directory.leases.get('consult-1')).toMatchObject({ node: 'a' });
    expect((await health(a)).cluster.roomsHomed).toBe(1);

    // Without node links (no cluster.linkSecret) b cannot relay to a room homed on a: a typed refusal naming a.
    const elsewhere = await joinAs(b, 'dr-zhao', 'consult-1');
    expect(elsewhere.res.ok).toBe(false);
    if (!elsewhere.res.ok) {
      expect(elsewhere.res.error.code).toBe(ErrorCode.ROOM_ON_OTHER_NODE);
      expect(elsewhere.res.error.message).toContain(a.url);
    }

    await a.server.cluster!.connection.ping(); // at least one round trip measured
    const metrics = await (await fetch(`${a.url}/metrics`)).text();
    expect(metrics).toMatch(/huizhen_cluster_node_info\{node="a",state="active"\} 1/);
    expect(metrics).toMatch(/huizhen_cluster_rooms_homed 1/);
    expect(metrics).toMatch(/huizhen_cluster_redis_up 1/);
    expect(metrics).toMatch(/huizhen_cluster_redis_round_trip_seconds_count [1-9]/);

    const listed = await status();
    expect(listed.nodes.map((n) => n.id)).toEqual(['a', 'b']);
    expect(listed.nodes[0]!.homes.map((h) => h.room)).toEqual(['consult-1']);
    expect(listed.nodes[1]!.homes).toEqual([]);
    // The table shows the load a's entry published at its last renewal (every second): wait for the join's.
    await until(
      async () => {
        const entry = (await b.server.cluster!.registry.list()).find((n) => n.id === 'a');
        return entry?.load.rooms === 1 && entry.load.participants === 1 && entry.load.homedRooms === 1;
      },
      3000,
      "a's entry showing the room",
    );
    const { stdout: table } = await run(process.execPath, [CLI, 'cluster', 'status'], {
      env: { ...process.env, REDIS_URL: redis.url, HUIZHEN_CONFIG: '' },
    });
    expect(table).toMatch(/^a\s+active\s+1\s+1\s+1\s+http:\/\/127\.0\.0\.1:\d+/m);
    expect(table).toContain('a homes: consult-1 (epoch 1)');
  });

  it('a home paused past its lease: the room moves to the other node and is closed on the late one', async () => {
    // b is the least loaded node (a has a participant), so the room is homed on b.
    const first = await joinAs(b, 'dr-he', 'consult-3');
    expect(first.res).toMatchObject({ ok: true });
    const lease = b.server.cluster!.directory.fence('consult-3')!;
    expect(lease.node).toBe('b');
    // b stops renewing its homes (a stalled event loop, as far as Redis can tell); its registry goes on.
    b.server.cluster!.directory.pause();
    await until(async () => (await a.server.cluster!.directory.home('consult-3')) === null, 4000, 'lease lapsed');
    // A join through a now opens the room there (a and b have one participant each: the opener wins the tie).
    const moved = await joinAs(a, 'dr-zhou', 'consult-3');
    expect(moved.res).toMatchObject({ ok: true });
    expect(a.server.cluster!.directory.fence('consult-3')).toEqual({ room: 'consult-3', node: 'a', epoch: 2 });
    // b wakes up: its renewal is refused, and its copy of the room closes with a typed reason.
    b.server.cluster!.directory.start();
    const closed = await first.client.notification('sessionClosed', () => true, 3000);
    expect(closed.code).toBe(ErrorCode.ROOM_ON_OTHER_NODE);
    await until(() => !b.server.rooms.rooms.has('consult-3'), 2000, 'room gone from b');
    expect(b.server.cluster!.directory.leases.has('consult-3')).toBe(false);
    const listed = await status();
    expect(listed.nodes.filter((n) => n.homes.some((h) => h.room === 'consult-3')).map((n) => n.id)).toEqual(['a']);
  });

  it('Redis stopped for 10 s: open rooms go on, new rooms get CLUSTER_UNAVAILABLE fast, all re-register after', async () => {
    await redis.stop();
    await until(async () => !(await health(a)).cluster.redis.up, 3000, 'a sees Redis down');
    const outage = Date.now();
    // A room already open here takes new participants (its home is this node).
    const local = await joinAs(a, 'nurse-li', 'consult-1');
    expect(local.res.ok).toBe(true);
    // A room not open anywhere here needs the directory: a typed refusal, at once.
    const fresh = await joinAs(b, 'dr-sun', 'consult-2');
    expect(fresh.res.ok).toBe(false);
    if (!fresh.res.ok) expect(fresh.res.error.code).toBe(ErrorCode.CLUSTER_UNAVAILABLE);
    expect(fresh.ms).toBeLessThan(1000);
    await until(async () => !(await health(b)).cluster.registered, 2000, 'b unregistered');
    expect((await health(b)).status).toBe('degraded');
    await expect(status()).rejects.toThrow(/cluster's shared state cannot be reached/);
    await new Promise((r) => setTimeout(r, Math.max(0, 10_000 - (Date.now() - outage))));
    // Nothing crashed or hung: both nodes answer, and the open room still has its people.
    expect((await health(a)).status).toBe('degraded');
    expect(a.server.rooms.rooms.get('consult-1')?.participants.size).toBe(2);

    await redis.start(); // an empty Redis: no persistence
    await until(async () => (await status().catch(() => ({ nodes: [] }))).nodes.length === 2, 5000, 're-registered');
    await until(async () => (await health(a)).cluster.registered, 3000, 'a registered');
    // a took its room's home back (nobody else had it): exactly one home.
    const listed = await status();
    expect(listed.nodes.find((n) => n.id === 'a')!.homes.map((x) => x.room)).toEqual(['consult-1', 'consult-3']);
    expect(listed.nodes.find((n) => n.id === 'b')!.homes).toEqual([]);
    // And a new room opens normally.
    const after = await joinAs(b, 'dr-sun', 'consult-2');
    expect(after.res.ok).toBe(true);
    expect(b.server.cluster!.directory.leases.has('consult-2')).toBe(true);
  }, 40_000);

  it('a new room goes to the least loaded node; an assigned home nobody opens there is given up', async () => {
    // a holds more participants than b now: a fresh room opened through a is homed on b.
    const refused = await joinAs(a, 'dr-qian', 'consult-4');
    expect(refused.res.ok).toBe(false);
    if (!refused.res.ok) {
      expect(refused.res.error.code).toBe(ErrorCode.ROOM_ON_OTHER_NODE);
      expect(refused.res.error.message).toContain(b.url);
    }
    await until(() => b.server.cluster!.directory.leases.has('consult-4'), 2000, 'b adopts consult-4');
    // Nobody joins it on b: the home is released after rooms.emptyRoomCloseMs.
    await until(async () => (await a.server.cluster!.directory.home('consult-4')) === null, 4000, 'home given up');
    expect(b.server.cluster!.directory.leases.has('consult-4')).toBe(false);
  });

  it('a clean shutdown releases its homes and leaves the registry', async () => {
    await b.close();
    const listed = await status();
    expect(listed.nodes.map((n) => n.id)).toEqual(['a']);
    expect(await a.server.cluster!.directory.home('consult-2')).toBeNull();
  });
});
