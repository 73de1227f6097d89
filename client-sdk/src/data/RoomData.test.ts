/**
 * room.data against the scripted server, with mediasoup-client's fake
 * handler: the SDK's real DataProducer/DataConsumer code runs; the test opens
 * the fake data channels and feeds the receiving ones envelopes, good and bad.
 */
import { FakeHandler, testFakeParameters } from 'mediasoup-client';
import type { DeviceOptions, HandlerInterface } from 'mediasoup-client/types';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeDataEnvelope, type DataEnvelopeHeader } from '@huizhen/protocol';
import { FakeHuizhenServer, WireFailure, participant, webSocketFactory } from '../../test-support/fakeServer.js';
import { fastPolicy, nextEvent } from '../../test-support/roomHelpers.js';
import { connect } from '../connect.js';
import { ErrorCode, HuizhenError } from '../errors.js';
import type { Room } from '../Room.js';
import type { DataMessage } from './RoomData.js';

/** The fake handler's RTCDataChannel stand-in, as far as the test drives it. */
interface FakeChannel {
  label: string;
  ordered: boolean;
  maxRetransmits: number | null;
  _readyState: string;
  dispatchEvent(event: { type: string; data?: unknown }): boolean;
  send(data: unknown): void;
}

/** A fake device that keeps every data channel the SDK opens, and what was sent on each. */
function dataDevice(): { device: DeviceOptions; sending: FakeChannel[]; receiving: FakeChannel[]; sent: unknown[] } {
  const base = FakeHandler.createFactory(testFakeParameters);
  const sending: FakeChannel[] = [];
  const receiving: FakeChannel[] = [];
  const sent: unknown[] = [];
  const factory = (options: Parameters<typeof base.factory>[0]): HandlerInterface => {
    const handler = base.factory(options);
    const send = handler.sendDataChannel.bind(handler);
    handler.sendDataChannel = async (o) => {
      const result = await send(o);
      const channel = result.dataChannel as unknown as FakeChannel;
      channel.send = (data) => void sent.push(data);
      sending.push(channel);
      // Opens as a browser's would, once the association is up.
      setTimeout(() => {
        channel._readyState = 'open';
        channel.dispatchEvent({ type: 'open' });
      }, 5);
      return result;
    };
    const receive = handler.receiveDataChannel.bind(handler);
    handler.receiveDataChannel = async (o) => {
      const result = await receive(o);
      receiving.push(result.dataChannel as unknown as FakeChannel);
      return result;
    };
    return handler;
  };
  return { device: { handlerFactory: { ...base, factory } }, sending, receiving, sent };
}

const header = (over: Partial<DataEnvelopeHeader> = {}): DataEnvelopeHeader => ({
  v: 1,
  from: { identity: 'dr-zhang', name: 'Dr Zhang', role: 'doctor' },
  topic: 'app.notes',
  at: 1764626000000,
  kind: 'text',
  reliable: true,
  ...over,
});
const envelope = (h: DataEnvelopeHeader, payload: string | Uint8Array): ArrayBuffer => {
  const bytes = encodeDataEnvelope(h, typeof payload === 'string' ? new TextEncoder().encode(payload) : payload);
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
};

