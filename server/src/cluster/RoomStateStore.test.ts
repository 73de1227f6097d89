import type { ChatMessage } from '@huizhen/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../testing/redisServer.js';
import type { ClusterConnection } from './ClusterConnection.js';
import { ClusterKeys } from './keys.js';
import { RedisRoomStateStore } from './RedisRoomStateStore.js';
import { RoomDirectory, type HomeLease } from './RoomDirectory.js';
import { CHAT_HISTORY_LIMIT, MemoryRoomStateStore, type RoomStateStore } from './RoomStateStore.js';
import { testConnection, testLogger, until } from './testing.js';

let redis: TestRedis;
let connection: ClusterConnection;
const keys = new ClusterKeys('state:');
beforeAll(async () => {
  redis = await startRedis();
  connection = testConnection(redis.url);
  await until(() => connection.up, 3000, 'connection up');
});
afterAll(async () => {
  await connection.close();
  await redis.stop();
});

const message = (seq: number): ChatMessage => ({
  id: `m-${seq}`,
  seq,
  from: { identity: 'dr-li', name: 'Dr Li', role: 'doctor' },
  text: `message ${seq}`,
  to: seq % 2 ? 'everyone' : 'clinicians',
  sentAt: 1_700_000_000_000 + seq,
});

const implementations: [string, () => Promise<{ store: RoomStateStore; lease: HomeLease }>][] = [
  ['memory', async () => ({ store: new MemoryRoomStateStore(), lease: { room: 'r1', node: 'solo', epoch: 1 } })],
  [
    'redis',
    async () => {
      // A fresh key space per test: nothing carries over from the one before.
      const keys = new ClusterKeys(`state-${Math.random().toString(36).slice(2)}:`);
      const directory = new RoomDirectory({
        connection,
        keys,
        nodeId: 'n1',
        leaseMs: 5000,
        renewEveryMs: 1000,
        nodes: async () => [],
        logger: testLogger(),
      });
      const lease = (await directory.claim('r1'))!;
      return { store: new RedisRoomStateStore(connection, keys), lease };
    },
  ],
];

describe.each(implementations)('RoomStateStore (%s)', (_name, make) => {
  it('keeps admissions, bans, lock, chat, booking and the notification sequence', async () => {
    const { store, lease } = await make();
    expect(await store.load('r1')).toEqual({
      admitted: [],
      banned: [],
      locked: false,
      chat: [],
      booking: null,
      notificationSeq: 0,
    });
    await store.admit(lease, 'patient-1');
    await store.admit(lease, 'family-1');
    await store.admit(lease, 'patient-1');
    await store.revokeAdmission(lease, 'family-1');
    await store.ban(lease, 'troll');
    await store.setLocked(lease, true);
    await store.appendChat(lease, message(1));
    await store.appendChat(lease, message(2));
    const booking = { id: 'r1', kind: 'clinic' as const, capacity: 8, host: 'dr-li', bookedBy: 'his', expiresAt: 9 };
    await store.setBooking(lease, booking);
    expect(await store.nextNotificationSeq(lease)).toBe(1);
    expect(await store.nextNotificationSeq(lease)).toBe(2);
    const state = await store.load('r1');
    expect(state).toEqual({
      admitted: ['patient-1'],
      banned: ['troll'],
      locked: true,
      chat: [message(1), message(2)],
      booking,
      notificationSeq: 2,
    });
    await store.setBooking(lease, null);
    expect((await store.load('r1')).booking).toBeNull();
  });

  it('keeps the last CHAT_HISTORY_LIMIT chat messages', async () => {
    const { store, lease } = await make();
    for (let i = 1; i <= CHAT_HISTORY_LIMIT + 5; i++) await store.appendChat(lease, message(i));
    const chat = (await store.load('r1')).chat;
    expect(chat).toHaveLength(CHAT_HISTORY_LIMIT);
    expect(chat[0]!.seq).toBe(6);
    expect(chat.at(-1)!.seq).toBe(CHAT_HISTORY_LIMIT + 5);
  });
});

describe('RedisRoomStateStore', () => {
  it('skips a damaged chat entry instead of failing the load', async () => {
    const directory = new RoomDirectory({
      connection,
      keys,
      nodeId: 'n2',
      leaseMs: 5000,
      renewEveryMs: 1000,
      nodes: async () => [],
      logger: testLogger(),
    });
    const lease = (await directory.claim('r2'))!;
    const store = new RedisRoomStateStore(connection, keys);
    await store.appendChat(lease, message(1));
    await connection.command(['RPUSH', keys.roomState('r2', 'chat'), '{"not":"a message"}']);
    await connection.command(['HSET', keys.roomState('r2', 'fields'), 'booking', 'garbage']);
    const state = await store.load('r2');
    expect(state.chat).toEqual([message(1)]);
    expect(state.booking).toBeNull();
  });
});
