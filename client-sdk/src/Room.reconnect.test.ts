/**
 * Reconnection and token refresh against the scripted server: resume after a
 * drop, the fresh-join fallback, giving up, sessions the server closed on
 * purpose, and token renewal.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  FakeHuizhenServer,
  type ReceivedRequest,
  WireFailure,
  consumerCreated,
  mediasoupDevice,
  participant,
  recordingDevice,
  webSocketFactory,
} from '../test-support/fakeServer.js';
import { connectOptions, useFakeServer } from '../test-support/fakeServerTest.js';
import { fakeTrack, fastPolicy, nextEvent, recordEvents, sleep } from '../test-support/roomHelpers.js';
import { connect } from './connect.js';
import { ConnectionError, DisconnectReason, ErrorCode } from './errors.js';
import type { ConnectOptions } from './options.js';
import type { TokenProvider } from './TokenRefresher.js';
import type { ChatMessage } from '@huizhen/protocol';
import { Room } from './Room.js';
import type { RemoteTrack } from './tracks.js';

const chat = (seq: number, text: string): ChatMessage => ({
  id: `chat-${seq}`,
  seq,
  from: { identity: 'dr-zhang', name: 'Dr Zhang', role: 'doctor' },
  text,
  to: 'everyone',
  sentAt: 1_700_000_000_000 + seq,
});

/** Publishes a microphone, as the server lists him in room views. */
const drZhang = participant('dr-zhang', {
  tracks: [{ trackId: 'p-mic', kind: 'audio', source: 'microphone', muted: false }],
});

const WATCHED = [
  'connectionStateChanged',
  'reconnecting',
  'reconnected',
  'participantJoined',
  'participantLeft',
  'trackSubscribed',
  'trackUnsubscribed',
  'localTrackPublished',
  'localTrackUnpublished',
  'disconnected',
] as const;

