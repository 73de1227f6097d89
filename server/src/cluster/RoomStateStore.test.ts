import type { ChatMessage, Opinion } from '@huizhen/protocol';
import type { DurableSession, DurableShare } from '../rooms/RoomStateWriter.js';
import { DamagedRoomStateError } from './clusterErrors.js';
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

const session = (
  identity: string,
  joinedAt: number,
  admission: 'admitted' | 'waiting' = 'admitted',
): DurableSession => ({
  sessionId: `s-${identity}-${joinedAt}`,
  identity,
  issuer: 'huizhen-dev',
  role: identity.startsWith('dr') ? 'doctor' : 'patient',
  name: identity,
  permissions: ['chat', 'publishAudio'],
  joinedAt,
  tokenExpiresAt: 1_900_000_000,
  admission,
  ...(admission === 'waiting' ? { waitingSince: joinedAt } : {}),
});

const share = (version: number): DurableShare => ({
  recordId: 'rec-1',
  presenter: 'dr-li',
  view: { page: 2, zoom: 1.5, panX: 0, panY: 0.25, rotation: 90, windowCenter: null, windowWidth: null, version },
});

const opinion = (version: number): Opinion => ({
  version,
  author: { identity: 'dr-li', name: 'Dr Li', role: 'doctor', issuer: 'huizhen-dev' },
  text: `opinion ${version}`,
  writtenAt: 1_700_000_000_000 + version,
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
      sessions: [],
      share: null,
      opinions: [],
      damaged: [],
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
      sessions: [],
      share: null,
      opinions: [],
      damaged: [],
    });
    await store.setBooking(lease, null);
    expect((await store.load('r1')).booking).toBeNull();
  });

  it('keeps one session per identity, the share and each opinion version once', async () => {
    const { store, lease } = await make();
    await store.saveSession(lease, session('dr-li', 1));
    await store.saveSession(lease, session('patient-1', 2, 'waiting'));
    await store.saveSession(lease, session('family-1', 3));
    // The patient was admitted: the same identity's session is replaced, not added.
    await store.saveSession(lease, session('patient-1', 4));
    await store.dropSession(lease, 'family-1');
    await store.dropSession(lease, 'nobody');
    await store.setShare(lease, share(3));
    await store.addOpinion(lease, opinion(1));
    await store.addOpinion(lease, opinion(2));
    await store.addOpinion(lease, opinion(1));
    const state = await store.load('r1');
    expect(state.sessions).toEqual([session('dr-li', 1), session('patient-1', 4)]);
    expect(state.share).toEqual(share(3));
    expect(state.opinions).toEqual([opinion(1), opinion(2)]);
    expect(state.damaged).toEqual([]);
    await store.setShare(lease, null);
    expect((await store.load('r1')).share).toBeNull();
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

describe('RedisRoomStateStore: damaged sessions, share and opinions', () => {
  it('skips each bad entry with a typed error naming it, and rebuilds the rest', async () => {
    const keys = new ClusterKeys('damaged:');
    const directory = new RoomDirectory({
      connection,
      keys,
      nodeId: 'n3',
      leaseMs: 5000,
      renewEveryMs: 1000,
      nodes: async () => [],
      logger: testLogger(),
    });
    const lease = (await directory.claim('r3'))!;
    const store = new RedisRoomStateStore(connection, keys);
    await store.saveSession(lease, session('dr-li', 1));
    await store.addOpinion(lease, opinion(1));
    const sessions = keys.roomState('r3', 'sessions');
    const opinions = keys.roomState('r3', 'opinions');
    await connection.command(['HSET', sessions, 'patient-1', 'not json']);
    // Valid, but kept under another identity: taking it up would let one person resume as another.
    await connection.command(['HSET', sessions, 'patient-2', JSON.stringify(session('patient-3', 2))]);
    await connection.command([
      'HSET',
      sessions,
      'patient-4',
      JSON.stringify({ ...session('patient-4', 3), role: 'admin' }),
    ]);
    await connection.command(['HSET', keys.roomState('r3', 'fields'), 'share', JSON.stringify({ recordId: 'rec-1' })]);
    await connection.command(['HSET', opinions, 'huizhen-dev\ndr-li\n2', JSON.stringify({ ...opinion(2), text: 7 })]);
    await connection.command(['HSET', opinions, 'huizhen-dev\ndr-wu\n1', JSON.stringify(opinion(1))]);

    const state = await store.load('r3');
    expect(state.sessions).toEqual([session('dr-li', 1)]);
    expect(state.share).toBeNull();
    expect(state.opinions).toEqual([opinion(1)]);
    expect(state.damaged.every((e) => e instanceof DamagedRoomStateError && e.code === 'ROOM_STATE_DAMAGED')).toBe(
      true,
    );
    expect(state.damaged.map((e) => `${e.part}/${e.entry}`).sort()).toEqual([
      'opinions/huizhen-dev\ndr-li\n2',
      'opinions/huizhen-dev\ndr-wu\n1',
      'sessions/patient-1',
      'sessions/patient-2',
      'sessions/patient-4',
      'share/share',
    ]);

    // A key of the wrong type altogether: that part is left out and reported, the room still loads.
    await connection.command(['DEL', opinions]);
    await connection.command(['SET', opinions, 'a string, not a hash']);
    const again = await store.load('r3');
    expect(again.opinions).toEqual([]);
    expect(again.sessions).toEqual([session('dr-li', 1)]);
    expect(again.damaged.map((e) => [e.code, e.part, e.entry])).toContainEqual(['ROOM_STATE_DAMAGED', 'opinions', '*']);
  });
});
