/**
 * A real home process SIGSTOPped past its lease: another node takes the room
 * at a newer epoch; when the process is SIGCONTed it hears homeLost and every
 * write it makes with its old epoch is refused. Runs the built fixture
 * (server/dist/testing/clusterHomeFixture.js: `npm run build` first).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../config.js';
import { startRedis, type TestRedis } from '../testing/redisServer.js';
import type { ClusterConnection } from './ClusterConnection.js';
import { ClusterKeys } from './keys.js';
import { RedisRoomStateStore } from './RedisRoomStateStore.js';
import { RoomDirectory } from './RoomDirectory.js';
import { testConnection, testLogger, until } from './testing.js';

const FIXTURE = join(PROJECT_ROOT, 'server/dist/testing/clusterHomeFixture.js');

interface Line {
  at: number;
  event: string;
  epoch?: number;
  reason?: string;
  identity?: string;
  sentAt?: number;
  ok?: boolean;
  code?: string;
}

let redis: TestRedis;
let connection: ClusterConnection;
let child: ChildProcess | undefined;
beforeAll(async () => {
  redis = await startRedis();
  connection = testConnection(redis.url);
  await until(() => connection.up, 3000, 'connection up');
});
afterAll(async () => {
  child?.kill('SIGCONT');
  child?.kill('SIGKILL');
  await connection.close();
  await redis.stop();
});

describe('a home process paused past its lease (SIGSTOP / SIGCONT)', () => {
  it('loses the room to a newer epoch, hears homeLost on waking, and its late writes are refused', async () => {
    const lines: Line[] = [];
    child = spawn(process.execPath, [FIXTURE, redis.url, 'sleepy', 'consult-9'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    createInterface({ input: child.stdout! }).on('line', (l) => lines.push(JSON.parse(l) as Line));
    await until(() => lines.filter((l) => l.event === 'write' && l.ok).length >= 3, 5000, 'the home writing');
    expect(lines[0]).toMatchObject({ event: 'claimed', epoch: 1 });

    const keys = new ClusterKeys('paused:');
    const directory = new RoomDirectory({
      connection,
      keys,
      nodeId: 'awake',
      leaseMs: 2500,
      renewEveryMs: 1000,
      nodes: async () => [],
      logger: testLogger(),
    });
    const store = new RedisRoomStateStore(connection, keys);
    child.kill('SIGSTOP');
    const stoppedAt = Date.now();
    expect(await directory.claim('consult-9')).toBeNull(); // its lease still runs
    await until(async () => (await directory.claim('consult-9')) !== null, 4000, 'the room taken over');
    const takenAt = Date.now();
    expect(takenAt - stoppedAt).toBeLessThanOrEqual(3200);
    const lease = directory.fence('consult-9')!;
    expect(lease).toMatchObject({ node: 'awake', epoch: 2 });
    await store.admit(lease, 'awake-1');

    child.kill('SIGCONT');
    await until(() => lines.some((l) => l.event === 'lost'), 3000, 'homeLost in the woken process');
    expect(lines.find((l) => l.event === 'lost')).toMatchObject({ epoch: 1, reason: 'taken' });
    // Let it go on writing a little as the home it no longer is.
    await new Promise((r) => setTimeout(r, 600));
    const late = lines.filter((l) => l.event === 'write' && l.sentAt! > takenAt);
    expect(late.length).toBeGreaterThan(0);
    expect(late.every((l) => !l.ok && l.code === 'STALE_EPOCH')).toBe(true);

    // Exactly one home, and none of the late writes in the room's state.
    expect(await directory.home('consult-9')).toEqual(lease);
    const admitted = (await store.load('consult-9')).admitted;
    expect(admitted).toContain('awake-1');
    for (const l of late) expect(admitted).not.toContain(l.identity);
    const acceptedBeforeStop = lines.filter((l) => l.event === 'write' && l.ok).map((l) => l.identity);
    for (const identity of acceptedBeforeStop) expect(admitted).toContain(identity);
  }, 20_000);
});