describe('Room reconnection', () => {
  const ctx = useFakeServer();
  const options = (extra: ConnectOptions = {}): ConnectOptions => ({
    ...connectOptions(),
    reconnectPolicy: fastPolicy(),
    ...extra,
  });

  beforeEach(() => {
    ctx.server.others = [drZhang];
    ctx.server.initialConsumers = [
      consumerCreated({ consumerId: 'c-1', trackId: 'p-mic', participantIdentity: 'dr-zhang' }),
    ];
  });

  /** A connected room that receives Dr Zhang's microphone and publishes its own. */
  async function inCall(extra: ConnectOptions = {}) {
    const r = new Room(options(extra));
    const subscribed = nextEvent(r, 'trackSubscribed');
    await r.connect(ctx.server.url, 'token-1');
    const [remoteMic] = await subscribed;
    const mic = await r.localParticipant.publishMicrophone({ track: fakeTrack('audio') });
    return { r, remoteMic, mic };
  }

  /**
   * Drops the socket and waits until the room reconnected and receives Dr Zhang's microphone again; gives the
   * `reconnected` event's arguments and the requests sent meanwhile.
   */
  async function dropUntilResubscribed(r: Room): Promise<{ reconnected: [boolean]; after: ReceivedRequest[] }> {
    const before = ctx.server.requests.length;
    const resubscribed = new Promise<void>((resolve) => r.on('trackSubscribed', () => resolve()));
    const reconnected = nextEvent(r, 'reconnected');
    ctx.server.drop();
    const args = await reconnected;
    await resubscribed;
    return { reconnected: args, after: ctx.server.requests.slice(before) };
  }

  /** Remote media was received anew: the old track ended and a new one came; the participant object stays. */
  function expectMicReceivedAnew(r: Room, oldMic: RemoteTrack, events: string[], resumed: boolean): void {
    expect(oldMic.isEnded).toBe(true);
    expect(events).toEqual([
      'connectionStateChanged:reconnecting',
      'reconnecting',
      'trackUnsubscribed:p-mic',
      'connectionStateChanged:connected',
      `reconnected:${resumed}`,
      'trackSubscribed:p-mic',
    ]);
    expect(r.remoteParticipants.get('dr-zhang')?.tracks.get('p-mic')?.isEnded).toBe(false);
  }

  it('resumes the same session after a drop: nobody leaves, ICE restarts, missed notifications apply once', async () => {
    const recorder = recordingDevice();
    const { r, remoteMic, mic } = await inCall({ mediasoupDevice: recorder.device });
    ctx.room = r;
    const events = recordEvents(r, [...WATCHED]);
    const before = ctx.server.requests.length;
    // While away: a nurse joined (also in the view), a chat came.
    const nurse = participant('nurse-wu', { role: 'nurse' });
    ctx.server.others = [drZhang, nurse];
    ctx.server.view = { chatHistory: [chat(1, 'are you there?')] };
    ctx.server.replay = [
      ['participantJoined', { participant: nurse }],
      ['chat', { message: chat(1, 'are you there?') }],
      ['chat', { message: chat(2, 'back?') }],
    ];
    const chats: string[] = [];
    r.on('chat', (m) => chats.push(m.text));
    const iceRestarts: unknown[] = [];
    for (const handler of recorder.handlers) {
      const original = handler.restartIce.bind(handler);
      handler.restartIce = async (params) => {
        iceRestarts.push(params);
        return original(params);
      };
    }

    const reconnecting = nextEvent(r, 'reconnecting');
    const reconnected = nextEvent(r, 'reconnected');
    ctx.server.drop();
    const [lost] = await reconnecting;
    expect(lost).toBeInstanceOf(ConnectionError);
    expect(r.state).toBe('reconnecting');
    expect(await reconnected).toEqual([true]);
    await vi.waitFor(() => expect(chats).toEqual(['are you there?', 'back?']));

    expect(r.state).toBe('connected');
    expect(r.sessionId).toBe('sess-1');
    const after = ctx.server.requests.slice(before);
    expect(after[0]).toMatchObject({
      method: 'join',
      data: { protocolVersion: 1, token: 'token-1', resumeSessionId: 'sess-1' },
    });
    // ICE restarted on both transports (the ones that connected before the drop), and the new parameters reached them.
    const restarts = after.filter((q) => q.method === 'restartIce').map((q) => q.data.transportId);
    const transports = ctx.server.requests
      .filter((q) => q.method === 'connectTransport')
      .map((q) => q.data.transportId);
    expect(restarts).toHaveLength(2);
    expect(new Set(restarts)).toEqual(new Set(transports));
    expect(recorder.handlers).toHaveLength(2);
    expect(iceRestarts).toEqual([
      expect.objectContaining({ usernameFragment: 'u2' }),
      expect.objectContaining({ usernameFragment: 'u2' }),
    ]);
    // Nothing was set up again: the same transports, producer and consumer go on.
    expect(
      after.some((q) => ['createTransport', 'setRtpCapabilities', 'produce', 'resumeConsumer'].includes(q.method)),
    ).toBe(false);
    expect(events).toEqual([
      'connectionStateChanged:reconnecting',
      'reconnecting',
      'participantJoined:nurse-wu',
      'connectionStateChanged:connected',
      'reconnected:true',
    ]);
    expect(remoteMic.isEnded).toBe(false);
    expect(r.remoteParticipants.get('dr-zhang')?.tracks.get('p-mic')).toBe(remoteMic);
    expect([...r.remoteParticipants.keys()]).toEqual(['dr-zhang', 'nurse-wu']);
    expect(r.localParticipant.tracks.get(mic.trackId)).toBe(mic);
    expect(mic.isEnded).toBe(false);
  });

  it('mutes at once while reconnecting and tells the server once back; unpublishes too', async () => {
    const { r, mic } = await inCall();
    ctx.room = r;
    const cam = await r.localParticipant.publishCamera({ track: fakeTrack('video') });
    const reconnecting = nextEvent(r, 'reconnecting');
    // Hold the next resume until the mute and unpublish have happened.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const join = ctx.server.handlers.join!;
    ctx.server.handlers.join = async (data, s) => {
      await held;
      return join(data, s);
    };
    ctx.server.drop();
    await reconnecting;
    await r.localParticipant.setMicrophoneEnabled(false);
    expect(mic.muted).toBe(true);
    expect(mic.mediaStreamTrack.enabled).toBe(false);
    await cam.unpublish();
    await expect(mic.unmute()).rejects.toMatchObject({ code: ErrorCode.CONNECTION_FAILED });
    await expect(r.sendChat('hi')).rejects.toMatchObject({
      code: ErrorCode.CONNECTION_FAILED,
      reason: 'connectionLost',
    });
    const reconnected = nextEvent(r, 'reconnected');
    release();
    await reconnected;
    expect(ctx.server.published.get(mic.trackId)?.muted).toBe(true);
    expect(ctx.server.published.has(cam.trackId)).toBe(false);
    expect(ctx.server.requests.filter((q) => q.method === 'closeProducer').map((q) => q.data.producerId)).toEqual([
      cam.trackId,
    ]);
  });

  it('reconnects again when the socket drops while a resume is still being finished', async () => {
    const { r } = await inCall();
    ctx.room = r;
    // The first resume is answered, then the socket dies while the SDK restarts ICE (its media sync).
    const restartIce = ctx.server.handlers.restartIce!;
    let dropped = false;
    ctx.server.handlers.restartIce = async (data, s) => {
      if (!dropped) {
        // Gone before it answers: the SDK logs the failed ICE restart and finishes the resume on a dead socket.
        dropped = true;
        ctx.server.drop();
      }
      return restartIce(data, s);
    };
    const joinsBefore = ctx.server.requests.filter((q) => q.method === 'join').length;
    ctx.server.drop();
    await vi.waitFor(
      () => expect(ctx.server.requests.filter((q) => q.method === 'join').length).toBe(joinsBefore + 2),
      {
        timeout: 5_000,
      },
    );
    await vi.waitFor(() => expect(r.state).toBe('connected'));
    expect(ctx.server.socket?.readyState).toBe(1);
  });

  it('takes in what changed while away from the room view when notifications were lost', async () => {
    const { r, remoteMic } = await inCall();
    ctx.room = r;
    const events = recordEvents(r, [
      'participantLeft',
      'trackUnsubscribed',
      'roomUpdated',
      'waitingRoomChanged',
      'chat',
    ]);
    // Dr Zhang left and someone is waiting, but the notifications died with the old socket: only the view says so.
    ctx.server.others = [];
    const info = ctx.server.roomView().room;
    ctx.server.view = {
      room: { ...info, locked: true },
      waitingRoom: [{ identity: 'pt-1', name: 'P', role: 'patient', since: 1 }],
      chatHistory: [chat(1, 'bye')],
    };
    const reconnected = nextEvent(r, 'reconnected');
    ctx.server.drop();
    await reconnected;
    expect(events).toEqual([
      'roomUpdated',
      'waitingRoomChanged',
      'chat',
      'trackUnsubscribed:p-mic',
      'participantLeft:dr-zhang',
    ]);
    expect(remoteMic.isEnded).toBe(true);
    expect(r.info?.locked).toBe(true);
    expect(r.waitingRoom.map((w) => w.identity)).toEqual(['pt-1']);
    // A late replay of the leave changes nothing.
    ctx.server.notify('participantLeft', { identity: 'dr-zhang', reason: 'left' });
    ctx.server.notify('consumerClosed', { consumerId: 'c-1', trackId: 'p-mic', participantIdentity: 'dr-zhang' });
    await sleep(30);
    expect(events.filter((e) => e.startsWith('participantLeft'))).toHaveLength(1);
  });

  it('joins afresh when the server no longer has the session, re-subscribing and republishing', async () => {
    const { r, remoteMic, mic } = await inCall();
    ctx.room = r;
    await mic.mute();
    const events = recordEvents(r, [...WATCHED]);
    ctx.server.sessionExpired = true;
    const { reconnected, after } = await dropUntilResubscribed(r);
    expect(reconnected).toEqual([false]);

    expect(after.slice(0, 2).map((q) => [q.method, q.data.resumeSessionId])).toEqual([
      ['join', 'sess-1'],
      ['join', undefined],
    ]);
    expect(r.sessionId).toBe('sess-2');
    // The microphone is published again on the new session, still muted, as the same LocalTrack.
    const produce = after.find((q) => q.method === 'produce');
    expect(produce?.data).toMatchObject({ source: 'microphone', kind: 'audio', paused: true });
    expect(mic.isEnded).toBe(false);
    expect(mic.muted).toBe(true);
    expect(mic.trackId).not.toBe('prod-1');
    expect(r.localParticipant.tracks.get(mic.trackId)).toBe(mic);
    expect(r.localParticipant.tracks.size).toBe(1);
    expectMicReceivedAnew(r, remoteMic, events, false);
  });

  it('resumes on the node that took the room over: the same session, its media set up again there', async () => {
    const { r, remoteMic, mic } = await inCall();
    ctx.room = r;
    const events = recordEvents(r, [...WATCHED]);
    ctx.server.mediaMoved = true;
    const { reconnected, after } = await dropUntilResubscribed(r);
    expect(reconnected).toEqual([true]);

    expect(after.filter((q) => q.method === 'join').map((q) => q.data.resumeSessionId)).toEqual(['sess-1']);
    expect(r.sessionId).toBe('sess-1');
    // Nothing of the old home is asked for; transports, capabilities and the microphone are set up anew.
    expect(after.some((q) => q.method === 'restartIce')).toBe(false);
    expect(after.filter((q) => q.method === 'createTransport')).toHaveLength(2);
    expect(after.some((q) => q.method === 'setRtpCapabilities')).toBe(true);
    expect(after.find((q) => q.method === 'produce')?.data).toMatchObject({ source: 'microphone', kind: 'audio' });
    expect(r.localParticipant.tracks.get(mic.trackId)).toBe(mic);
    expect(mic.isEnded).toBe(false);
    expectMicReceivedAnew(r, remoteMic, events, true);
  });

  it('restarts ICE when a transport stays disconnected, but not when it recovers by itself', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const recorder = recordingDevice();
    ctx.room = await connect(ctx.server.url, 't', options({ mediasoupDevice: recorder.device }));
    const handler = recorder.handlers[0] as unknown as { setConnectionState(state: string): void };
    handler.setConnectionState('connected');
    handler.setConnectionState('disconnected');
    vi.advanceTimersByTime(2000);
    handler.setConnectionState('connected');
    vi.advanceTimersByTime(5000);
    await sleep(20);
    expect(ctx.server.methods()).not.toContain('restartIce');
    handler.setConnectionState('disconnected');
    vi.advanceTimersByTime(3000);
    await ctx.server.waitForRequest('restartIce');
  });

  it('gives up as the policy says and disconnects with connectionLost', async () => {
    const policy = fastPolicy(10, 3);
    ctx.room = await connect(ctx.server.url, 't', options({ reconnectPolicy: policy }));
    const events = recordEvents(ctx.room, ['connectionStateChanged', 'reconnecting', 'reconnected', 'disconnected']);
    const disconnected = nextEvent(ctx.room, 'disconnected');
    await ctx.server.close();
    const [reason, error] = await disconnected;
    expect(reason).toBe(DisconnectReason.ConnectionLost);
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error).toMatchObject({ code: ErrorCode.CONNECTION_FAILED, reason: 'connectionLost' });
    expect(error?.message).toMatch(/could not be restored \(3 attempts/);
    expect(policy.contexts.map((c) => c.retryCount)).toEqual([0, 1, 2, 3]);
    expect(policy.contexts[0]?.closeCode).toBe(1006);
    expect(events).toEqual([
      'connectionStateChanged:reconnecting',
      'reconnecting',
      'connectionStateChanged:disconnected',
      'disconnected:connectionLost',
    ]);
    expect(ctx.room.state).toBe('disconnected');
    ctx.server = await FakeHuizhenServer.start();
  });

  it.each([
    ['REMOVED', 4008, DisconnectReason.Removed],
    ['ROOM_ENDED', 4009, DisconnectReason.RoomEnded],
    ['TOKEN_EXPIRED', 4006, DisconnectReason.TokenExpired],
    ['DUPLICATE_IDENTITY', 4003, DisconnectReason.DuplicateIdentity],
    ['ADMISSION_DENIED', 4007, DisconnectReason.AdmissionDenied],
  ] as const)('does not reconnect after the server closed the session with %s', async (code, closeCode, expected) => {
    ctx.room = await connect(ctx.server.url, 't', options());
    const events = recordEvents(ctx.room, ['reconnecting', 'disconnected']);
    const disconnected = nextEvent(ctx.room, 'disconnected');
    ctx.server.notify('sessionClosed', { code, reason: 'closed on purpose' });
    ctx.server.socket?.close(closeCode, code);
    const [reason, error] = await disconnected;
    expect(reason).toBe(expected);
    expect(error).toMatchObject({ code, message: 'closed on purpose' });
    await sleep(60);
    expect(events).toEqual([`disconnected:${expected}`]);
    expect(ctx.server.connections).toBe(1);
  });

  it('joins again when the server says the room moved to another node of the cluster', async () => {
    ctx.room = await connect(ctx.server.url, 't', options());
    const events = recordEvents(ctx.room, ['reconnecting', 'reconnected', 'disconnected']);
    ctx.server.sessionExpired = true;
    const reconnected = nextEvent(ctx.room, 'reconnected');
    ctx.server.notify('sessionClosed', { code: 'ROOM_ON_OTHER_NODE', reason: 'This room moved to another node' });
    ctx.server.socket?.close(4004, 'ROOM_ON_OTHER_NODE');
    expect(await reconnected).toEqual([false]);
    expect(events).toEqual(['reconnecting', 'reconnected:false']);
    expect(ctx.room.state).toBe('connected');
  });

  it('does not reconnect when the socket closes with a session-ending code and no notification', async () => {
    ctx.room = await connect(ctx.server.url, 't', options());
    const disconnected = nextEvent(ctx.room, 'disconnected');
    ctx.server.socket?.close(4008, 'removed');
    expect((await disconnected)[0]).toBe(DisconnectReason.Removed);
    await sleep(60);
    expect(ctx.server.connections).toBe(1);
  });

  it('stops when a reconnect is refused for good', async () => {
    ctx.room = await connect(ctx.server.url, 't', options());
    ctx.server.handlers.join = () => {
      throw new WireFailure('REMOVED', 'You were removed from this room and cannot rejoin it.');
    };
    const disconnected = nextEvent(ctx.room, 'disconnected');
    ctx.server.drop();
    const [reason, error] = await disconnected;
    expect(reason).toBe(DisconnectReason.Removed);
    expect(error).toMatchObject({ code: ErrorCode.REMOVED });
    // The first join, then one refused reconnect: no more attempts.
    expect(ctx.server.methods().filter((m) => m === 'join')).toHaveLength(2);
  });

  it('keeps trying through failed attempts (server briefly away)', async () => {
    ctx.room = await connect(ctx.server.url, 't', options());
    let refusals = 2;
    const join = ctx.server.handlers.join!;
    ctx.server.handlers.join = (data, s) => {
      if (refusals-- > 0) {
        setTimeout(() => s.drop(), 5);
        return undefined;
      }
      return join(data, s);
    };
    const reconnected = nextEvent(ctx.room, 'reconnected');
    ctx.server.drop();
    expect(await reconnected).toEqual([true]);
    expect(ctx.server.connections).toBe(4);
  });

  it('stops reconnecting on disconnect()', async () => {
    ctx.room = await connect(ctx.server.url, 't', options({ reconnectPolicy: fastPolicy(200) }));
    const reconnecting = nextEvent(ctx.room, 'reconnecting');
    ctx.server.drop();
    await reconnecting;
    const disconnected = nextEvent(ctx.room, 'disconnected');
    await ctx.room.disconnect();
    expect(await disconnected).toEqual([DisconnectReason.ClientInitiated, undefined]);
    await sleep(300);
    expect(ctx.server.connections).toBe(1);
  });

  it('ends with tokenExpired when a reconnect has only an expired token and no provider', async () => {
    ctx.room = await connect(ctx.server.url, 't', options());
    ctx.server.handlers.join = () => {
      throw new WireFailure('TOKEN_EXPIRED', 'The token expired.');
    };
    const disconnected = nextEvent(ctx.room, 'disconnected');
    ctx.server.drop();
    expect(await disconnected).toMatchObject([DisconnectReason.TokenExpired, { code: ErrorCode.TOKEN_EXPIRED }]);
  });
});