describe('room.data', () => {
  let server: FakeHuizhenServer;
  let room: Room | undefined;
  let dev: ReturnType<typeof dataDevice>;

  beforeEach(async () => {
    server = await FakeHuizhenServer.start();
    server.permissions = ['publishAudio', 'subscribe', 'data'];
    server.others = [participant('dr-zhang', { name: 'Dr Zhang', role: 'doctor' })];
    dev = dataDevice();
  });
  afterEach(async () => {
    await room?.disconnect();
    room = undefined;
    await server.close();
  });

  const join = async () => {
    room = await connect(server.url, 'the-token', {
      webSocketFactory,
      mediasoupDevice: dev.device,
      requestTimeoutMs: 2000,
      reconnectPolicy: fastPolicy(),
    });
    return room;
  };

  it('opens the receiving channels at join and publishes on one DataProducer per topic and reliability', async () => {
    const r = await join();
    expect(server.methods()).toContain('subscribeData');
    expect(dev.receiving.map((c) => c.label)).toEqual(['huizhen.reliable', 'huizhen.unreliable']);
    expect(r.data.maxMessageBytes).toBe(1024);
    expect(r.data.receiving).toBe(true);

    await r.data.publish('app.notes', 'hello');
    await r.data.publish('app.notes', new Uint8Array([1, 2, 3]));
    await r.data.publish('app.cursor', { x: 0.5, y: 0.25 }, { reliable: false });
    await r.data.publish('app.cursor', [1, 2], { reliable: false });

    const produced = server.requests.filter((q) => q.method === 'produceData').map((q) => q.data);
    expect(produced).toHaveLength(2);
    expect(produced[0]).toMatchObject({ label: 'app.notes', sctpStreamParameters: { ordered: true } });
    expect(produced[0]?.sctpStreamParameters).not.toHaveProperty('maxRetransmits');
    expect(produced[1]).toMatchObject({
      label: 'app.cursor',
      sctpStreamParameters: { ordered: false, maxRetransmits: 0 },
    });
    // The send transport was created with SCTP capabilities too.
    const send = server.requests.find((q) => q.method === 'createTransport' && q.data.direction === 'send');
    expect(send?.data.sctpCapabilities).toBeDefined();
    expect(dev.sent).toEqual(['hello', new Uint8Array([1, 2, 3]), '{"x":0.5,"y":0.25}', '[1,2]']);
  });

  it('refuses with typed errors: bad topic, bad payload, too large, not permitted, refused by the server, not connected', async () => {
    const r = await join();
    const code = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (e: unknown) => (e instanceof HuizhenError ? e.code : String(e)),
      );
    expect(await code(r.data.publish('Bad Topic', 'x'))).toBe(ErrorCode.INVALID_REQUEST);
    expect(await code(r.data.publish('app.x', 42 as never))).toBe(ErrorCode.INVALID_REQUEST);
    expect(await code(r.data.publish('app.x', 'é'.repeat(513)))).toBe(ErrorCode.MESSAGE_TOO_LARGE);
    expect(await code(r.data.publish('app.x', 'é'.repeat(512)))).toBe('ok');

    server.handlers.produceData = () => {
      throw new WireFailure('PERMISSION_DENIED', "The topic 'vitals' is reserved on this server.");
    };
    expect(await code(r.data.publish('vitals', '{}'))).toBe(ErrorCode.PERMISSION_DENIED);
    // A refused topic is asked again next time (the server may allow it by then).
    const asked = server.requests.filter((q) => q.method === 'produceData').length;
    expect(await code(r.data.publish('vitals', '{}'))).toBe(ErrorCode.PERMISSION_DENIED);
    expect(server.requests.filter((q) => q.method === 'produceData').length).toBe(asked + 1);

    await r.disconnect();
    expect(await code(r.data.publish('app.x', 'late'))).toBe(ErrorCode.NOT_JOINED);
  });

  it('says PERMISSION_DENIED without asking the server when the role has no data permission', async () => {
    server.permissions = ['subscribe'];
    const r = await join();
    await expect(r.data.publish('app.x', 'x')).rejects.toMatchObject({ code: ErrorCode.PERMISSION_DENIED });
    expect(server.methods()).not.toContain('produceData');
  });

  it('emits dataReceived for good envelopes only, with the sender the server names', async () => {
    const r = await join();
    const got: DataMessage[] = [];
    r.on('dataReceived', (_payload, _participant, _topic, message) => got.push(message));
    // A module's own topic (as room.vitals takes 'vitals'; that one is Room's own).
    const module: DataMessage[] = [];
    const release = r.data.handleTopic('app.module', (m) => module.push(m));
    const [reliable, unreliable] = dev.receiving as [FakeChannel, FakeChannel];
    const deliver = (channel: FakeChannel, data: unknown) => channel.dispatchEvent({ type: 'message', data });

    deliver(reliable, envelope(header(), 'hello'));
    deliver(
      unreliable,
      envelope(header({ reliable: false, kind: 'binary', topic: 'app.cursor' }), new Uint8Array([9])),
    );
    deliver(reliable, envelope(header({ topic: 'app.json' }), '{"a":1}'));
    deliver(unreliable, envelope(header({ reliable: false, topic: 'app.module' }), '{"samples":[]}'));
    // Bad ones: text frame, wrong magic, header on the wrong channel, claims to be this client,
    // payload over the announced limit, a role that does not exist, text that is not UTF-8.
    deliver(reliable, 'not binary');
    deliver(reliable, new Uint8Array([0x47, 1, 0, 0]).buffer);
    deliver(unreliable, envelope(header(), 'wrong channel'));
    deliver(reliable, envelope(header({ from: { identity: 'me', name: 'Me', role: 'doctor' } }), 'spoof'));
    deliver(reliable, envelope(header(), 'x'.repeat(1025)));
    deliver(reliable, envelope({ ...header(), from: { identity: 'a', name: 'A', role: 'admin' as never } }, 'x'));
    deliver(reliable, envelope(header(), new Uint8Array([0xff, 0xfe])));

    expect(got.map((m) => [m.topic, m.from.identity, m.participant?.identity, m.reliable, m.payload])).toEqual([
      ['app.notes', 'dr-zhang', 'dr-zhang', true, 'hello'],
      ['app.cursor', 'dr-zhang', 'dr-zhang', false, new Uint8Array([9])],
      ['app.json', 'dr-zhang', 'dr-zhang', true, '{"a":1}'],
    ]);
    expect(got[0]?.participant).toBe(r.remoteParticipants.get('dr-zhang'));
    expect(got[0]?.receivedAt).toBe(1764626000000);
    expect(got[2]?.json()).toEqual({ a: 1 });
    expect(() => got[1]?.json()).toThrow(HuizhenError);
    expect(module.map((m) => m.json())).toEqual([{ samples: [] }]);
    expect(r.data.droppedMessages).toBe(7);

    release();
    deliver(unreliable, envelope(header({ reliable: false, topic: 'app.module' }), '{}'));
    expect(got.at(-1)?.topic).toBe('app.module');
  });

  it('is the channel room.vitals sits on: publish of text, and handleTopic', async () => {
    const r = await join();
    // The shape room.vitals asks of its data channel (VitalsDataChannel) is room.data's own.
    const channel: { publish(topic: string, payload: string | Uint8Array, o: { reliable: boolean }): Promise<void> } =
      r.data;
    await channel.publish('app.vitals-test', '{"samples":[]}', { reliable: true });
    expect(dev.sent).toEqual(['{"samples":[]}']);
    const taken: string[] = [];
    const release = r.data.handleTopic('app.module', (m) => taken.push(m.from.identity));
    expect(() => r.data.handleTopic('app.module', () => undefined)).toThrow(HuizhenError);
    release();
    r.data.handleTopic('app.module', () => undefined);
    expect(taken).toEqual([]);
  });

  it('turns dataRefused into a typed error event', async () => {
    const r = await join();
    const refused = nextEvent(r, 'dataRefused');
    server.notify('dataRefused', { topic: 'app.flood', code: 'RATE_LIMITED', reason: 'Too fast.' });
    const [topic, error] = await refused;
    expect(topic).toBe('app.flood');
    expect(error).toBeInstanceOf(HuizhenError);
    expect(error).toMatchObject({ code: ErrorCode.RATE_LIMITED, message: 'Too fast.' });
  });

  it('after a resumed session, keeps its channels and DataProducers (the transports stayed)', async () => {
    const r = await join();
    await r.data.publish('app.notes', 'before');
    const before = server.requests.length;
    const reconnected = nextEvent(r, 'reconnected');
    server.drop();
    expect(await reconnected).toEqual([true]);
    await r.data.publish('app.notes', 'after');
    const methods = server.requests.slice(before).map((q) => q.method);
    expect(methods).not.toContain('produceData');
    expect(methods).not.toContain('subscribeData');
    expect(dev.receiving).toHaveLength(2);
    expect(dev.sent).toEqual(['before', 'after']);
  });

  it('after a fresh session, opens the receiving channels again and reopens its topics on the new transport', async () => {
    const r = await join();
    await r.data.publish('app.notes', 'before');
    const before = server.requests.length;
    server.sessionExpired = true;
    const reconnected = nextEvent(r, 'reconnected');
    server.drop();
    expect(await reconnected).toEqual([false]);
    const after = () => server.requests.slice(before).map((q) => q.method);
    await expect.poll(after).toContain('produceData');
    expect(after()).toContain('subscribeData');
    expect(dev.receiving).toHaveLength(4);
    const reopened = server.requests.slice(before).find((q) => q.method === 'produceData');
    expect(reopened?.data).toMatchObject({ label: 'app.notes' });
    await r.data.publish('app.notes', 'after');
    // The reopened producer is used, not a third one.
    expect(server.requests.slice(before).filter((q) => q.method === 'produceData')).toHaveLength(1);
    expect(dev.sent).toEqual(['before', 'after']);
  });
});
