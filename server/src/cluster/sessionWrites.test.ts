/**
 * What a room's home writes of its sessions, share and opinions as the
 * consult goes on (real node, real mediasoup worker, real redis-server),
 * read back the way a new home reads it (RedisRoomStateStore.load): a join,
 * a wait and an admission write the session; a fresh join of the same person
 * replaces it; a leave, a removal and a turn-away drop it; a refreshed token
 * moves its expiry; every share change and opinion version is there.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePdf } from '../records/testFiles.js';
import { startRedis, type TestRedis } from '../testing/redisServer.js';
import { startTestServer, type TestServer } from '../testing/testServer.js';
import { ClusterKeys } from './keys.js';
import { RedisRoomStateStore } from './RedisRoomStateStore.js';
import { until } from './testing.js';

let redis: TestRedis;
let node: TestServer;
let store: RedisRoomStateStore;
let keys: ClusterKeys;

beforeAll(async () => {
  redis = await startRedis();
  node = await startTestServer({
    redis: { url: redis.url },
    cluster: { nodeId: 'solo', connectTimeoutMs: 500, commandTimeoutMs: 300, reconnectMaxDelayMs: 200 },
  });
  keys = new ClusterKeys(node.server.config.cluster.keyPrefix);
  store = new RedisRoomStateStore(node.server.cluster!.connection, keys);
}, 60_000);
afterAll(async () => {
  await node?.close();
  await redis?.stop();
});

const ROOM = 'consult-writes';
const sessions = async () => {
  const s = await store.load(ROOM);
  return Object.fromEntries(s.sessions.map((x) => [x.identity, x]));
};

describe('cluster mode: the durable sessions, share and opinions a home writes', () => {
  it('keeps them in step with the room', async () => {
    const doctor = await node.connect();
    const doctorToken = node.token('dr-wang', 'doctor', ROOM);
    const doctorJoin = await doctor.join(doctorToken);
    let s = await sessions();
    expect(Object.keys(s)).toEqual(['dr-wang']);
    expect(s['dr-wang']).toMatchObject({
      sessionId: doctorJoin.sessionId,
      role: 'doctor',
      name: 'dr-wang',
      admission: 'admitted',
      joinedAt: doctorJoin.participant.joinedAt,
    });
    expect(s['dr-wang']!.permissions).toEqual(expect.arrayContaining(['admit', 'writeOpinion']));
    // Never the token (nor any part of it: its signature is the secret part).
    const raw = await node.server.cluster!.connection.command<unknown>(['HGETALL', keys.roomState(ROOM, 'sessions')]);
    expect(JSON.stringify(raw)).not.toContain(doctorToken.split('.').at(-1));

    // Waiting, then admitted: the same session, its admission moved on.
    const patient = await node.connect();
    const patientJoin = await patient.join(node.token('patient-li', 'patient', ROOM));
    expect(patientJoin.admission).toBe('waiting');
    const { waiting } = await doctor.notification('waitingRoomChanged');
    s = await sessions();
    expect(s['patient-li']).toMatchObject({
      sessionId: patientJoin.sessionId,
      admission: 'waiting',
      waitingSince: waiting[0]!.since,
    });
    await doctor.request('admit', { identity: 'patient-li' });
    s = await sessions();
    expect(s['patient-li']).toMatchObject({ sessionId: patientJoin.sessionId, admission: 'admitted' });
    expect(s['patient-li']!.waitingSince).toBeUndefined();

    // A fresh join of the same person replaces the session; the replaced one's leave drops nothing.
    const patient2 = await node.connect();
    const rejoin = await patient2.join(node.token('patient-li', 'patient', ROOM));
    await sleep(100);
    expect((await sessions())['patient-li']?.sessionId).toBe(rejoin.sessionId);

    // A refreshed token moves the expiry a new home arms.
    const before = (await sessions())['dr-wang']!.tokenExpiresAt;
    await sleep(1100);
    await doctor.request('refreshToken', { token: node.token('dr-wang', 'doctor', ROOM) });
    await until(async () => (await sessions())['dr-wang']!.tokenExpiresAt > before, 2000, 'the new expiry');

    // Left, turned away, removed: gone (in the background: nobody waits on a leave).
    const nurse = await node.connect();
    await nurse.join(node.token('nurse-zhou', 'nurse', ROOM));
    const family = await node.connect();
    await family.join(node.token('family-li', 'family', ROOM));
    expect(Object.keys(await sessions()).sort()).toEqual(['dr-wang', 'family-li', 'nurse-zhou', 'patient-li']);
    await nurse.request('leave', {});
    await doctor.request('deny', { identity: 'family-li' });
    await doctor.request('removeParticipant', { identity: 'patient-li' });
    await until(async () => Object.keys(await sessions()).join() === 'dr-wang', 2000, 'the ended sessions dropped');

    // The share and its view on every change; opinions by version.
    const upload = await fetch(`${node.url}/api/rooms/${ROOM}/records?name=lab.pdf`, {
      method: 'POST',
      headers: { authorization: `Bearer ${node.token('dr-wang', 'doctor', ROOM)}`, 'content-type': 'application/pdf' },
      body: new Uint8Array(makePdf(2)),
    });
    expect(upload.status).toBe(201);
    const { record } = (await upload.json()) as { record: { id: string } };
    await doctor.request('shareRecord', { recordId: record.id });
    expect((await store.load(ROOM)).share).toMatchObject({ recordId: record.id, presenter: 'dr-wang' });
    const { view } = await doctor.request('setViewState', { recordId: record.id, view: { page: 2, rotation: 90 } });
    expect((await store.load(ROOM)).share?.view).toEqual(view);
    await doctor.request('stopShare', { recordId: record.id });
    expect((await store.load(ROOM)).share).toBeNull();

    const first = await doctor.request('setOpinion', { text: 'Mild persistent asthma.' });
    await sleep(1100);
    const second = await doctor.request('setOpinion', { text: 'Mild persistent asthma; step up to ICS.' });
    expect((await store.load(ROOM)).opinions).toEqual([first.opinion, second.opinion]);
    expect((await store.load(ROOM)).damaged).toEqual([]);
  }, 30_000);
});
