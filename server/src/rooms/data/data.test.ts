/**
 * Data channels against a real server and mediasoup worker. The signaling
 * half (SCTP on transports, produceData permissions and topics, the
 * receivers' channels) runs through the protocol client. Node has no WebRTC,
 * so for the message half the test publishes and receives through
 * DirectTransports on the room's router, handed to the relay as the
 * participants' own: every message still goes through the worker, the
 * relay's checks and the envelope.
 */
import type { types } from 'mediasoup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeDataEnvelope, encodeDataEnvelope, ErrorCode, HuizhenError, type Role } from '@huizhen/protocol';
import type { SignalingTestClient } from '../../testing/SignalingTestClient.js';
import { startTestServer, type TestServer } from '../../testing/testServer.js';
import type { Participant } from '../Participant.js';
import type { Room } from '../Room.js';
import type { DataTopicPolicy } from './DataTopic.js';

const sctpCapabilities = { numStreams: { OS: 1024, MIS: 1024 } };

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ data: { maxMessageBytes: 1024, rateLimitPerSec: 5, rateLimitBurst: 10 } });
});
afterAll(async () => {
  await t?.close();
});

async function joined(room: string, identity: string, role: Role): Promise<SignalingTestClient> {
  const c = await t.connect();
  const res = await c.join(t.token(identity, role, room, { name: `Name ${identity}`, kind: 'clinic' }));
  if (res.admission !== 'admitted') throw new Error(`${identity} not admitted`);
  return c;
}