describe('Room token refresh', () => {
  const ctx = useFakeServer();
  /** What each refresh test connects with; only the token provider differs. */
  const withProvider = (tokenProvider: TokenProvider): ConnectOptions => ({
    heartbeatIntervalMs: 0,
    webSocketFactory,
    mediasoupDevice,
    tokenProvider,
    reconnectPolicy: fastPolicy(),
  });

  it('refreshes at 80 % of the token lifetime with the provider, and reconnects with the fresh token', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    let issued = 0;
    const tokenProvider = vi.fn(async () => `fresh-${++issued}`);
    ctx.server.tokenExpiresIn = 100;
    ctx.server.handlers.refreshToken = () => ({ tokenExpiresIn: 100 });
    ctx.room = await connect(ctx.server.url, 'first', withProvider(tokenProvider));
    expect(ctx.room.tokenExpiresAt).toBeGreaterThan(Date.now() + 99_000);

    vi.advanceTimersByTime(79_000);
    await sleep(20);
    expect(tokenProvider).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1_000);
    const refresh = await ctx.server.waitForRequest('refreshToken');
    expect(refresh.data).toEqual({ token: 'fresh-1' });
    expect(tokenProvider).toHaveBeenCalledTimes(1);
    await vi.waitFor(() => expect(ctx.room!.tokenExpiresAt).toBeGreaterThan(Date.now() + 99_000));

    // The refreshed token still has plenty of time: a reconnect uses it as is.
    const reconnected = nextEvent(ctx.room, 'reconnected');
    ctx.server.drop();
    await reconnected;
    expect(ctx.server.requests.filter((q) => q.method === 'join').at(-1)?.data).toMatchObject({
      token: 'fresh-1',
      resumeSessionId: 'sess-1',
    });
    expect(tokenProvider).toHaveBeenCalledTimes(1);
  });

  it('asks the provider for a new token when reconnecting with one about to expire', async () => {
    const tokenProvider = vi.fn(async () => 'renewed');
    ctx.server.tokenExpiresIn = 20;
    ctx.room = await connect(ctx.server.url, 'old', withProvider(tokenProvider));
    const reconnected = nextEvent(ctx.room, 'reconnected');
    ctx.server.drop();
    await reconnected;
    expect(ctx.server.requests.filter((q) => q.method === 'join').map((q) => q.data.token)).toEqual(['old', 'renewed']);
  });

  it('retries with a new token when the server says the reconnect token expired', async () => {
    const tokenProvider = vi.fn(async () => 'renewed');
    ctx.room = await connect(ctx.server.url, 'old', withProvider(tokenProvider));
    const join = ctx.server.handlers.join!;
    ctx.server.handlers.join = (data, s) => {
      if (data.token === 'old') throw new WireFailure('TOKEN_EXPIRED', 'expired');
      return join(data, s);
    };
    const reconnected = nextEvent(ctx.room, 'reconnected');
    ctx.server.drop();
    await reconnected;
    expect(ctx.server.requests.filter((q) => q.method === 'join').map((q) => q.data.token)).toEqual([
      'old',
      'old',
      'renewed',
    ]);
  });

  it('ends with tokenExpired when the token could not be refreshed', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const tokenProvider = vi.fn(async (): Promise<string> => {
      throw new Error('identity provider unreachable');
    });
    ctx.server.tokenExpiresIn = 10;
    ctx.room = await connect(ctx.server.url, 't', withProvider(tokenProvider));
    vi.advanceTimersByTime(8_000);
    await vi.waitFor(() => expect(tokenProvider).toHaveBeenCalled());
    // The server gives up on the session at expiry.
    const disconnected = nextEvent(ctx.room, 'disconnected');
    ctx.server.notify('sessionClosed', {
      code: 'TOKEN_EXPIRED',
      reason: 'Your access token expired and was not renewed.',
    });
    ctx.server.socket?.close(4006, 'TOKEN_EXPIRED');
    const [reason, error] = await disconnected;
    expect(reason).toBe(DisconnectReason.TokenExpired);
    expect(error).toMatchObject({ code: ErrorCode.TOKEN_EXPIRED });
    expect(ctx.server.connections).toBe(1);
  });

  it('does not refresh without a provider', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    ctx.server.tokenExpiresIn = 10;
    ctx.room = await connect(ctx.server.url, 't', { heartbeatIntervalMs: 0, webSocketFactory, mediasoupDevice });
    vi.advanceTimersByTime(20_000);
    await sleep(20);
    expect(ctx.server.methods()).not.toContain('refreshToken');
  });
});
