/**
 * Relayed sessions on two real nodes (a real worker each, one real
 * redis-server): a patient who connects to node b joins a room homed on a,
 * waits in a's lobby, is admitted by the doctor on a and chats across; the
 * edge serves media requests itself and refuses them before admission; a
 * node link that sends the home nonsense, or the edge a malformed
 * notification, gets a typed refusal and never reaches the client. Data
 * topics opened on b are taken by a's relay, under a's permission checks.
 */
import { ErrorCode } from '@huizhen/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../testing/redisServer.js';
import { startTestServer, type TestServer } from '../../testing/testServer.js';
import { NodeLinkError } from '../mesh/NodeLink.js';

const SECRET = 'relay-test-secret-0123456789abcdef-0123';
let redis: TestRedis;
let a: TestServer;
let b: TestServer;

const node = (id: string) => ({
  redis: { url: redis.url },
  cluster: { nodeId: id, linkSecret: SECRET, connectTimeoutMs: 500, commandTimeoutMs: 300, reconnectMaxDelayMs: 200 },
});

beforeAll(async () => {
  redis = await startRedis();
  a = await startTestServer(node('relay-a'));
  b = await startTestServer(node('relay-b'));
}, 60_000);
afterAll(async () => {
  await a?.close();
  await b?.close();
  await redis?.stop();
});