/** Polls `check` (the relay's messages wake no socket) until it returns a value. */
async function until<T>(check: () => T | undefined, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const roomOf = (id: string): Room => {
  const room = t.server.rooms.rooms.get(id);
  if (!room) throw new Error('no room');
  return room;
};
const participant = (room: Room, identity: string): Participant => {
  const p = room.participants.get(identity);
  if (!p) throw new Error(`no participant ${identity}`);
  return p;
};

describe('data channels: signaling', () => {
  it('gives transports SCTP when asked, and opens a DataProducer per allowed topic', async () => {
    const dr = await joined('data-sig', 'dr-a', 'doctor');
    const send = await dr.request('createTransport', { direction: 'send', sctpCapabilities });
    expect(send.sctpParameters).toMatchObject({ maxMessageSize: 262144 });
    const produced = await dr.request('produceData', {
      transportId: send.id,
      sctpStreamParameters: { streamId: 1, ordered: false, maxRetransmits: 0 },
      label: 'app.cursor',
    });
    expect(produced.maxMessageBytes).toBe(1024);

    // Restricted topics without a registered policy, and names that are not topic names.
    for (const [label, code] of [
      ['vitals', ErrorCode.PERMISSION_DENIED],
      ['huizhen.internal', ErrorCode.PERMISSION_DENIED],
      ['Not A Topic', ErrorCode.INVALID_REQUEST],
    ] as const) {
      const res = await dr.call('produceData', { transportId: send.id, sctpStreamParameters: { streamId: 2 }, label });
      expect(res.ok ? 'ok' : res.error.code, label).toBe(code);
    }

    await dr.request('closeDataProducer', { dataProducerId: produced.dataProducerId });
    const again = await dr.call('closeDataProducer', { dataProducerId: produced.dataProducerId });
    expect(again.ok ? 'ok' : again.error.code).toBe(ErrorCode.NOT_FOUND);
  });

  it('refuses data on a transport without SCTP, and to roles without the data permission', async () => {
    const dr = await joined('data-sig-2', 'dr-b', 'doctor');
    const plain = await dr.request('createTransport', { direction: 'send' });
    expect(plain.sctpParameters).toBeUndefined();
    const res = await dr.call('produceData', {
      transportId: plain.id,
      sctpStreamParameters: { streamId: 1 },
      label: 'app.x',
    });
    expect(res.ok ? 'ok' : res.error.code).toBe(ErrorCode.INVALID_STATE);
    const sub = await dr.call('subscribeData', {});
    expect(sub.ok ? 'ok' : sub.error.code).toBe(ErrorCode.INVALID_STATE);

    const observer = await t.connect();
    await observer.join(t.token('obs-b', 'observer', 'data-sig-2', { kind: 'clinic' }));
    await dr.request('admit', { identity: 'obs-b' });
    await observer.notification('admitted');
    const send = await observer.call('createTransport', { direction: 'send', sctpCapabilities });
    expect(send.ok ? 'ok' : send.error.code).toBe(ErrorCode.PERMISSION_DENIED);
    const pd = await observer.call('produceData', {
      transportId: 'x',
      sctpStreamParameters: { streamId: 1 },
      label: 'app.x',
    });
    expect(pd.ok ? 'ok' : pd.error.code).toBe(ErrorCode.PERMISSION_DENIED);
    // Observers publish nothing but still receive free topics.
    await observer.request('createTransport', { direction: 'recv', sctpCapabilities });
    const channels = await observer.request('subscribeData', {});
    expect(channels.channels.map((c) => [c.label, c.reliable])).toEqual([
      ['huizhen.reliable', true],
      ['huizhen.unreliable', false],
    ]);
    expect(channels.channels[1]?.sctpStreamParameters).toMatchObject({ ordered: false, maxRetransmits: 1 });
    // Asking again on the same transport gives the same channels.
    expect((await observer.request('subscribeData', {})).channels).toEqual(channels.channels);
  });
});

/** A participant's receiving side through a DirectTransport: every envelope it gets. */
async function receiver(room: Room, p: Participant) {
  const transport = await room.router.createDirectTransport();
  const got: ReturnType<typeof decodeDataEnvelope>[] = [];
  // The relay's two DataConsumers on this transport (made by subscribe) deliver here.
  transport.observer.on('newdataconsumer', (dc: types.DataConsumer) => {
    dc.on('message', (msg) => got.push(decodeDataEnvelope(new Uint8Array(msg))));
  });
  const res = await room.data.subscribe(p, transport);
  return { transport, got, res };
}

describe('data channels: the relay', () => {
  it('forwards in an envelope naming the real sender, only to receivers the topic allows; refuses and reports', async () => {
    const id = 'data-relay';
    const dr = await joined(id, 'dr-c', 'doctor');
    await joined(id, 'nurse-c', 'nurse');
    await joined(id, 'sp-c', 'specialist');
    const room = roomOf(id);
    const doctor = participant(room, 'dr-c');
    const nurse = participant(room, 'nurse-c');
    const specialist = participant(room, 'sp-c');

    // A restricted topic registered by its module: published by doctors only, received by nurses only.
    const inspected: string[] = [];
    const policy: DataTopicPolicy = {
      topic: 'huizhen.probe',
      mayPublish: (p) => p.role === 'doctor',
      mayReceive: (p) => p.role === 'nurse',
      inspect: (_from, payload) => {
        const text = typeof payload === 'string' ? payload : '';
        inspected.push(text);
        if (text === 'bad') throw new HuizhenError(ErrorCode.INVALID_REQUEST, 'That is not a probe message.');
        return text === 'keep' ? {} : { forward: text.toUpperCase() };
      },
    };
    room.data.topics.register(policy);

    const rNurse = await receiver(room, nurse);
    const rSpecialist = await receiver(room, specialist);
    const rDoctor = await receiver(room, doctor);

    // The doctor's sources (stand-ins for its browser's DataProducers).
    const direct = await room.router.createDirectTransport();
    const app = await direct.produceData({ label: 'app.notes' });
    const vitals = await direct.produceData({ label: 'huizhen.probe' });
    await room.data.attach(doctor, app, { reliable: true });
    await room.data.attach(doctor, vitals, { reliable: false });
    await expect(
      room.data.attach(nurse, await direct.produceData({ label: 'huizhen.probe' }), { reliable: true }),
    ).rejects.toMatchObject({ code: ErrorCode.PERMISSION_DENIED });

    app.send('hello', 51);
    app.send(Buffer.from([1, 2, 3]), 53);
    // A payload that looks like an envelope from someone else stays a payload of the real sender.
    const forged = encodeDataEnvelope(
      {
        v: 1,
        from: { identity: 'dr-fake', name: 'Fake', role: 'doctor' },
        topic: 'app.notes',
        at: 1,
        kind: 'text',
        reliable: true,
      },
      new TextEncoder().encode('trust me'),
    );
    app.send(Buffer.from(forged), 53);
    vitals.send('hr 72', 51);
    vitals.send('keep', 51);
    vitals.send('bad', 51);
    app.send('x'.repeat(1025), 51);

    await until(() => (rNurse.got.length >= 4 ? true : undefined), 'nurse messages');
    await new Promise((r) => setTimeout(r, 300));

    const summary = (g: ReturnType<typeof decodeDataEnvelope>) => ({
      from: g.header.from.identity,
      role: g.header.from.role,
      topic: g.header.topic,
      kind: g.header.kind,
      reliable: g.header.reliable,
      payload: typeof g.payload === 'string' ? g.payload : [...g.payload],
    });
    expect(rNurse.got.map(summary)).toEqual([
      { from: 'dr-c', role: 'doctor', topic: 'app.notes', kind: 'text', reliable: true, payload: 'hello' },
      { from: 'dr-c', role: 'doctor', topic: 'app.notes', kind: 'binary', reliable: true, payload: [1, 2, 3] },
      { from: 'dr-c', role: 'doctor', topic: 'app.notes', kind: 'binary', reliable: true, payload: [...forged] },
      { from: 'dr-c', role: 'doctor', topic: 'huizhen.probe', kind: 'text', reliable: false, payload: 'HR 72' },
    ]);
    expect(rNurse.got[0]?.header.from.name).toBe('Name dr-c');
    // The specialist gets the free topic, not the probe topic; the sender never gets its own messages.
    expect(rSpecialist.got.map((g) => g.header.topic)).toEqual(['app.notes', 'app.notes', 'app.notes']);
    expect(rDoctor.got).toEqual([]);
    expect(inspected).toEqual(['hr 72', 'keep', 'bad']);

    const refused = await dr.waitFor(
      () => {
        const r = dr.notifications.filter((n) => n.notification === 'dataRefused');
        return r.length >= 2 ? r.map((n) => n.data) : undefined;
      },
      5000,
      'refusals',
    );
    expect(refused).toEqual([
      { topic: 'huizhen.probe', code: 'INVALID_REQUEST', reason: 'That is not a probe message.' },
      { topic: 'app.notes', code: 'MESSAGE_TOO_LARGE', reason: 'A data message may carry at most 1024 bytes.' },
    ]);
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/huizhen_data_messages_total\{outcome="forwarded"\} 4/);
    expect(metrics).toMatch(/huizhen_data_messages_total\{outcome="MESSAGE_TOO_LARGE"\} 1/);
    expect(metrics).toMatch(/huizhen_data_messages_total\{outcome="kept"\} 1/);
  });

  it('rate-limits one sender without touching another, and tells the sender once per second', async () => {
    const id = 'data-rate';
    const flooder = await joined(id, 'dr-f', 'doctor');
    await joined(id, 'sp-f', 'specialist');
    await joined(id, 'nurse-f', 'nurse');
    const room = roomOf(id);
    const rNurse = await receiver(room, participant(room, 'nurse-f'));
    const direct = await room.router.createDirectTransport();
    const flood = await direct.produceData({ label: 'app.flood' });
    const calm = await direct.produceData({ label: 'app.calm' });
    await room.data.attach(participant(room, 'dr-f'), flood, { reliable: true });
    await room.data.attach(participant(room, 'sp-f'), calm, { reliable: true });

    for (let i = 0; i < 100; i++) flood.send(`f${i}`, 51);
    calm.send('still here', 51);
    await until(() => (rNurse.got.some((g) => g.payload === 'still here') ? true : undefined), 'calm');
    await new Promise((r) => setTimeout(r, 300));

    const fromFlooder = rNurse.got.filter((g) => g.header.from.identity === 'dr-f');
    // The burst (10) gets through, plus whatever refilled meanwhile at 5/s; far from all 100.
    expect(fromFlooder.length).toBeGreaterThanOrEqual(10);
    expect(fromFlooder.length).toBeLessThan(20);
    expect(fromFlooder.map((g) => g.payload).slice(0, 10)).toEqual([...Array(10).keys()].map((i) => `f${i}`));
    const notices = flooder.notifications.filter((n) => n.notification === 'dataRefused');
    expect(notices.length).toBeGreaterThanOrEqual(1);
    expect(notices.length).toBeLessThanOrEqual(2);
    expect(notices[0]?.data).toMatchObject({ topic: 'app.flood', code: 'RATE_LIMITED' });
  });

  it('drops a sustained flood in the worker for a while, and still counts every refused message', async () => {
    const id = 'data-flood';
    await joined(id, 'dr-s', 'doctor');
    await joined(id, 'nurse-s', 'nurse');
    const room = roomOf(id);
    const rNurse = await receiver(room, participant(room, 'nurse-s'));
    const direct = await room.router.createDirectTransport();
    const flood = await direct.produceData({ label: 'app.flood' });
    await room.data.attach(participant(room, 'dr-s'), flood, { reliable: true });
    const counted = async () => {
      const text = await (await fetch(`${t.url}/metrics`)).text();
      const read = (outcome: string) =>
        Number(new RegExp(`huizhen_data_messages_total\\{outcome="${outcome}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
      return { forwarded: read('forwarded'), limited: read('RATE_LIMITED') };
    };
    const before = await counted();
    const total = 2000;
    for (let i = 0; i < total; i++) flood.send(`f${i}`, 51);
    // After the pause (2 s) the worker's drops are counted too: every message is accounted for.
    await new Promise((r) => setTimeout(r, 3000));
    const now = await counted();
    const forwarded = now.forwarded - before.forwarded;
    const limited = now.limited - before.limited;
    expect(forwarded).toBe(rNurse.got.length);
    expect(forwarded).toBeLessThan(20);
    expect(forwarded + limited).toBe(total);
    expect(t.logs.some((l) => l.includes('data flood: dropping in the media worker'))).toBe(true);
  });

  it('forgets a participant who leaves: their sources close and they receive nothing more', async () => {
    const id = 'data-leave';
    await joined(id, 'dr-l', 'doctor');
    const leaver = await joined(id, 'sp-l', 'specialist');
    const room = roomOf(id);
    const sp = participant(room, 'sp-l');
    const direct = await room.router.createDirectTransport();
    const source = await direct.produceData({ label: 'app.bye' });
    await room.data.attach(sp, source, { reliable: true });
    await leaver.request('leave', {});
    await until(() => (source.closed ? true : undefined), 'source closed');
    expect(source.closed).toBe(true);
  });
});