describe('a room homed on a, joined through b', () => {
  const room = 'relay-consult';

  it('runs the lobby, admission and chat at the home, media requests at the edge', async () => {
    const doctor = await a.connect();
    expect((await doctor.join(a.token('dr-wang', 'doctor', room))).admission).toBe('admitted');

    const patient = await b.connect();
    const joined = await patient.join(b.token('patient-li', 'patient', room));
    expect(joined.admission).toBe('waiting');
    // Where to go if b dies: the nodes other than b.
    expect(joined.clusterNodes).toEqual([a.url]);
    const early = await patient.call('createTransport', { direction: 'send' });
    expect(early.ok ? null : early.error.code).toBe(ErrorCode.NOT_ADMITTED);
    const chatEarly = await patient.call('sendChat', { text: 'hello?' });
    expect(chatEarly.ok ? null : chatEarly.error.code).toBe(ErrorCode.NOT_ADMITTED);

    await doctor.notification('waitingRoomChanged', (d) => d.waiting.some((w) => w.identity === 'patient-li'));
    await doctor.request('admit', { identity: 'patient-li' });
    const admitted = await patient.notification('admitted');
    expect(admitted.routerRtpCapabilities.codecs?.length).toBeGreaterThan(0);

    // The edge's router serves the patient's transports.
    const transport = await patient.request('createTransport', { direction: 'send' });
    expect(transport.iceCandidates.length).toBeGreaterThan(0);
    await expect
      .poll(async () => (await fetch(`${b.url}/metrics`)).text())
      .toMatch(/huizhen_cluster_edge_participants 1\b/);
    expect(await (await fetch(`${a.url}/metrics`)).text()).toMatch(/huizhen_cluster_remote_participants 1\b/);

    // A track published on b reaches a's router, shows in the room view of someone joining at a, and a host there mutes it.
    const { trackId } = await patient.request('produce', {
      transportId: transport.id,
      kind: 'audio',
      source: 'microphone',
      rtpParameters: {
        codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }],
        encodings: [{ ssrc: 22223333 }],
      },
    });
    await expect.poll(() => a.server.rooms.rooms.get(room)?.remote.tracksOf('patient-li').length).toBe(1);
    const nurse = await a.connect();
    const nurseJoin = await nurse.join(a.token('nurse-wu', 'nurse', room));
    if (nurseJoin.admission !== 'admitted') throw new Error('the nurse should come straight in');
    expect(nurseJoin.participants.find((p) => p.identity === 'patient-li')?.tracks).toEqual([
      { trackId, kind: 'audio', source: 'microphone', muted: false },
    ]);
    await doctor.request('muteParticipant', { identity: 'patient-li', source: 'microphone' });
    expect((await patient.notification('mutedByHost')).trackId).toBe(trackId);
    await nurse.notification('trackMuted', (d) => d.trackId === trackId);
    nurse.close();

    await patient.request('sendChat', { text: 'My chest feels tight.' });
    const chat = await doctor.notification('chat', (m) => m.message.from.identity === 'patient-li');
    expect(chat.message.text).toBe('My chest feels tight.');
    await doctor.request('sendChat', { text: 'Since when?' });
    await patient.notification('chat', (m) => m.message.from.identity === 'dr-wang');

    await patient.request('leave', {});
    await doctor.notification('participantLeft', (d) => d.identity === 'patient-li');
    await expect
      .poll(async () => (await fetch(`${a.url}/metrics`)).text())
      .toMatch(/huizhen_cluster_remote_participants 0\b/);
  });

  it('refuses nonsense from a node link with typed errors, and keeps malformed notifications from the client', async () => {
    const link = await b.server.mesh!.links.dial('relay-a', a.url);
    const refusal = async (p: Promise<unknown>): Promise<string | undefined> =>
      p.then(
        () => undefined,
        (e: unknown) => (e instanceof NodeLinkError ? e.remoteCode : String(e)),
      );
    expect(
      await refusal(
        link.request('relayRequest', { room, sessionId: 'nobody', method: 'sendChat', request: { text: 'x' } }),
      ),
    ).toBe(ErrorCode.NOT_JOINED);
    expect(
      await refusal(
        link.request('relayJoin', { room, request: { protocolVersion: 1, token: 'not-a-token' }, remoteIp: null }),
      ),
    ).toBe(ErrorCode.TOKEN_INVALID);
    expect(await refusal(link.request('relayJoin', { room, request: { nonsense: true }, remoteIp: null }))).toBe(
      ErrorCode.INVALID_REQUEST,
    );

    // A live relayed session, for the checks that need one.
    const nurse = await b.connect();
    const joined = await nurse.join(b.token('nurse-zhao', 'nurse', room));
    expect(joined.admission).toBe('admitted');
    const ask = (method: string, request: Record<string, unknown>) =>
      refusal(link.request('relayRequest', { room, sessionId: joined.sessionId, method, request }));
    // Media requests are the edge's; the home does not serve them for a relayed session.
    expect(await ask('createTransport', { direction: 'send' })).toBe(ErrorCode.INVALID_REQUEST);
    expect(await ask('sendChat', { text: 42 })).toBe(ErrorCode.INVALID_REQUEST);
    expect(await ask('noSuchMethod', {})).toBe(ErrorCode.INVALID_REQUEST);
    // Another room's session id does not open this one.
    expect(
      await refusal(
        link.request('relayRequest', {
          room: 'another-room',
          sessionId: joined.sessionId,
          method: 'sendChat',
          request: { text: 'x' },
        }),
      ),
    ).toBe(ErrorCode.NOT_JOINED);

    // The edge checks what the home sends before the client sees it.
    const back = a.server.mesh!.links.get('relay-b')!;
    back.note('relayNotify', { room, sessionId: joined.sessionId, name: 'chat', data: { bogus: 1 }, seq: 99 });
    back.note('relayNotify', { room, sessionId: joined.sessionId, name: 'noSuchNotification', data: {}, seq: null });
    // Answered over the same link after the notes: by then b has dealt with them.
    await nurse.request('sendChat', { text: 'after the noise' });
    expect(nurse.notifications.some((n) => (n.data as { bogus?: unknown }).bogus !== undefined)).toBe(false);
    expect(nurse.notifications.some((n) => (n.notification as string) === 'noSuchNotification')).toBe(false);
    expect(b.logs.some((l) => l.includes('relayed notification refused'))).toBe(true);
    // The nurse's call goes on.
    expect((await nurse.request('getSummary', {})).summary).toBeDefined();
  });

  it("opens data topics of sessions on b at the home's relay, with the home's permission checks", async () => {
    const sctp = { numStreams: { OS: 1024, MIS: 1024 } };
    const code = (r: { ok: boolean; error?: { code: string } }) => (r.ok ? null : r.error?.code);
    const interpreter = await b.connect();
    expect((await interpreter.join(b.token('int-chen', 'interpreter', room))).admission).toBe('admitted');
    const send = await interpreter.request('createTransport', { direction: 'send', sctpCapabilities: sctp });
    expect(send.sctpParameters).toBeDefined();
    // An app topic: the edge's producer is piped to a, where the room's relay takes it as the interpreter's.
    const opened = await interpreter.request('produceData', {
      transportId: send.id,
      sctpStreamParameters: { streamId: 1, ordered: true },
      label: 'app.captions',
    });
    expect(opened.maxMessageBytes).toBeGreaterThan(0);
    await expect
      .poll(async () => (await fetch(`${a.url}/metrics`)).text())
      .toMatch(/huizhen_cluster_pipe_transports [1-9]/);
    // Vitals are the patient's and the family's to publish: the home refuses, and its code reaches the client.
    const vitals = await interpreter.call('produceData', {
      transportId: send.id,
      sctpStreamParameters: { streamId: 2, ordered: true },
      label: 'vitals',
    });
    expect(code(vitals)).toBe(ErrorCode.PERMISSION_DENIED);
    // Receiving: the room's two channels, on b's receive transport, fed from a's relay down the pipe.
    const recv = await interpreter.request('createTransport', { direction: 'recv', sctpCapabilities: sctp });
    expect(recv.sctpParameters).toBeDefined();
    const channels = await interpreter.request('subscribeData', {});
    expect(channels.channels.map((c) => c.reliable).sort()).toEqual([false, true]);
    // Asked again on the same transport: the same channels.
    expect((await interpreter.request('subscribeData', {})).channels.map((c) => c.dataConsumerId).sort()).toEqual(
      channels.channels.map((c) => c.dataConsumerId).sort(),
    );
    await interpreter.request('closeDataProducer', { dataProducerId: opened.dataProducerId });
    expect(code(await interpreter.call('closeDataProducer', { dataProducerId: opened.dataProducerId }))).toBe(
      ErrorCode.NOT_FOUND,
    );
    // A transport without SCTP carries no data, on the edge as at home.
    const plainSend = await interpreter.request('createTransport', { direction: 'send' });
    expect(
      code(
        await interpreter.call('produceData', {
          transportId: plainSend.id,
          sctpStreamParameters: { streamId: 3 },
          label: 'app.captions',
        }),
      ),
    ).toBe(ErrorCode.INVALID_STATE);
    // An observer publishes nothing, data included: refused at the edge before anything is piped.
    const observer = await b.connect();
    await observer.join(b.token('obs-sun', 'observer', room));
    const obsSend = await observer.call('createTransport', { direction: 'send', sctpCapabilities: sctp });
    if (obsSend.ok)
      expect(
        code(
          await observer.call('produceData', {
            transportId: obsSend.data.id,
            sctpStreamParameters: { streamId: 1 },
            label: 'app.captions',
          }),
        ),
      ).toBe(ErrorCode.PERMISSION_DENIED);
    else expect(obsSend.error.code).toBe(ErrorCode.PERMISSION_DENIED);
    interpreter.close();
    observer.close();
  });
});
